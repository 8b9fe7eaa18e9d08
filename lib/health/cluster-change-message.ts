import { randomUUID } from 'node:crypto';
import type { PlacementMessage } from '../api/messages';
import {
  SYNC_TARGET_GROUP,
  SYNC_TARGET_KIND,
  SYNC_TARGET_RESOURCE,
  SYNC_TARGET_VERSION,
} from '../api/crds/sync-target';

/**
 * The placement message sent when a cluster enters or leaves Unhealthy: it names the SyncTarget (not a workload), and
 * placement re-evaluates what that cluster's health change affects.
 */
export function clusterChangeMessage(
  workspace: string,
  syncTarget: string,
  now: number,
  traceId: string = randomUUID(),
): PlacementMessage {
  return {
    type: 'placement',
    reason: 'cluster-change',
    ref: {
      workspace,
      group: SYNC_TARGET_GROUP,
      version: SYNC_TARGET_VERSION,
      resource: SYNC_TARGET_RESOURCE,
      kind: SYNC_TARGET_KIND,
      name: syncTarget,
    },
    trace: { traceId, enqueuedAt: new Date(now).toISOString() },
  };
}
