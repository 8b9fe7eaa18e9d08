import { objectKey, type ObjectRef } from '../../../lib/api/object-ref';
import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { DynamoSeenStore } from '../../../lib/adapters/dynamodb/seen-store';
import { DynamoStatusStore } from '../../../lib/adapters/dynamodb/status-store';
import { DynamoSyncStateStore } from '../../../lib/adapters/dynamodb/sync-state-store';
import { DynamoTraceStore } from '../../../lib/adapters/dynamodb/trace-store';
import type { StoredDecision } from '../../../lib/ports/decision-store';
import type { SyncRecord } from '../../../lib/ports/sync-state-store';
import { countRequests, startLocalTable, type LocalTable } from '../health/local-table';
import { storedDecision } from '../../support/builders';

/**
 * `tmc trace` on dynalite, derived from the items a change's work writes anyway: the seen record names the change, and
 * only the decision and sync items stamped with its trace id (and statuses stored since it began) are its steps.
 */
describe('DynamoTraceStore on dynalite', () => {
  let table: LocalTable;
  let store: DynamoTraceStore;
  let seen: DynamoSeenStore;
  let decisions: DynamoDecisionStore;
  let sync: DynamoSyncStateStore;
  let statuses: DynamoStatusStore;
  const ref: ObjectRef = {
    workspace: 'root:default',
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    namespace: 'default',
    name: 'web',
  };
  const at = (s: number): string => new Date(Date.parse('2026-05-01T00:00:00Z') + s * 1000).toISOString();

  const decision = (version: number, traceId: string, sent: string | undefined, s: number): StoredDecision =>
    storedDecision(ref, ['east', 'west'], {
      decisionVersion: version,
      generation: version,
      contentHash: `h${version}`,
      diff: { added: [], removed: [], changed: [], unchanged: [] },
      decidedAt: at(s),
      traceId,
      ...(sent ? { sent } : {}),
    });
  const record = (
    cluster: string,
    generation: number,
    traceId: string,
    s: number,
    state: SyncRecord['state'] = 'applied',
  ): SyncRecord => ({
    ref,
    cluster,
    state,
    decisionVersion: generation,
    appliedGeneration: generation,
    updatedAt: at(s),
    ...(state === 'applied' ? { appliedAt: at(s) } : {}),
    traceId,
  });

  beforeAll(async () => {
    table = await startLocalTable();
    store = new DynamoTraceStore(table.doc, table.tableName);
    seen = new DynamoSeenStore({ doc: table.doc, tableName: table.tableName });
    decisions = new DynamoDecisionStore(table.doc, table.tableName);
    sync = new DynamoSyncStateStore({ doc: table.doc, tableName: table.tableName });
    statuses = new DynamoStatusStore({ doc: table.doc, tableName: table.tableName });
  });
  afterAll(async () => {
    await table.close();
  });

  it('is undefined for an object no change of which reached ingress', async () => {
    expect(await store.read({ ...ref, name: 'never-seen' })).toBeUndefined();
  });

  it("shows the last change's steps from the seen, decision, sync and status items, and none of an older change", async () => {
    // Change A reaches east and west and east reports status; then change B is received, placed and applied on west.
    await seen.markSeen(objectKey(ref), 'fp-A', { traceId: 'A', at: at(0), reason: 'admission' });
    await decisions.put(decision(1, 'A', 'apply east, apply west', 1));
    await sync.put(record('east', 1, 'A', 2));
    await sync.put(record('west', 1, 'A', 2));
    await statuses.put({
      ref,
      cluster: 'east',
      status: { readyReplicas: 1 },
      resourceVersion: '10',
      observedAt: at(3),
      traceId: 'S-east',
    });
    await seen.markSeen(objectKey(ref), 'fp-B', { traceId: 'B', at: at(5), reason: 'event' });
    await decisions.put(decision(2, 'B', 'apply east, apply west', 6));
    await sync.put(record('west', 2, 'B', 7));
    await statuses.put({
      ref,
      cluster: 'west',
      status: { readyReplicas: 1 },
      resourceVersion: '11',
      observedAt: at(8),
      traceId: 'S-west',
    });

    const { requests, stop } = countRequests(table.doc);
    const trace = await store.read(ref);
    stop();
    expect(requests).toEqual(['GetItemCommand', 'QueryCommand']);
    expect(trace).toMatchObject({ traceId: 'B', startedAt: at(5) });
    expect(trace?.steps).toEqual({
      received: { at: at(5), traceId: 'B', detail: 'event' },
      placed: { at: at(6), traceId: 'B', detail: 'apply east, apply west' },
      'applied:west': { at: at(7), traceId: 'B', cluster: 'west', result: 'applied' },
      // east's status was reported before change B began: it is change A's.
      'status:west': { at: at(8), traceId: 'S-west', cluster: 'west', result: 'written' },
    });
  });

  it("takes the received step from the decision when ingress wrote no seen record (a workload's change)", async () => {
    const placed = { ...ref, name: 'placed-only' };
    await decisions.put({
      ...decision(1, 'P', 'apply east', 2),
      ref: placed,
      receivedAt: at(1),
      receivedReason: 'admission',
    });
    await sync.put({ ...record('east', 1, 'P', 3), ref: placed });
    const trace = await store.read(placed);
    expect(trace).toMatchObject({ traceId: 'P', startedAt: at(1) });
    expect(trace?.steps).toEqual({
      received: { at: at(1), traceId: 'P', detail: 'admission' },
      placed: { at: at(2), traceId: 'P', detail: 'apply east' },
      'applied:east': { at: at(3), traceId: 'P', cluster: 'east', result: 'applied' },
    });
  });

  it('takes the newer of a seen record (written by an older release) and the decision', async () => {
    const both = { ...ref, name: 'both' };
    await seen.markSeen(objectKey(both), 'fp-O', { traceId: 'O', at: at(0), reason: 'admission' });
    await decisions.put({
      ...decision(1, 'N', 'apply east', 6),
      ref: both,
      receivedAt: at(5),
      receivedReason: 'event',
    });
    expect((await store.read(both))?.steps.received).toEqual({ at: at(5), traceId: 'N', detail: 'event' });
    // A change ingress recorded after the decision (one of tmc's own kinds, or an older release's) is the last one.
    await seen.markSeen(objectKey(both), 'fp-L', { traceId: 'L', at: at(9), reason: 'admission' });
    expect((await store.read(both))?.steps).toEqual({ received: { at: at(9), traceId: 'L', detail: 'admission' } });
  });

  it('shows a delete as a deleted step, and the decision made for the change though it sent no sync work', async () => {
    const gone = { ...ref, name: 'gone' };
    await seen.markSeen(objectKey(gone), 'fp-D', { traceId: 'D', at: at(0), reason: 'delete' });
    await decisions.put({ ...decision(1, 'D', undefined, 1), ref: gone });
    await sync.put({ ...record('east', 1, 'D', 2, 'deleted'), ref: gone });
    const trace = await store.read(gone);
    expect(Object.keys(trace?.steps ?? {}).sort()).toEqual(['applied:east', 'placed', 'received']);
    expect(trace?.steps.placed).toEqual({ at: at(1), traceId: 'D' });
    expect(trace?.steps['applied:east']).toEqual({ at: at(2), traceId: 'D', cluster: 'east', result: 'deleted' });
  });

  it("carries the decision's stamp when another change (the sweep) wrote it, with no placed step", async () => {
    const swept = { ...ref, name: 'swept' };
    await seen.markSeen(objectKey(swept), 'fp-S', { traceId: 'S', at: at(0), reason: 'admission' });
    await decisions.put({ ...decision(1, 'recovery-1', 'apply east, apply west', 4), ref: swept });
    const trace = await store.read(swept);
    expect(Object.keys(trace?.steps ?? {})).toEqual(['received']);
    expect(trace?.decided).toEqual({ at: at(4), traceId: 'recovery-1', detail: 'apply east, apply west' });
  });
});
