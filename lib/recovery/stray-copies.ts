import type { SyncMessage } from '../api/messages';
import { describeRef, gvrKey, objectKey, type ObjectRef } from '../api/object-ref';
import { downstreamNamespace } from '../api/labels';
import { NotFoundError } from '../errors/tmc-error';
import type { StoredDecision } from '../ports/decision-store';
import type { KubeObject } from '../ports/kube-client';
import { syncRecordKey, type SyncRecord } from '../ports/sync-state-store';
import { dependencyRefs } from '../sync/ensure-dependencies';
import { copyPresent } from '../sync/status/placed-condition';
import { act, newTrace, type RecoverySweepDeps, type RecoverySweepReport } from './deps';

/** A copy recorded on a cluster that its object's own decision neither names nor removed in its last change. */
export interface StrayCopy {
  decision: StoredDecision;
  cluster: string;
}

type Gvr = { group: string; version: string; resource: string };

/** Kinds whose pod templates take ConfigMaps, Secrets, ServiceAccounts and PVCs along (lib/sync/dependencies.ts). */
const WORKLOAD_KINDS: Gvr[] = [
  { group: 'apps', version: 'v1', resource: 'deployments' },
  { group: 'apps', version: 'v1', resource: 'statefulsets' },
  { group: 'apps', version: 'v1', resource: 'daemonsets' },
  { group: 'apps', version: 'v1', resource: 'replicasets' },
  { group: 'batch', version: 'v1', resource: 'jobs' },
  { group: 'batch', version: 'v1', resource: 'cronjobs' },
  { group: '', version: 'v1', resource: 'replicationcontrollers' },
];

/**
 * The copies of `decision`'s object that `records` (an entry per pair read, as in decisionGaps) show on a cluster the
 * decision does not name and its last change did not remove (those are decisionGaps' deletes): typically a ConfigMap or
 * Secret a workload took along as a dependency, left there when the workload moved away. Pure. Not judged: Namespaces
 * and cluster-scoped objects (shared between workspaces; a CRD's removal would take its custom resources), and
 * clusters the decision rejected for health or taints, or may have (a failover cleanup may still be waiting there).
 */
export function strayCopies(
  decision: StoredDecision,
  records: ReadonlyMap<string, SyncRecord | undefined>,
  clusters: Iterable<string>,
): StrayCopy[] {
  const { ref } = decision;
  if (ref.namespace === undefined || ref.resource === 'namespaces') return [];
  const named = new Set([...decision.clusters.map((c) => c.name), ...decision.diff.removed]);
  const out: StrayCopy[] = [];
  for (const cluster of clusters) {
    if (named.has(cluster) || !copyPresent(records.get(syncRecordKey(ref, cluster)))) continue;
    if (decision.reason !== 'Deleted') {
      const e = decision.explanation.find((x) => x.cluster === cluster);
      if (e ? e.rejectedBy === 'health' || e.rejectedBy === 'taints' : decision.explanationOmitted > 0) continue;
    }
    out.push({ decision, cluster });
  }
  return out;
}

/** kcp's objects of a kind in one namespace; a kind kcp does not serve has none. Any other error propagates. */
async function listInNamespace(
  deps: RecoverySweepDeps,
  workspace: string,
  gvr: Gvr,
  namespace: string,
): Promise<KubeObject[]> {
  const kcp = await deps.kube.kcp(workspace);
  try {
    return await kcp.list(gvr, { namespace });
  } catch (err) {
    if (err instanceof NotFoundError) return [];
    throw err;
  }
}

/**
 * The workloads of `namespace` in kcp that reference each object (by object key), from complete, successful lists of
 * the workload kinds and of every other kind tmc holds a copy of in that namespace on one of `clusters`.
 */
async function referencesIn(
  deps: RecoverySweepDeps,
  workspace: string,
  namespace: string,
  clusters: string[],
): Promise<Map<string, ObjectRef[]>> {
  const kinds = new Map(WORKLOAD_KINDS.map((g) => [gvrKey(g), g]));
  const downstream = downstreamNamespace(workspace, namespace);
  for (const cluster of clusters) {
    for (const r of await deps.syncState.listForCluster(cluster, { downstreamNamespace: downstream }))
      if (r.ref.resource !== 'namespaces')
        kinds.set(gvrKey(r.ref), { group: r.ref.group, version: r.ref.version, resource: r.ref.resource });
  }
  const referencing = new Map<string, ObjectRef[]>();
  for (const gvr of kinds.values()) {
    for (const object of await listInNamespace(deps, workspace, gvr, namespace)) {
      const ref: ObjectRef = {
        workspace,
        ...gvr,
        kind: object.kind,
        namespace,
        name: object.metadata.name ?? '',
        ...(object.metadata.uid ? { uid: object.metadata.uid } : {}),
      };
      for (const dep of dependencyRefs(ref, object)) {
        const key = objectKey(dep);
        referencing.set(key, [...(referencing.get(key) ?? []), ref]);
      }
    }
  }
  return referencing;
}

/**
 * Removes stray copies (see {@link strayCopies}) on positive evidence only, and through the deletion gate:
 * - a copy of an object kcp deleted (its decision `Deleted`) gets its delete, as a lost delete would;
 * - any other stray is kept while a workload of its namespace in kcp references it and is placed on that cluster, or
 *   still has a copy there, or its decision or record could not be read (complete, successful reads only: a failed
 *   list stops the pass, and the next sweep asks again);
 * - what is left asks the gate as an un-placement does (`unplace:<cluster>/<workspace>/<gvr>`): counted first and sent
 *   on a later sweep, held with the rest of a burst past the thresholds.
 * Nothing is deleted while deletions in the workspace or on one of its clusters are held (`held`).
 */
export async function removeStrayCopies(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  workspace: string,
  strays: StrayCopy[],
  held: boolean,
): Promise<SyncMessage[]> {
  if (strays.length === 0 || held) return [];
  const now = deps.now();
  const messages: SyncMessage[] = [];
  const send = async (stray: StrayCopy, why: string): Promise<void> => {
    messages.push({
      type: 'sync',
      ref: stray.decision.ref,
      cluster: stray.cluster,
      action: 'delete',
      decisionVersion: stray.decision.decisionVersion,
      trace: newTrace(now),
    });
    await act(deps, report, {
      action: 'resync-unsynced',
      outcome: 'enqueued',
      why,
      workspace,
      cluster: stray.cluster,
      ref: stray.decision.ref,
    });
  };
  const live: StrayCopy[] = [];
  for (const stray of strays) {
    const what = describeRef(stray.decision.ref);
    if (stray.decision.reason === 'Deleted')
      await send(stray, `${what} is deleted but its copy on ${stray.cluster} is still recorded`);
    else live.push(stray);
  }
  const byNamespace = new Map<string, StrayCopy[]>();
  for (const s of live) {
    const ns = s.decision.ref.namespace ?? '';
    byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), s]);
  }
  for (const [namespace, group] of byNamespace) {
    const clusters = [...new Set(group.map((s) => s.cluster))];
    const referencing = await referencesIn(deps, workspace, namespace, clusters);
    const users = [...new Map([...referencing.values()].flat().map((r) => [objectKey(r), r])).values()];
    const reads = await deps.syncState.readMany({
      decisions: users,
      records: users.flatMap((ref) => clusters.map((cluster) => ({ ref, cluster }))),
    });
    for (const stray of group) {
      const what = describeRef(stray.decision.ref);
      const fields = {
        workspace,
        cluster: stray.cluster,
        gvr: gvrKey(stray.decision.ref),
        namespace,
        name: stray.decision.ref.name,
      };
      const user = (referencing.get(objectKey(stray.decision.ref)) ?? []).find((ref) => {
        const key = objectKey(ref);
        const recordKey = syncRecordKey(ref, stray.cluster);
        if (!reads.decisions.has(key) || !reads.records.has(recordKey)) return true; // unanswered: keep
        const decision = reads.decisions.get(key);
        const record = reads.records.get(recordKey);
        return !decision || decision.clusters.some((c) => c.name === stray.cluster) || copyPresent(record);
      });
      if (user) {
        deps.log.debug(`Keeping ${what} on ${stray.cluster}: ${describeRef(user)} there references it`, fields);
        continue;
      }
      const verdict = await deps.guard.admitRemoval(stray.decision.ref, stray.cluster);
      if (verdict !== 'allow') {
        const key = `stray-delete:${verdict === 'hold' ? 'held' : 'waiting'}`;
        report.actions[key] = (report.actions[key] ?? 0) + 1;
        continue;
      }
      deps.log.warn(`Removing ${what} from ${stray.cluster}: its decision does not place it there`, fields);
      await send(
        stray,
        `${what} is not placed on ${stray.cluster}, no workload tmc placed there references it, but its copy there is still recorded`,
      );
    }
  }
  return messages;
}
