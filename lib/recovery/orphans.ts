import { z } from 'zod';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, SOURCE_ANNOTATION, SOURCE_UID_LABEL, WORKSPACE_ANNOTATION } from '../api/labels';
import { describeRef, gvrKey, type ObjectRef } from '../api/object-ref';
import type { ClusterInfo } from '../placement/types';
import type { KubeClient, KubeObject } from '../ports/kube-client';
import type { SyncRecord } from '../ports/sync-state-store';
import { clusterScope } from './deletion-guard';
import { act, type RecoverySweepDeps, type RecoverySweepReport } from './deps';

/** What sync-apply writes in `tmc.kcp.io/source` on every downstream object. */
const SourceSchema = z.object({
  group: z.string(),
  version: z.string(),
  resource: z.string(),
  kind: z.string(),
  namespace: z.string().optional(),
  name: z.string(),
});

type Gvr = { group: string; version: string; resource: string };

/** kcp's objects of one type, listed once per sweep and workspace: uids, and namespace/name for objects without one. */
export type KcpIndex = Map<string, Promise<Set<string>>>;

function sourceOf(object: KubeObject, workspace: string): ObjectRef | undefined {
  const raw = object.metadata.annotations?.[SOURCE_ANNOTATION];
  if (object.metadata.annotations?.[WORKSPACE_ANNOTATION] !== workspace || raw === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined; // not written by tmc: never an orphan of ours
  }
  const parsed = SourceSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const uid = object.metadata.labels?.[SOURCE_UID_LABEL];
  return { workspace, ...parsed.data, ...(uid ? { uid } : {}) };
}

const identity = (o: { uid?: string; namespace?: string; name: string }): string => o.uid || `${o.namespace ?? ''}/${o.name}`;

async function kcpIdentities(deps: RecoverySweepDeps, index: KcpIndex, workspace: string, gvr: Gvr): Promise<Set<string>> {
  const key = `${workspace}|${gvrKey(gvr)}`;
  let found = index.get(key);
  if (!found) {
    found = (async () => {
      const kcp = await deps.kube.kcp(workspace);
      const items = await kcp.list(gvr);
      const ids = new Set<string>();
      for (const o of items) {
        if (o.metadata.uid) ids.add(o.metadata.uid);
        ids.add(`${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`);
      }
      return ids;
    })();
    index.set(key, found);
  }
  return found;
}

/**
 * Orphans: objects on the cluster that carry tmc's ownership labels for this workspace but whose kcp source is gone
 * (neither its uid nor its name is in kcp's list). The types looked at are those tmc recorded on the cluster. All
 * orphans of one cluster are one batch for the deletion guard: an empty kcp list makes everything look orphaned,
 * and then nothing is deleted.
 */
export async function removeOrphans(deps: RecoverySweepDeps, report: RecoverySweepReport, workspace: string, cluster: ClusterInfo, records: SyncRecord[], index: KcpIndex): Promise<void> {
  const types = new Map<string, Gvr>();
  for (const r of records) if (r.ref.workspace === workspace && r.ref.resource !== 'namespaces') types.set(gvrKey(r.ref), { group: r.ref.group, version: r.ref.version, resource: r.ref.resource });
  if (types.size === 0) return;
  const client: KubeClient = await deps.kube.cluster(workspace, cluster.name);
  const orphans: Array<{ ref: ObjectRef; object: KubeObject; gvr: Gvr }> = [];
  let total = 0;
  for (const gvr of types.values()) {
    const live = await client.list(gvr, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}` });
    const mine = live.flatMap((object) => {
      const ref = sourceOf(object, workspace);
      return ref ? [{ ref, object, gvr }] : [];
    });
    if (mine.length === 0) continue;
    total += mine.length;
    const known = await kcpIdentities(deps, index, workspace, gvr);
    for (const m of mine) if (!known.has(identity(m.ref)) && !known.has(`${m.ref.namespace ?? ''}/${m.ref.name}`)) orphans.push(m);
  }
  if (orphans.length === 0) return;
  const verdict = await deps.guard.admitBatch(clusterScope(cluster.name), orphans.map((o) => o.ref), total, `The orphan sweep of ${cluster.name} found ${orphans.length} object(s) whose kcp source is gone`);
  if (verdict === 'hold') {
    report.actions['deletion-hold:held'] = (report.actions['deletion-hold:held'] ?? 0) + 1;
    return;
  }
  for (const o of orphans) {
    const namespace = o.object.metadata.namespace;
    deps.log.info(`Deleting orphan ${describeRef(o.ref)} from ${cluster.name}: its kcp source is gone`, { cluster: cluster.name, workspace });
    await client.delete({ ...o.gvr, namespace, name: o.object.metadata.name ?? o.ref.name });
    // The sweep reads one page of the cluster's items: the orphan's own item may be on another page.
    const record = records.find((r) => r.ref.namespace === o.ref.namespace && r.ref.name === o.ref.name && gvrKey(r.ref) === gvrKey(o.gvr)) ?? (await deps.syncState.get(o.ref, cluster.name));
    if (record && record.state !== 'deleted') await deps.syncState.put({ ...record, state: 'deleted', updatedAt: new Date(deps.now()).toISOString() });
    await act(deps, report, { action: 'orphan-delete', outcome: 'succeeded', why: `${describeRef(o.ref)} on ${cluster.name} has no source in kcp ${workspace}`, workspace, cluster: cluster.name, ref: o.ref });
  }
}
