/**
 * Where a deployed stack keeps each pull-mode SyncTarget's syncer credential itself (the table keeps only its digest):
 * Secrets Manager, read by the operator's `tmc syncer kubeconfig`, never by a function.
 */
export interface SyncerCredentialSecrets {
  /** The stored credential, or undefined when none was ever stored under `name`. */
  read(name: string): Promise<string | undefined>;
  /** Stores `credential` under `name`, creating the secret the first time. */
  write(name: string, credential: string): Promise<void>;
}
