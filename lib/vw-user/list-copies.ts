import { z } from 'zod';
import { objectKey, typeKeyPrefix, type ObjectRef } from '../api/object-ref';
import { asTmcError } from '../errors/tmc-error';
import type { KubeObject } from '../kube/object';
import { ApiError } from '../kube-api/api-error';
import type { ClusterStatusRecord, StatusStore } from '../ports/status-store';
import type { DecisionView, SyncRecord, SyncStateStore } from '../ports/sync-state-store';
import { copyObject } from './copy-object';

/** What the aggregated view reads: sync records by cluster (gsi1), decisions and reported statuses by key. */
export interface AggregatedViewStores {
  syncState: Pick<SyncStateStore, 'knownClusters' | 'listForCluster' | 'readMany' | 'decision'>;
  statuses: Pick<StatusStore, 'getMany' | 'get'>;
}

/** One list (or get) of copies: a resource type in a workspace, optionally one namespace and one name. */
export interface CopyQuery {
  workspace: string;
  type: Pick<ObjectRef, 'group' | 'resource'>;
  /** `''` for a cluster-scoped kind when `name` is given; undefined: every namespace. */
  namespace?: string;
  name?: string;
  /** Which clusters to read: those it rejects are never queried. */
  selectsCluster: (cluster: string) => boolean;
  /** Copies per page at most (sync records read); a get (`name`) reads one record per cluster and has one page. */
  limit: number;
  /** The `continue` of the previous page. */
  continueToken?: string;
}

/** A cluster whose copies could not be read: shown as an error for that cluster, never as "no copies". */
export interface ClusterReadFailure {
  cluster: string;
  message: string;
}

export interface CopyPage {
  copies: KubeObject[];
  /** Set when there may be more: pass it back as `continueToken`. */
  continueToken?: string;
  failures: ClusterReadFailure[];
}

/** Where the next page starts: at `cluster`, after the object key `after` (from its first record when absent). */
const CursorSchema = z.object({ cluster: z.string().min(1), after: z.string().min(1).optional() });
type Cursor = z.infer<typeof CursorSchema>;

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(token: string, prefix: string): Cursor {
  let parsed: ReturnType<typeof CursorSchema.safeParse>;
  try {
    parsed = CursorSchema.safeParse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
  } catch {
    throw ApiError.badRequest('continue token is not valid: it is not one this server issued');
  }
  if (!parsed.success) throw ApiError.badRequest('continue token is not valid: it is not one this server issued');
  if (parsed.data.after !== undefined && !parsed.data.after.startsWith(prefix))
    throw ApiError.badRequest('continue token is not valid for this request');
  return parsed.data;
}

/** The object-key prefix of a query: the type, then the namespace and the start of the name when given. */
function keyPrefixOf(query: CopyQuery): string {
  const type = typeKeyPrefix(query.workspace, query.type);
  if (query.namespace === undefined) return type;
  return `${type}${query.namespace}|${query.name ?? ''}`;
}

const failureOf = (cluster: string, what: string, err: unknown): ClusterReadFailure => ({
  cluster,
  message: `${what} failed: ${asTmcError(err).message}`,
});

/**
 * One page of copies: the sync records of the selected clusters in cluster-name then object-key order, one bounded
 * Query per cluster (the type's key range on gsi1), their decisions (replicas) and each cluster's reported statuses
 * by batched key reads. A cluster whose records or statuses cannot be read is left out of the page and reported as a
 * failure; a failed read of the decisions fails the page (no copy is shown with a made-up replica count).
 */
export async function listCopies(stores: AggregatedViewStores, query: CopyQuery): Promise<CopyPage> {
  const prefix = keyPrefixOf(query);
  const cursor = query.continueToken ? decodeCursor(query.continueToken, prefix) : undefined;
  const clusters = (await stores.syncState.knownClusters()).filter((c) => query.selectsCluster(c)).sort();
  const limit = Math.max(1, query.limit);
  const failures: ClusterReadFailure[] = [];
  const byCluster = new Map<string, SyncRecord[]>();
  let read = 0;
  let next: Cursor | undefined;
  const first = cursor === undefined ? 0 : clusters.findIndex((c) => c >= cursor.cluster);
  for (let i = first < 0 ? clusters.length : first; i < clusters.length; i++) {
    const cluster = clusters[i];
    // Below `limit` here: a cluster that filled the page ended the loop. One name's key sorts first among the keys
    // it is a prefix of (`web` before `web2`), so one record per cluster answers a get.
    const room = query.name !== undefined ? 1 : limit - read;
    const after = cursor !== undefined && cluster === cursor.cluster ? cursor.after : undefined;
    let records: SyncRecord[];
    try {
      records = await stores.syncState.listForCluster(cluster, {
        prefix,
        limit: room,
        ...(after !== undefined ? { after } : {}),
      });
    } catch (err) {
      failures.push(failureOf(cluster, 'Reading its copies', err));
      continue;
    }
    read += records.length;
    const live = records.filter(
      (r) => r.state !== 'deleted' && (query.name === undefined || r.ref.name === query.name),
    );
    if (live.length > 0) byCluster.set(cluster, live);
    if (query.name === undefined && records.length === room) {
      next = { cluster, after: objectKey(records[records.length - 1].ref) };
      break;
    }
  }

  const decisions = await readDecisions(stores, [...byCluster.values()].flat());
  const copies: KubeObject[] = [];
  for (const [cluster, records] of byCluster) {
    let statuses: Map<string, ClusterStatusRecord | undefined>;
    try {
      statuses = await readStatuses(stores, records, cluster);
    } catch (err) {
      failures.push(failureOf(cluster, 'Reading its status reports', err));
      continue;
    }
    for (const record of records) {
      const key = objectKey(record.ref);
      const replicas = decisions.get(key)?.clusters.find((c) => c.name === cluster)?.replicas;
      copies.push(copyObject({ record, status: statuses.get(key), ...(replicas !== undefined ? { replicas } : {}) }));
    }
  }
  return { copies, failures, ...(next !== undefined ? { continueToken: encodeCursor(next) } : {}) };
}

/** Decisions of the page's objects, by object key; a key the batch left unanswered is read on its own. */
async function readDecisions(
  stores: AggregatedViewStores,
  records: SyncRecord[],
): Promise<Map<string, DecisionView | undefined>> {
  const refs = [...new Map(records.map((r) => [objectKey(r.ref), r.ref])).values()];
  if (refs.length === 0) return new Map();
  const { decisions } = await stores.syncState.readMany({ decisions: refs, records: [] });
  for (const ref of refs) {
    const key = objectKey(ref);
    if (!decisions.has(key)) decisions.set(key, await stores.syncState.decision(ref));
  }
  return decisions;
}

/** One cluster's reported statuses of `records`, by object key; a key the batch left unanswered is read on its own. */
async function readStatuses(
  stores: AggregatedViewStores,
  records: SyncRecord[],
  cluster: string,
): Promise<Map<string, ClusterStatusRecord | undefined>> {
  const statuses = await stores.statuses.getMany(
    records.map((r) => r.ref),
    cluster,
  );
  for (const record of records) {
    const key = objectKey(record.ref);
    if (!statuses.has(key)) statuses.set(key, await stores.statuses.get(record.ref, cluster));
  }
  return statuses;
}
