import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { PromMetrics } from '../../../lib/metrics/prom-metrics';
import { measureSqsBatch } from '../../../lib/observability/invocation-metrics';
import { formatTracePath, tracePath } from '../../../lib/observability/trace-path';
import type { ObjectTrace } from '../../../lib/ports/object-trace';
import type { ObjectSnapshot } from '../../../lib/ports/object-snapshot';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();
const ref = {
  workspace: 'root:default',
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'default',
  name: 'web',
};

function trace(steps: ObjectTrace['steps']): ObjectTrace {
  return {
    traceId: 't1',
    startedAt: at(0),
    steps: { received: { at: at(0), traceId: 't1', detail: 'admission' }, ...steps },
  };
}

describe('tracePath', () => {
  it.each<[string, ObjectTrace['steps'], string[], string[]]>([
    ['nothing placed yet', {}, ['ingress', 'placed'], ['placed']],
    [
      'placed on two clusters, one applied',
      {
        placed: { at: at(100), traceId: 't1', detail: 'apply east, apply west' },
        'applied:west': { at: at(300), traceId: 't1', cluster: 'west', result: 'applied' },
      },
      ['ingress', 'placed', 'applied:west', 'status:west', 'applied:east', 'status:east'],
      ['applied:east'],
    ],
    [
      'every step on one cluster',
      {
        placed: { at: at(100), traceId: 't1', detail: 'apply east' },
        'applied:east': { at: at(250), traceId: 't1', cluster: 'east', result: 'applied' },
        'status:east': { at: at(900), traceId: 's9', cluster: 'east', result: 'written' },
      },
      ['ingress', 'placed', 'applied:east', 'status:east'],
      [],
    ],
    [
      'a delete brings no status back',
      {
        placed: { at: at(100), traceId: 't1', detail: 'delete east' },
        'applied:east': { at: at(200), traceId: 't1', cluster: 'east', result: 'deleted' },
      },
      ['ingress', 'placed', 'applied:east'],
      [],
    ],
  ])('%s', (_name, steps, order, waiting) => {
    const path = tracePath(trace(steps));
    expect(path.steps.map((s) => s.step)).toEqual(order);
    expect(path.waiting).toEqual(waiting);
  });

  describe('checked against what DynamoDB holds', () => {
    const record = (
      cluster: string,
      state: 'applied' | 'deleted' | 'failed',
      ms: number,
    ): ObjectSnapshot['syncRecords'][number] => ({
      ref,
      cluster,
      state,
      decisionVersion: 2,
      appliedGeneration: 1,
      updatedAt: at(ms),
      ...(state === 'applied' ? { appliedAt: at(ms) } : {}),
      ...(state === 'failed'
        ? { lastError: { category: 'cluster-unreachable', message: 'west timed out', hint: 'retrying', at: at(ms) } }
        : {}),
    });
    const placedOn = (...clusters: string[]): ObjectSnapshot['decision'] => ({
      decisionVersion: 2,
      clusters: clusters.map((name) => ({ name })),
    });

    it('a copy applied by a later message (a retry, the sweep) is not waited for', () => {
      const state: ObjectSnapshot = {
        decision: placedOn('east'),
        syncRecords: [record('east', 'applied', 500)],
        statuses: [{ ref, cluster: 'east', status: {}, resourceVersion: '9', observedAt: at(800) }],
      };
      const path = tracePath(trace({ placed: { at: at(100), traceId: 't1', detail: 'apply east' } }), state);
      expect(path.waiting).toEqual([]);
      expect(path.steps.map((s) => [s.step, s.detail])).toEqual([
        ['ingress', 'admission'],
        ['placed', 'apply east'],
        ['applied:east', `applied (sync state, ${at(500)})`],
        ['status:east', `reported ${at(800)} (status in DynamoDB)`],
      ]);
    });

    it('an apply from before this change does not count, and a delete is not done while a copy remains', () => {
      const stale = tracePath(trace({ placed: { at: at(100), traceId: 't1', detail: 'apply east' } }), {
        decision: placedOn('east'),
        syncRecords: [{ ...record('east', 'applied', -5000) }],
        statuses: [],
      });
      expect(stale.waiting).toEqual(['applied:east']);
      const deleting = tracePath(
        trace({
          placed: { at: at(100), traceId: 't1', detail: 'delete east' },
          'applied:east': { at: at(200), traceId: 't1', cluster: 'east', result: 'deleted' },
        }),
        {
          decision: placedOn(),
          syncRecords: [record('east', 'deleted', 200), record('west', 'failed', 300)],
          statuses: [],
        },
      );
      expect(deleting.waiting).toEqual(['applied:west']);
      expect(deleting.steps.find((s) => s.step === 'applied:west')?.detail).toBe('failed: west timed out (sync state)');
    });
  });

  describe('agrees with DynamoDB (issue 14, "status never lies")', () => {
    const applied = (cluster: string, ms: number, version = 2): ObjectSnapshot['syncRecords'][number] => ({
      ref,
      cluster,
      state: 'applied',
      decisionVersion: version,
      appliedGeneration: 1,
      updatedAt: at(ms),
      appliedAt: at(ms),
    });

    it('an object placed nowhere for this change waits for nothing and says why', () => {
      const path = tracePath(trace({ placed: { at: at(100), traceId: 't1' } }), {
        decision: {
          decisionVersion: 1,
          clusters: [],
          scheduled: false,
          reason: 'Unschedulable',
          message: 'No Placement selects namespace default',
        },
        syncRecords: [],
        statuses: [],
      });
      expect(path.waiting).toEqual([]);
      expect(path.steps.map((s) => [s.step, s.detail])).toEqual([
        ['ingress', 'admission'],
        ['placed', 'no sync work sent: decision v1 Unschedulable: No Placement selects namespace default'],
      ]);
    });

    it('a decision recorded after the change under another trace placed it, and its clusters are shown', () => {
      const path = tracePath(
        { ...trace({}), decided: { at: at(500), traceId: 'recovery-1', detail: 'apply east, apply west' } },
        {
          decision: { decisionVersion: 2, clusters: [{ name: 'east' }, { name: 'west' }] },
          syncRecords: [applied('east', 600), applied('west', 700)],
          statuses: [],
        },
      );
      expect(path.waiting).toEqual([]);
      expect(path.steps.map((s) => [s.step, s.detail])).toEqual([
        ['ingress', 'admission'],
        ['placed', 'apply east, apply west (decided under recovery-1)'],
        ['applied:east', `applied (sync state, ${at(600)})`],
        ['status:east', 'no status reported yet'],
        ['applied:west', `applied (sync state, ${at(700)})`],
        ['status:west', 'no status reported yet'],
      ]);
    });

    it('a decision older than the change is not its placement', () => {
      const path = tracePath(
        { ...trace({}), decided: { at: at(-500), traceId: 't0', detail: 'apply east' } },
        {
          decision: { decisionVersion: 2, clusters: [{ name: 'east' }] },
          syncRecords: [applied('east', -400)],
          statuses: [],
        },
      );
      expect(path.waiting).toEqual(['placed']);
    });

    it('shows every cluster the decision names, also those this change sent no work to, and what each holds', () => {
      const state: ObjectSnapshot = {
        decision: {
          decisionVersion: 3,
          clusters: [{ name: 'east' }, { name: 'west' }],
          scheduled: true,
          reason: 'Scheduled',
          message: 'placed',
        },
        syncRecords: [
          applied('east', 300, 3),
          // west's part did not change: its copy was applied before this change, under decision v2.
          applied('west', -5000, 2),
          {
            ref,
            cluster: 'edge',
            state: 'failed',
            decisionVersion: 2,
            appliedGeneration: 1,
            updatedAt: at(400),
            lastError: { category: 'cluster-throttled', message: 'edge answered 429', hint: 'retrying', at: at(400) },
          },
        ],
        statuses: [{ ref, cluster: 'east', status: {}, resourceVersion: '9', observedAt: at(800) }],
      };
      const path = tracePath(
        trace({
          placed: { at: at(100), traceId: 't1', detail: 'apply east, delete edge' },
          'applied:east': { at: at(300), traceId: 't1', cluster: 'east', result: 'applied' },
        }),
        state,
        at(10_800),
      );
      expect(path.waiting).toEqual(['applied:edge']);
      expect(path.steps.find((s) => s.step === 'applied:west')?.detail).toBe(`applied (sync state, ${at(-5000)})`);
      expect(path.now).toEqual({
        readAt: at(10_800),
        decision: { version: 3, clusters: ['east', 'west'], scheduled: true, reason: 'Scheduled', message: 'placed' },
        clusters: [
          {
            cluster: 'east',
            placed: true,
            sync: 'applied',
            decisionVersion: 3,
            appliedGeneration: 1,
            updatedAt: at(300),
            appliedAt: at(300),
            status: { observedAt: at(800), ageSeconds: 10 },
          },
          {
            cluster: 'edge',
            placed: false,
            sync: 'failed',
            decisionVersion: 2,
            appliedGeneration: 1,
            updatedAt: at(400),
            error: 'edge answered 429',
          },
          {
            cluster: 'west',
            placed: true,
            sync: 'applied',
            decisionVersion: 2,
            appliedGeneration: 1,
            updatedAt: at(-5000),
            appliedAt: at(-5000),
          },
        ],
      });
      const text = formatTracePath(ref, path);
      expect(text).toContain(`Now in DynamoDB (read ${at(10_800)}): decision v3 Scheduled on east, west (placed)`);
      expect(text).toMatch(/edge\s+no\s+failed\s+v2\s+1\s+\S+\s+-\s+edge answered 429/);
      expect(text).toMatch(/east\s+yes\s+applied\s+v3\s+1\s+\S+\s+10\.000s/);
    });
  });

  it('times each step from the change and from the step it followed', () => {
    const path = tracePath(
      trace({
        placed: { at: at(100), traceId: 't1', detail: 'apply east' },
        'applied:east': { at: at(250), traceId: 't1', cluster: 'east', result: 'applied' },
        'status:east': { at: at(900), traceId: 's9', cluster: 'east', result: 'written' },
      }),
    );
    expect(path.steps.map((s) => [s.step, s.sinceStart, s.sincePrevious])).toEqual([
      ['ingress', 0, undefined],
      ['placed', 0.1, 0.1],
      ['applied:east', 0.25, 0.15],
      ['status:east', 0.9, 0.65],
    ]);
    expect(path.totalSeconds).toBe(0.9);
    const text = formatTracePath(ref, path);
    expect(text).toContain('Deployment default/web in root:default: last change t1');
    expect(text).toMatch(/status:east\s+2026-01-01T00:00:00.900Z\s+0.900s\s+0.650s\s+written/);
    expect(text).toContain('0.900s from the change reaching tmc to the last step');
  });
});

function record(id: string, receiveCount: number): SQSRecord {
  return {
    messageId: id,
    receiptHandle: id,
    body: '{}',
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '0',
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:tmc-sync',
    awsRegion: 'us-east-1',
  };
}

describe('measureSqsBatch', () => {
  it('counts a failed message on its last delivery as a DLQ arrival, and nothing else', async () => {
    const metrics = new PromMetrics();
    const event: SQSEvent = {
      Records: [record('ok-last', 5), record('failed-early', 2), record('failed-last', 5), record('failed-beyond', 6)],
    };
    const response = await measureSqsBatch(
      metrics,
      'sync-apply',
      { name: 'sync', maxReceiveCount: 5 },
      event,
      async () => ({
        batchItemFailures: [
          { itemIdentifier: 'failed-early' },
          { itemIdentifier: 'failed-last' },
          { itemIdentifier: 'failed-beyond' },
        ],
      }),
    );
    expect(response.batchItemFailures).toHaveLength(3);
    const text = await metrics.render();
    expect(text).toContain('tmc_dlq_arrivals_total{queue="sync"} 2');
    expect(text).toContain('tmc_function_invocations_total{function="sync-apply",result="error"} 1');
  });

  it('reports the oldest message of the batch as the queue backlog age, to metrics and to component health', async () => {
    const metrics = new PromMetrics();
    const sentAt = (id: string, ageMs: number): SQSRecord => ({
      ...record(id, 1),
      attributes: { ...record(id, 1).attributes, SentTimestamp: String(Date.now() - ageMs) },
    });
    const reported: Array<[string, boolean, number | undefined]> = [];
    await measureSqsBatch(
      metrics,
      'placement',
      { name: 'placement', maxReceiveCount: 5 },
      { Records: [sentAt('a', 2_000), sentAt('b', 30_000)] },
      async () => ({ batchItemFailures: [] }),
      async (fn, ok, extra) => {
        reported.push([fn, ok, extra?.backlogAgeSeconds]);
      },
    );
    const age = Number(
      /tmc_queue_oldest_message_age_seconds\{queue="placement"\} ([0-9.]+)/.exec(await metrics.render())?.[1],
    );
    expect(age).toBeGreaterThanOrEqual(30);
    expect(age).toBeLessThan(60);
    expect(reported).toHaveLength(1);
    expect(reported[0][0]).toBe('placement');
    expect(reported[0][2]).toBeGreaterThanOrEqual(30);
  });

  it('records no DLQ series when the batch succeeds', async () => {
    const metrics = new PromMetrics();
    await measureSqsBatch(
      metrics,
      'status-up',
      { name: 'status', maxReceiveCount: 5 },
      { Records: [record('a', 5)] },
      async () => ({ batchItemFailures: [] }),
    );
    expect(await metrics.render()).not.toContain('tmc_dlq_arrivals_total');
  });
});
