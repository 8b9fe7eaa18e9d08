// Bundled in place of client-node's gcp_auth.js and azure_auth.js (infra/bundling.ts): these legacy auth providers run
// a command on the host (gcloud, az) and read its output with jsonpath-plus (~25 KiB), which a Lambda cannot do, as
// with exec plugins. A kubeconfig that names one fails with this error instead; use a token or EKS credentials.
class CommandAuthProvider {
  constructor(name) {
    this.name = name;
  }
  isAuthProvider(user) {
    return user?.authProvider?.name === this.name;
  }
  async applyAuthentication() {
    throw new Error(
      `The kubeconfig uses the '${this.name}' auth-provider, which runs a command tmc's functions cannot run: use a bearer token (or the pull mode's syncer)`,
    );
  }
}
export class GoogleCloudPlatformAuth extends CommandAuthProvider {
  constructor() {
    super('gcp');
  }
}
export class AzureAuth extends CommandAuthProvider {
  constructor() {
    super('azure');
  }
}
