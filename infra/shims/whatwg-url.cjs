// Bundled in place of the whatwg-url package (infra/bundling.ts). node-fetch 2 (under @kubernetes/client-node and
// prometheus-remote-write) imports it only as a fallback for runtimes without a global URL (`Url.URL ||
// whatwgUrl.URL`); Lambda's Node.js 22 has one, so the real package (its tr46 table alone is ~250 KiB minified) was
// dead weight in every bundle that carries node-fetch.
module.exports = { URL: globalThis.URL, URLSearchParams: globalThis.URLSearchParams };
