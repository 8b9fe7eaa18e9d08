import { z } from 'zod';
import type { PlacementMessage, SyncMessage } from '../api/messages';
import { objectKey, type ObjectRef } from '../api/object-ref';
import type { KubeObject } from '../ports/kube-client';
import type { ClusterInventory } from '../ports/cluster-inventory';
import type { DecisionStore } from '../ports/decision-store';
import type { WorkQueue } from '../ports/work-queue';
import type { Log } from '../observability/log';

const DefinitionSchema = z.object({
  spec: z.object({ group: z.string().min(1), names: z.object({ plural: z.string().min(1) }) }),
});

/** What resuming reads and sends: the part of the placement deps (lib/placement/reconcile.ts) it uses. */
interface ResumeDeps {
  inventory: Pick<ClusterInventory, 'objectsOn'>;
  decisions: Pick<DecisionStore, 'getMany'>;
  syncQueue: WorkQueue<SyncMessage>;
  log: Log;
  fanoutLimit?: number;
}

export function isDefinitionRef(ref: ObjectRef): boolean {
  return ref.group === 'apiextensions.k8s.io' && ref.resource === 'customresourcedefinitions';
}

/**
 * A CRD newly placed on clusters: the custom resources of its kind that sync-apply recorded there (one that gave up
 * waiting for the CRD is recorded `ClusterConfiguration`) are sent to sync again toward their current decision, so
 * they complete once the CRD lands, without an edit. Sync waits for the CRD to be Established; a copy already applied
 * costs a no-op resync. Bounded by the fan-out limit. Returns the messages sent.
 */
export async function resumeCustomResources(
  deps: ResumeDeps,
  from: PlacementMessage,
  crd: KubeObject,
  workspace: string,
  clusters: readonly string[],
): Promise<number> {
  const parsed = DefinitionSchema.safeParse(crd);
  if (!parsed.success || clusters.length === 0) return 0;
  const { group, names } = parsed.data.spec;
  const limit = deps.fanoutLimit ?? 1000;
  const pairs: Array<{ ref: ObjectRef; cluster: string }> = [];
  for (const cluster of clusters) {
    for (const ref of await deps.inventory.objectsOn(cluster, limit)) {
      if (ref.workspace === workspace && ref.group === group && ref.resource === names.plural)
        pairs.push({ ref, cluster });
    }
  }
  if (pairs.length === 0) return 0;
  const decisions = await deps.decisions.getMany(pairs.map((p) => p.ref));
  const messages: SyncMessage[] = [];
  for (const { ref, cluster } of pairs.slice(0, limit)) {
    const decision = decisions.get(objectKey(ref));
    if (!decision?.clusters.some((c) => c.name === cluster)) continue;
    messages.push({
      type: 'sync',
      ref,
      cluster,
      action: 'apply',
      decisionVersion: decision.decisionVersion,
      trace: from.trace,
    });
  }
  if (messages.length === 0) return 0;
  deps.log.info(
    `CustomResourceDefinition ${names.plural}.${group} placed on ${clusters.join(', ')}: syncing ${messages.length} custom resource(s) of its kind there again`,
    { workspace },
  );
  await deps.syncQueue.send(messages);
  return messages.length;
}
