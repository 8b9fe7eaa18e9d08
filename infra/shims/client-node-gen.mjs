// Bundled in place of @kubernetes/client-node's dist/gen/index.js where its KubeConfig (dist/config.js) imports it
// (infra/bundling.ts, clientNodeConfigPlugin): config.js uses only these two names from that barrel, whose
// `export * from "./models/all.js"` drags in every generated API model (~313 KiB minified; each model's static
// assignments count as side effects, so esbuild cannot shake them). Relative paths: no alias or plugin applies.
export { createConfiguration } from '../../node_modules/@kubernetes/client-node/dist/gen/configuration.js';
export { ServerConfiguration } from '../../node_modules/@kubernetes/client-node/dist/gen/servers.js';
