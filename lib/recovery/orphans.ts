import { z } from 'zod';
import {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  SOURCE_ANNOTATION,
  SOURCE_UID_LABEL,
  WORKSPACE_ANNOTATION,
} from '../api/labels';
import { describeRef, gvrKey, type ObjectRef } from '../api/object-ref';
import type { ClusterInfo } from '../placement/types';
import type { KubeClient, KubeObject } from '../ports/kube-client';
import type { SyncRecord } from '../ports/sync-state-store';
import { typeScope } from './deletion-guard';
import { act, newTrace, type RecoverySweepDeps, type RecoverySweepReport } from './deps';
import { ownersOf } from '../sync/shared-ownership';

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

const identity = (o: { uid?: string; namespace?: string; name: string }): string =>
  o.uid || `${o.namespace ?? ''}/${o.name}`;

/** kcp's objects of one type as one successful LIST answered them, and when that LIST was sent (epoch ms). */
interface KcpListing {
  ids: Set<string>;
  listedAt: number;
}

/** kcp's objects of one type, listed once per sweep and workspace (uids, and namespace/name for objects without one). */
export type KcpIndex = Map<string, Promise<KcpListing>>;

/**
 * The kcp listing of a type, shared by the clusters of one sweep so an idle sweep costs one LIST per type. Each
 * candidate it suggests is checked again by a direct GET, since clusters checked later compare with an older list.
 */
function kcpListing(deps: RecoverySweepDeps, index: KcpIndex, workspace: string, gvr: Gvr): Promise<KcpListing> {
  const key = `${workspace}|${gvrKey(gvr)}`;
  let found = index.get(key);
  if (!found) {
    found = (async () => {
      const kcp = await deps.kube.kcp(workspace);
      const listedAt = deps.now();
      const items = await kcp.list(gvr);
      const ids = new Set<string>();
      for (const o of items) {
        if (o.metadata.uid) ids.add(o.metadata.uid);
        ids.add(`${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`);
      }
      return { ids, listedAt };
    })();
    index.set(key, found);
    found.catch(() => index.delete(key));
  }
  return found;
}

/** Clocks of tmc's functions may differ by this much: a sync item written this close to the list counts as newer. */
export const CLOCK_SKEW_MS = 5000;

/**
 * Whether tmc wrote the copy after kcp's list was sent (its sync item, in tmc's clock, is newer): its source may be
 * newer than the list, so the list says nothing about it. Copies without an item in the page are left to the GET.
 */
function newerThanList(record: SyncRecord | undefined, listedAt: number): boolean {
  const written = record ? Date.parse(record.updatedAt) : Number.NaN;
  return Number.isFinite(written) && written + CLOCK_SKEW_MS > listedAt;
}

const recordOf = (records: SyncRecord[], ref: ObjectRef, gvr: Gvr): SyncRecord | undefined =>
  records.find((r) => r.ref.namespace === ref.namespace && r.ref.name === ref.name && gvrKey(r.ref) === gvrKey(gvr));

type Candidate = { ref: ObjectRef; object: KubeObject };

/**
 * Orphans: objects on the cluster that carry tmc's ownership labels for this workspace but whose kcp source is gone.
 * The types looked at are those tmc recorded on the cluster. A copy is deleted only on positive evidence:
 * 1. kcp's list of the type (read after the cluster's, or earlier in this sweep) has neither its uid nor its name,
 *    and tmc wrote the copy before that list was sent;
 * 2. the deletion guard admits the batch (per workspace, cluster and type: an empty list of a type with many
 *    objects holds them all);
 * 3. a direct GET in kcp answers NotFound (any error stops: retried next sweep);
 * 4. the absence ledger holds an earlier such sighting, at least `absentConfirmSeconds` old.
 * Types with no candidate are added to `quiet`: a hold there has nothing left to hold.
 */
export async function removeOrphans(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  workspace: string,
  cluster: ClusterInfo,
  records: SyncRecord[],
  index: KcpIndex,
  quiet: Set<string>,
): Promise<void> {
  const types = new Map<string, Gvr>();
  for (const r of records)
    if (r.ref.workspace === workspace && r.ref.resource !== 'namespaces')
      types.set(gvrKey(r.ref), { group: r.ref.group, version: r.ref.version, resource: r.ref.resource });
  if (types.size === 0) return;
  const client: KubeClient = await deps.kube.cluster(workspace, cluster.name);
  for (const gvr of types.values()) {
    const live = await client.list(gvr, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}` });
    const mine = live.flatMap((object) => {
      const ref = sourceOf(object, workspace);
      return ref ? [{ ref, object }] : [];
    });
    const scope = typeScope(workspace, cluster.name, gvr);
    if (mine.length === 0) {
      quiet.add(scope);
      continue;
    }
    const { ids, listedAt } = await kcpListing(deps, index, workspace, gvr);
    // A cluster-scoped copy another workspace also owns is not this workspace's to remove (its delete path hands it over).
    const candidates = mine.filter(
      (m) =>
        ownersOf(m.object).every((o) => o.workspace === workspace) &&
        !ids.has(identity(m.ref)) &&
        !ids.has(`${m.ref.namespace ?? ''}/${m.ref.name}`) &&
        !newerThanList(recordOf(records, m.ref, gvr), listedAt),
    );
    if (candidates.length === 0) {
      quiet.add(scope);
      continue;
    }
    await removeTypeOrphans(
      deps,
      report,
      { workspace, cluster: cluster.name, gvr, scope, client },
      candidates,
      mine.length,
      records,
    );
  }
}

async function removeTypeOrphans(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  where: { workspace: string; cluster: string; gvr: Gvr; scope: string; client: KubeClient },
  candidates: Candidate[],
  total: number,
  records: SyncRecord[],
): Promise<void> {
  const { workspace, cluster, gvr, scope, client } = where;
  const resource = gvrKey(gvr);
  const why = `The orphan sweep of ${cluster} found ${candidates.length} ${resource} of ${workspace} missing from kcp's list`;
  const { admitted, held } = await deps.guard.admitBatch(
    scope,
    candidates.map((c) => c.ref),
    total,
    why,
  );
  if (held > 0) report.actions['deletion-hold:held'] = (report.actions['deletion-hold:held'] ?? 0) + 1;
  if (admitted.length === 0) return;
  const kcp = await deps.kube.kcp(workspace);
  const deleted: ObjectRef[] = [];
  for (const c of candidates.filter((c) => admitted.includes(c.ref))) {
    const fields = { workspace, cluster, gvr: resource, namespace: c.ref.namespace, name: c.ref.name };
    // kcp's truth for this one object now: a list can be older than the copy, or incomplete. Errors propagate.
    const source = await kcp.get({ ...gvr, namespace: c.ref.namespace, name: c.ref.name });
    if (source) {
      deps.log.debug(`Keeping ${describeRef(c.ref)} on ${cluster}: kcp has it, though its list did not`, fields);
      await deps.guard.observePresent(c.ref);
      continue;
    }
    if (!(await deps.guard.observeAbsent(c.ref))) {
      deps.log.info(
        `Keeping ${describeRef(c.ref)} on ${cluster} until a later sweep confirms kcp no longer has it`,
        fields,
      );
      report.actions['orphan-delete:waiting'] = (report.actions['orphan-delete:waiting'] ?? 0) + 1;
      continue;
    }
    deps.log.warn(
      `Deleting orphan ${describeRef(c.ref)} from ${cluster}: kcp confirmed twice that it no longer has it`,
      fields,
    );
    await client.delete({ ...gvr, namespace: c.object.metadata.namespace, name: c.object.metadata.name ?? c.ref.name });
    deps.metrics.increment('tmc_recovery_orphan_deletions_total', { cluster, resource });
    // The sweep reads one page of the cluster's items: the orphan's own item may be on another page.
    const record = recordOf(records, c.ref, gvr) ?? (await deps.syncState.get(c.ref, cluster));
    if (record && record.state !== 'deleted')
      await deps.syncState.put({ ...record, state: 'deleted', updatedAt: new Date(deps.now()).toISOString() });
    await act(deps, report, {
      action: 'orphan-delete',
      outcome: 'succeeded',
      why: `${describeRef(c.ref)} on ${cluster} has no source in kcp ${workspace} (absent from its list and a GET, confirmed after a delay)`,
      workspace,
      cluster,
      ref: c.ref,
    });
    deleted.push(c.ref);
  }
  // A decision may still place them: placement now sees the confirmed absence and removes it (and other copies).
  if (deleted.length)
    await deps.placementQueue.send(
      deleted.map((ref) => ({
        type: 'placement' as const,
        ref,
        reason: 'resync' as const,
        trace: newTrace(deps.now()),
      })),
    );
}
