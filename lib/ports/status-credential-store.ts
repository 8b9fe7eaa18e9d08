/**
 * Per-cluster status webhook credentials, kept only as SHA-256 digests: a managed cluster (EKS, GKE, AKS) cannot give
 * its API server a bearer token for webhooks, so its status webhook URL carries a secret in the path instead.
 */
export interface StatusCredentialStore {
  /** The digests accepted for `cluster` right now, newest first; empty when none was issued or it was revoked. */
  digests(cluster: string): Promise<string[]>;
  /** Accepts `digest` for `cluster`; the newest previous one stays accepted for a grace period, so a rotation has no gap. */
  add(cluster: string, digest: string): Promise<void>;
  /** Accepts nothing for `cluster` any more. */
  revoke(cluster: string): Promise<void>;
}
