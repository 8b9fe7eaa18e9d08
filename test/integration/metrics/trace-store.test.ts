import type { ObjectRef } from '../../../lib/api/object-ref';
import { DynamoTraceStore, TraceStepBuffer } from '../../../lib/adapters/dynamodb/trace-store';
import { countRequests, startLocalTable, type LocalTable } from '../health/local-table';

/** The trace item on dynalite: a newer change replaces the path, late steps of an older change never land on it. */
describe('DynamoTraceStore on dynalite', () => {
  let table: LocalTable;
  let store: DynamoTraceStore;
  const errors: unknown[] = [];
  const ref: ObjectRef = { workspace: 'root:default', group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'default', name: 'web' };
  const at = (s: number): string => new Date(Date.parse('2026-05-01T00:00:00Z') + s * 1000).toISOString();

  beforeAll(async () => {
    table = await startLocalTable();
    store = new DynamoTraceStore(table.doc, table.tableName, (err) => errors.push(err));
  });
  afterAll(async () => {
    await table.close();
  });

  it('records the steps of the current change and drops those of an older one', async () => {
    await store.begin(ref, { at: at(0), traceId: 'A', detail: 'admission' });
    await store.step(ref, 'placed', { at: at(1), traceId: 'A', detail: 'apply east' });
    await store.begin(ref, { at: at(5), traceId: 'B', detail: 'admission' });
    await store.step(ref, 'applied:east', { at: at(6), traceId: 'A', cluster: 'east', result: 'applied' }); // late: change A
    await store.step(ref, 'placed', { at: at(7), traceId: 'B', detail: 'apply west' });
    await store.begin(ref, { at: at(3), traceId: 'C', detail: 'event' }); // a late webhook for an older write

    const trace = await store.read(ref);
    expect(trace?.traceId).toBe('B');
    expect(Object.keys(trace?.steps ?? {}).sort()).toEqual(['placed', 'received']);
    expect(trace?.steps.placed.detail).toBe('apply west');
    expect(errors).toEqual([]);
  });

  it('writes several steps of one change in one update, and drops them all for an older change', async () => {
    const multi = { ...ref, name: 'multi' };
    await store.begin(multi, { at: at(0), traceId: 'M', detail: 'admission' });
    const buffer = new TraceStepBuffer(store);
    for (const cluster of ['east', 'west', 'edge']) buffer.step(multi, `applied:${cluster}`, { at: at(2), traceId: 'M', cluster, result: 'applied' });
    buffer.step(multi, 'applied:east', { at: at(3), traceId: 'OLD', cluster: 'east', result: 'applied' }); // a late step of an older change
    await buffer.flush();
    const trace = await store.read(multi);
    expect(Object.keys(trace?.steps ?? {}).sort()).toEqual(['applied:east', 'applied:edge', 'applied:west', 'received']);
    expect(trace?.steps['applied:east']).toMatchObject({ traceId: 'M', at: at(2) });
    await buffer.flush(); // nothing left: writes nothing
    expect(errors).toEqual([]);
  });

  it("writes a batch's status steps for one object in one update on the current change, and hands each asker its id", async () => {
    const { requests, stop } = countRequests(table.doc);
    try {
      const statused = { ...ref, name: 'statused' };
      const untraced = { ...ref, name: 'untraced' };
      await store.begin(statused, { at: at(0), traceId: 'C', detail: 'admission' });
      requests.length = 0;
      const buffer = new TraceStepBuffer(store);
      const changes: Array<[string, string | undefined]> = [];
      for (const cluster of ['east', 'west', 'edge']) {
        // Each status message has its own trace id; the steps go on change C whatever it is.
        buffer.stepOnCurrent(statused, `status:${cluster}`, { at: at(4), traceId: `S-${cluster}`, cluster, result: 'written' }, (change) => changes.push([cluster, change]));
      }
      buffer.stepOnCurrent(statused, 'status:east', { at: at(5), traceId: 'S-east-2', cluster: 'east', result: 'written' }); // a later one replaces it
      buffer.stepOnCurrent(untraced, 'status:east', { at: at(4), traceId: 'S-x', cluster: 'east', result: 'written' }, (change) => changes.push(['untraced', change]));
      expect(requests).toEqual([]); // nothing is written before the flush
      await buffer.flush();
      expect(requests).toEqual(['UpdateItemCommand', 'UpdateItemCommand']); // one per object, not one per step
      expect(changes.sort()).toEqual([['east', 'C'], ['edge', 'C'], ['untraced', undefined], ['west', 'C']]);
      const trace = await store.read(statused);
      expect(Object.keys(trace?.steps ?? {}).sort()).toEqual(['received', 'status:east', 'status:edge', 'status:west']);
      expect(trace?.steps['status:east']).toMatchObject({ traceId: 'S-east-2', at: at(5) });
      expect(await store.read(untraced)).toBeUndefined();
      expect(errors).toEqual([]);
    } finally {
      stop();
    }
  });

  it('puts status on the current change and names it', async () => {
    expect(await store.stepOnCurrent(ref, 'status:west', { at: at(9), traceId: 'S1', cluster: 'west', result: 'written' })).toBe('B');
    expect((await store.read(ref))?.steps['status:west']?.traceId).toBe('S1');
    const other = { ...ref, name: 'never-traced' };
    expect(await store.stepOnCurrent(other, 'status:west', { at: at(9), traceId: 'S2', cluster: 'west' })).toBeUndefined();
    expect(await store.read(other)).toBeUndefined();
    expect(errors).toEqual([]);
  });
});
