// Bundled in place of js-yaml (infra/bundling.ts), which @kubernetes/client-node's KubeConfig.loadFromString uses:
// tmc parses every kubeconfig with the `yaml` package first (lib/adapters/kube/kubeconfig.ts) and passes client-node
// only text that parsed, so the second YAML parser (~43 KiB minified) is `yaml` here too, with merge keys (`<<`) on as
// js-yaml's default schema has them.
import { parse, stringify } from 'yaml';

export function load(text) {
  return parse(text, { merge: true });
}

export function dump(value) {
  return stringify(value);
}

export default { load, dump };
