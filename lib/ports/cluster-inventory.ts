import type { ObjectRef } from '../api/object-ref';
import type { Taint } from '../api/crds';
import type { ClusterInfo, Resources } from '../placement/types';

/**
 * A SyncTarget as tmc mirrors it in DynamoDB (`CLUSTER#<name>` / `META#<workspace>`, gsi1 `CLUSTERS` /
 * `<workspace>|<name>`): what placement needs to decide, and the credentials *reference* sync needs to connect.
 * Heartbeats are left out on purpose, so a heartbeat is not a write.
 */
export interface SyncTargetMirror {
  workspace: string;
  name: string;
  uid?: string;
  endpoint: string;
  /** `secretRef:<ns>/<name>`, `secretsManager:<arn>` or `eks:<region>/<cluster>`: never the credentials. */
  credentialsRef: string;
  labels: Record<string, string>;
  taints: Taint[];
  unschedulable: boolean;
  evictAfterSeconds?: number;
  /** `spec.allowedRiskyKinds`: kinds reaching beyond one tenant that may be placed here (lib/placement/risky-kinds.ts). */
  allowedRiskyKinds?: string[];
  /** Total room (status.capacity, else spec.capacity). */
  capacity?: Resources;
  /** Free room as the cluster reports it (status.allocatable); capacity − allocatable is what is in use. */
  allocatable?: Resources;
  /** Hash of every field above: an unchanged SyncTarget writes nothing. */
  hash: string;
  updatedAt: string;
}

export interface ClusterInventory {
  /** Every SyncTarget of the workspace, merged with its health (no health record: Unknown, still usable). */
  list(workspace: string): Promise<ClusterInfo[]>;
  getMirror(workspace: string, name: string): Promise<SyncTargetMirror | undefined>;
  putMirror(mirror: SyncTargetMirror): Promise<void>;
  deleteMirror(workspace: string, name: string): Promise<void>;
  /** Objects sync-apply recorded on a cluster (gsi1 `CLUSTER#<name>`), at most `limit`. */
  objectsOn(cluster: string, limit: number): Promise<ObjectRef[]>;
}
