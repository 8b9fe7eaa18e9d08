// Bundled in place of socks-proxy-agent (infra/bundling.ts): client-node's KubeConfig builds one only for a cluster
// whose kubeconfig names a `socks…` proxy-url, which tmc's functions do not support (a cluster behind a proxy is
// reached through an HTTP(S) proxy or the pull mode's syncer). Leaving it out saves socks, ip-address and
// smart-buffer (~72 KiB minified); a kubeconfig that asks for one fails with this error instead of connecting.
export class SocksProxyAgent {
  constructor(proxyUrl) {
    throw new Error(
      `The cluster's kubeconfig names a SOCKS proxy (${String(proxyUrl).split('@').pop()}), which tmc's functions do not support; use an HTTP(S) proxy-url`,
    );
  }
}
