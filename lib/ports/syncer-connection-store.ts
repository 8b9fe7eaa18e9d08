/**
 * The change feed's open connections, per SyncTarget (subject `<workspace>|<SyncTarget>`): recorded on `$connect`,
 * forgotten on `$disconnect` or when a post finds the connection gone. Only ids: never a credential.
 */
export interface SyncerConnectionStore {
  add(subject: string, connectionId: string): Promise<void>;
  /** Forgetting a connection that is not recorded succeeds. */
  remove(subject: string, connectionId: string): Promise<void>;
  /** The connections of `subject` not yet expired, in one strongly consistent Query. */
  list(subject: string): Promise<string[]>;
}
