// Bundled in place of node-fetch (infra/bundling.ts): prometheus-remote-write falls back to it only when no `fetch`
// option is given, and lib/metrics/remote-write.ts always passes Node's fetch (or a SigV4-signing one).
module.exports = {
  default() {
    throw new Error('prometheus-remote-write needs a fetch option in tmc: node-fetch is not bundled');
  },
};
