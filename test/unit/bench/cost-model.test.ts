import { resolve } from 'node:path';
import { QUEUES, SCHEDULES } from '../../../lib/runtime/resources';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measuredRuns, synthesizedTemplate } from '../../../bench/cost/idle';
import { inventoryOf, rateSeconds, type StackInventory } from '../../../bench/cost/inventory';
import {
  billedRun,
  costOf,
  dynamoItemReads,
  dynamoItemWrites,
  dynamoWriteUnits,
  idleMetricSeries,
  idleMonth,
  platformLogBytes,
  type Usage,
} from '../../../bench/cost/model';
import { Template } from 'aws-cdk-lib/assertions';

/** The idle month's arithmetic, worked by hand from bench/cost/prices.ts, and the inventory read from the real stack. */

const run: Usage = {
  lambda: { 'health-probe': { invocations: 1, durationSeconds: 0.5 } },
  dynamodb: { requests: { GetItem: 10, PutItem: 1 }, byItem: {}, writeBytes: 500 },
  sqs: { requests: { ReceiveMessage: 2, GetQueueAttributes: 7 }, byItem: {}, writeBytes: 0 },
};

/** A stack with one schedule at 60 s and nothing else billed. */
const bareInventory = (schedule: string): StackInventory => ({
  alarms: 0,
  alarmMetrics: 0,
  dashboards: 0,
  secrets: 0,
  polledQueues: 0,
  tracedFunctions: [],
  schedules: [{ name: schedule, rateSeconds: 60 }],
});

describe('idle month', () => {
  const month = idleMonth({
    perRun: { 'health-probe': run },
    inventory: {
      alarms: 2,
      alarmMetrics: 5,
      dashboards: 1,
      secrets: 3,
      polledQueues: 3,
      tracedFunctions: ['health-probe'],
      schedules: [{ name: 'health-probe', rateSeconds: 60 }],
    },
    clusters: 2,
    logBytesPerRun: 2048,
    logRetentionDays: 30,
  });
  const line = (item: string): number => {
    const found = month.lines.find((l) => l.item === item);
    if (found === undefined) throw new Error(`no line ${item}`);
    return found.dollars;
  };

  it('prices each item of a month of one schedule at 60 s (43,200 runs)', () => {
    // 43,200 × ($0.20/M requests + 0.5 s × 0.5 GB (512 MB) × $0.0000133334/GB-s) = $0.1526
    expect(line('schedule health-probe: Lambda')).toBe(0.15);
    // 43,200 × (1 write unit × $0.625/M + 10 reads × $0.125/M) = $0.081
    expect(line('schedule health-probe: DynamoDB')).toBe(0.08);
    // Its 2 receives are the local pollers' (Lambda's pollers: the fixed line below) and it inspects no queue: $0
    expect(line('schedule health-probe: SQS')).toBe(0);
    // 3 queues × 5 pollers × 129,600 receives (one per 20 s) = 1,944,000 × $0.40/M, fixed: per event source mapping
    expect(line("SQS empty receives of Lambda's pollers")).toBe(0.78);
    expect(month.lines.find((l) => l.item.startsWith('SQS empty receives'))?.kind).toBe('fixed');
    // A healthy, settled stack sends no custom metric once its containers are warm (lib/metrics/emf-policy.ts).
    expect(line('CloudWatch custom metrics (EMF)')).toBe(0);
    // 43,200 × (2 KiB + Lambda's traced platform records) = 0.0824 GB + 43,200 × platformLogBytes(true): × $0.50
    // ingested + 30 days of it stored × $0.03
    const logGb = (43_200 * (2048 + platformLogBytes(true))) / 1024 ** 3;
    expect(line('CloudWatch Logs ingested and stored')).toBe(Math.round(logGb * 0.53 * 100) / 100);
    // Every run of the traced health-probe is a trace: 43,200 × $5/M = $0.216
    expect(line('X-Ray traces of scheduled runs')).toBe(0.22);
    // kcp + 2 clusters, each once an hour (a 401 refreshes at once): 3 × 720 = 2,160 calls × $0.05/10,000
    expect(line('Secrets Manager reads')).toBe(0.01);
    expect(line('CloudWatch alarms')).toBe(0.5);
    expect(line('CloudWatch dashboard')).toBe(3);
    expect(line('Secrets Manager secrets')).toBe(2); // (3 + 2 cluster credentials) × $0.40
  });

  it('sums variable and fixed items apart and compares the variable part with the $1 target', () => {
    const variable = month.lines.filter((l) => l.kind === 'variable').reduce((n, l) => n + l.dollars, 0);
    expect(month.variable).toBeCloseTo(variable, 10);
    expect(month.variable).toBeCloseTo(
      0.15 + 0.08 + 0 + 0 + line('CloudWatch Logs ingested and stored') + 0.22 + 0.01,
      10,
    );
    expect(month.fixed).toBe(6.28);
    expect(month.total).toBeCloseTo(month.variable + 6.28, 10);
    expect(month.target).toEqual({ variableUnder: 1, met: true });
  });

  it('prices the sweep as full passes every fullPassSeconds and settled runs between them', () => {
    const full: Usage = {
      lambda: { 'recovery-sweep': { invocations: 1, durationSeconds: 2 } },
      dynamodb: { requests: { GetItem: 100 }, byItem: {}, writeBytes: 0 },
      sqs: { requests: {}, byItem: {}, writeBytes: 0 },
    };
    const settled: Usage = {
      lambda: { 'recovery-sweep': { invocations: 1, durationSeconds: 0.1 } },
      dynamodb: { requests: { GetItem: 4 }, byItem: {}, writeBytes: 0 },
      sqs: { requests: {}, byItem: {}, writeBytes: 0 },
    };
    const sweep = (settledRun?: Record<string, Usage>) =>
      idleMonth({
        perRun: { 'recovery-sweep': full },
        ...(settledRun ? { settledRun } : {}),
        inventory: bareInventory('recovery-sweep'),
        clusters: 0,
        logBytesPerRun: 0,
        logRetentionDays: 1,
      }).lines.find((l) => l.item === 'schedule recovery-sweep: DynamoDB')!.dollars;
    // Every run a full pass: 43,200 × 100 reads × $0.125/M = $0.54
    expect(sweep()).toBe(0.54);
    // 1,440 full passes (one per 1,800 s) × 100 reads + 41,760 settled runs × 4 reads, × $0.125/M = $0.0389
    expect(sweep({ 'recovery-sweep': settled })).toBe(0.04);
    // A stack whose pages take 10 full passes to go round: 14,400 full passes × 100 + 28,800 × 4, × $0.125/M = $0.194
    expect(sweep({ 'recovery-sweep': { ...settled, fullRunsPerRound: 10 } })).toBe(0.19);
    // Never settling (pages that never go round unchanged): every run a full pass, as without a settled run
    expect(sweep({ 'recovery-sweep': { ...settled, fullRunsPerRound: 60 } })).toBe(0.54);
  });

  it("prices a settled run's Lambda time from its CPU and rounds of requests at in-region latency, not its local duration", () => {
    const full: Usage = {
      lambda: { 'recovery-sweep': { invocations: 1, durationSeconds: 2 } },
      dynamodb: { requests: {}, byItem: {}, writeBytes: 0 },
      sqs: { requests: {}, byItem: {}, writeBytes: 0 },
    };
    const settled: Usage = {
      // 0.8 s locally, on a loaded machine: not what Lambda bills
      lambda: { 'recovery-sweep': { invocations: 1, durationSeconds: 0.8 } },
      dynamodb: { requests: { Query: 3, GetItem: 1, UpdateItem: 1 }, byItem: {}, writeBytes: 0 },
      sqs: { requests: {}, byItem: {}, writeBytes: 0 },
      kubeRequests: 13,
      profile: {
        runs: 5,
        cpuMs: 20,
        thread: 'main',
        rounds: [['dynamodb', 'kubernetes', 'sqs'], ['dynamodb']],
        logBytes: 0,
        logLevel: 'INFO',
      },
    };
    // 20 ms of CPU at 1,024 MB (0.58 of a vCPU) = 34.55 ms, + 30 ms (a round with kcp) + 10 ms (DynamoDB): 75 ms
    expect(billedRun(settled, 1024, 0)).toEqual({ ms: 75, cpuMs: 35, ioMs: 40, rounds: 'measured' });
    // The same run at 2,048 MB has a whole vCPU: 20 + 40 = 60 ms
    expect(billedRun(settled, 2048, 0)?.ms).toBe(60);
    // Rounds not measured (a worker thread's requests): each request waits in turn, 5 × 10 + 13 × 30 + 2 × 20 ms
    const { rounds: _measured, ...noRounds } = settled.profile!;
    expect(billedRun({ ...settled, profile: noRounds }, 1024, 2)).toMatchObject({
      ioMs: 480,
      rounds: 'sequential',
    });
    expect(billedRun({ ...settled, profile: undefined }, 1024, 0)).toBeUndefined();
    const lambda = idleMonth({
      perRun: { 'recovery-sweep': full },
      settledRun: { 'recovery-sweep': settled },
      inventory: bareInventory('recovery-sweep'),
      clusters: 0,
      logBytesPerRun: 0,
      logRetentionDays: 1,
    }).lines.find((l) => l.item === 'schedule recovery-sweep: Lambda')!;
    // 1,440 full passes × 2 s × 1 GB + 41,760 settled runs × 0.075 s × 1 GB, × $0.0000133334; + 43,200 × $0.20/M
    const expected = (1440 * 2 + 41_760 * 0.075) * 0.0000133334 + 43_200 * 0.2e-6;
    expect(lambda.dollars).toBe(Math.round(expected * 100) / 100);
    expect(lambda.quantity).toMatch(/billed 75 ms at 1024 MB/);
  });

  it("bills a schedule's writes on gsi1 too when its run carries the table's item sizes", () => {
    // health-probe's run: 4 cluster health puts and 1 component update, items on gsi1 at 1 unit (1 unit on the table).
    const sized = (itemBytes?: Usage['dynamodb']['itemBytes']): Usage => ({
      ...run,
      dynamodb: {
        requests: { GetItem: 10, PutItem: 4, UpdateItem: 1 },
        byItem: { 'PutItem HEALTH': 4, 'UpdateItem HEALTH': 1 },
        writeBytes: 5 * 500,
        ...(itemBytes ? { itemBytes } : {}),
      },
    });
    const dynamo = (usage: Usage): number =>
      idleMonth({
        perRun: { 'health-probe': usage },
        inventory: bareInventory('health-probe'),
        clusters: 4,
        logBytesPerRun: 0,
        logRetentionDays: 1,
      }).lines.find((l) => l.item === 'schedule health-probe: DynamoDB')?.dollars ?? NaN;
    // 43,200 × (5 writes × 2 units (table + gsi1) × $0.625/M + 10 reads × $0.125/M) = $0.324
    expect(dynamo(sized({ HEALTH: kind(5, 1, 1) }))).toBe(0.32);
    // Without sizes, as the month was priced before: the table only, 43,200 × (5 × $0.625/M + 10 × $0.125/M) = $0.189
    expect(dynamo(sized())).toBe(0.19);
  });

  it('refuses a schedule it has no measured run for rather than pricing it at zero', () => {
    expect(() =>
      idleMonth({
        perRun: {},
        inventory: bareInventory('health-probe'),
        clusters: 0,
        logBytesPerRun: 0,
        logRetentionDays: 1,
      }),
    ).toThrow(/No measured run of schedule health-probe/);
  });
});

describe('measured schedule runs read back from a results file', () => {
  const scheduleRun = (itemBytes?: unknown) => ({
    ok: true,
    lambda: {},
    dynamodb: {
      requests: { PutItem: 1 },
      byItem: { 'PutItem HEALTH': 1 },
      writeBytes: 300,
      ...(itemBytes ? { itemBytes } : {}),
    },
    sqs: { requests: {}, byItem: {}, writeBytes: 0 },
  });
  const file = (schedules: Record<string, unknown>, phases: unknown[]): string => {
    const path = join(mkdtempSync(join(tmpdir(), 'tmc-idle-')), 'result.json');
    writeFileSync(
      path,
      JSON.stringify({
        startedAt: 'x',
        endToEnd: [{ options: { objects: 1, clusters: 3 }, schedules, phases }],
      }),
    );
    return path;
  };

  it("keeps a run's own item sizes, and gives a run without them the last phase's (the same table)", () => {
    const phases = [
      { dynamodb: { itemBytes: { HEALTH: kind(3, 1, 1) } } },
      { dynamodb: { itemBytes: { HEALTH: kind(4, 2, 2) } } },
    ];
    const runs = measuredRuns('.', file({ a: scheduleRun(), b: scheduleRun({ HEALTH: kind(5, 1, 0) }) }, phases));
    expect(runs.perRun.a.dynamodb.itemBytes?.HEALTH.count).toBe(4);
    expect(runs.perRun.b.dynamodb.itemBytes?.HEALTH.count).toBe(5);
    expect(measuredRuns('.', file({ a: scheduleRun() }, [])).perRun.a.dynamodb.itemBytes).toBeUndefined();
  });
});

describe('custom metric series of an idle stack', () => {
  const schedules = SCHEDULES.map((s) => s.target);
  const queues = Object.keys(QUEUES);

  it('counts none on a healthy, settled stack: quiet gauges and successful runs are not sent', () => {
    expect(idleMetricSeries(3, queues, schedules)).toBe(0);
    expect(idleMetricSeries(50, queues, schedules)).toBe(0);
  });
});

/** A kind's sizes as the table scan gives them: its item count and its mean units per write, on the table and gsi1. */
const kind = (count: number, unitsPerWrite: number, gsi1UnitsPerWrite: number) => ({
  count,
  meanBytes: 0,
  p95Bytes: 0,
  maxBytes: 0,
  overOneKiB: 0,
  unitsPerWrite,
  gsi1UnitsPerWrite,
  onGsi1: gsi1UnitsPerWrite > 0 ? 1 : 0,
  attributes: {},
});

describe('DynamoDB units', () => {
  it('bills each item of a batch read or write, not the request', () => {
    const usage: Usage = {
      lambda: {},
      dynamodb: {
        requests: { BatchGetItem: 2, GetItem: 3, Query: 1, BatchWriteItem: 1 },
        byItem: { 'BatchGetItem items': 150, 'BatchWriteItem items': 25 },
        writeBytes: 25 * 512,
      },
      sqs: { requests: {}, byItem: {}, writeBytes: 0 },
    };
    expect(dynamoItemReads(usage.dynamodb)).toBe(154);
    expect(dynamoItemWrites(usage.dynamodb)).toBe(25);
    // 154 × $0.125/M + 25 × $0.625/M
    expect(costOf(usage).dynamodb).toBeCloseTo(154 * 0.125e-6 + 25 * 0.625e-6, 12);
  });

  it("bills a write by its kind's item size on the table and gsi1, and a write of no sized kind by its request body", () => {
    const counts = {
      requests: { PutItem: 130, UpdateItem: 20, DeleteItem: 2 },
      byItem: { 'PutItem SYNC': 100, 'PutItem DECISION': 30, 'UpdateItem HEALTH': 20, 'DeleteItem CURSOR': 2 },
      // 152 writes of 1,500 bytes of request body each: 2 units each by the body.
      writeBytes: 152 * 1500,
      itemBytes: { SYNC: kind(1, 1, 0), DECISION: kind(1, 1.5, 0), HEALTH: kind(1, 1, 0) },
    };
    // SYNC 100 × 1 + DECISION 30 × 1.5 + HEALTH 20 × 1 + CURSOR (not in the table) 2 × 2 by the body = 169.
    expect(dynamoWriteUnits(counts)).toEqual({ units: 169, tableUnits: 169, gsi1Units: 0, sized: 150, writes: 152 });
    expect(dynamoWriteUnits({ ...counts, itemBytes: undefined }).units).toBe(304);
    const usage: Usage = { lambda: {}, dynamodb: counts, sqs: { requests: {}, byItem: {}, writeBytes: 0 } };
    expect(costOf(usage).dynamodb).toBeCloseTo(169 * 0.625e-6, 12);
    // gsi1: 6 SYNC items at the end on it at 1 unit, 2 DECISION at 2.5, 2 HEALTH off it (for this case).
    const indexed = {
      ...counts,
      itemBytes: { SYNC: kind(6, 1, 1), DECISION: kind(2, 1.5, 2.5), HEALTH: kind(2, 1, 0) },
    };
    // Table as above, 169; gsi1 100 × 1 + 30 × 2.5 + 20 × 0 + CURSOR 2 × the table's mean, (6 + 5) / 10: 177.2.
    const units = dynamoWriteUnits(indexed);
    expect(units).toMatchObject({ tableUnits: 169, sized: 150, writes: 152 });
    expect(units.gsi1Units).toBeCloseTo(177.2, 9);
    expect(units.units).toBeCloseTo(346.2, 9);
    expect(costOf({ ...usage, dynamodb: indexed }).dynamodb).toBeCloseTo(346.2 * 0.625e-6, 12);
  });

  it("bills a write that takes its item off gsi1 the delete of its index entry, not the kind's mean at the end", () => {
    // A delete phase: 60 copies' records put `deleted` (off gsi1), 20 decisions put `Deleted`, none left on gsi1, so
    // their kinds' mean gsi1 units at the end are 0; DynamoDB bills each put the delete of the entry the item had.
    const counts = {
      requests: { PutItem: 82 },
      byItem: { 'PutItem SYNC': 60, 'PutItem DECISION': 20, 'PutItem TOMBSTONE': 2 },
      writeBytes: 82 * 900,
      itemBytes: { SYNC: kind(60, 1, 0), DECISION: kind(20, 2, 0) },
      gsi1Leaves: { 'PutItem SYNC': 60, 'PutItem DECISION': 20, 'PutItem TOMBSTONE': 2 },
    };
    // Table: 60 × 1 + 20 × 2 + 2 by the body (1 unit) = 102; gsi1: 60 × 1 + 20 × 2 + 2 × 1 = 102.
    expect(dynamoWriteUnits(counts)).toEqual({ units: 204, tableUnits: 102, gsi1Units: 102, sized: 80, writes: 82 });
    // Without the leaves counted (as the model billed before): 0 on gsi1.
    expect(dynamoWriteUnits({ ...counts, gsi1Leaves: undefined }).gsi1Units).toBe(0);
    // A mixed phase: 10 of 40 SYNC puts leave, the other 30 are billed the kind's mean (0.75: 3 of 4 items on gsi1).
    const mixed = {
      requests: { PutItem: 40 },
      byItem: { 'PutItem SYNC': 40 },
      writeBytes: 40 * 900,
      itemBytes: { SYNC: kind(40, 1, 0.75) },
      gsi1Leaves: { 'PutItem SYNC': 10 },
    };
    expect(dynamoWriteUnits(mixed).gsi1Units).toBeCloseTo(30 * 0.75 + 10 * 1, 9);
  });
});

describe('stack inventory', () => {
  it('reads rate expressions', () => {
    expect([rateSeconds('rate(1 minute)'), rateSeconds('rate(5 minutes)'), rateSeconds('rate(2 hours)')]).toEqual([
      60, 300, 7200,
    ]);
    expect(() => rateSeconds('cron(0 * * * ? *)')).toThrow(/rate expression/);
  });

  it('counts what the synthesized stack bills for, schedules at their configured rates', () => {
    const { template, logRetentionDays } = synthesizedTemplate(resolve(__dirname, '../../..'), {
      stage: 'cost',
      scheduleRates: '{"health-probe": "300"}',
      logRetentionDays: '14',
    });
    const inventory = inventoryOf(template);
    const t = Template.fromJSON(template as Record<string, unknown>);
    expect(logRetentionDays).toBe(14);
    expect(inventory.alarms).toBe(Object.keys(t.findResources('AWS::CloudWatch::Alarm')).length);
    // Metric-math alarms (error rates, throttles, API shares) bill every metric they read.
    expect(inventory.alarmMetrics).toBeGreaterThan(inventory.alarms);
    expect(inventory.dashboards).toBe(1);
    expect(inventory.secrets).toBe(3);
    expect(inventory.polledQueues).toBe(Object.keys(QUEUES).length);
    // No schedule target is actively traced (each run would be a billed trace), status-up (the backstop) included;
    // the message path is.
    expect(inventory.tracedFunctions).toEqual(
      expect.arrayContaining(['ingress', 'placement', 'sync-apply', 'virtual-workspace']),
    );
    for (const name of ['health-probe', 'recovery-sweep', 'metrics-rollup', 'status-up'])
      expect(inventory.tracedFunctions).not.toContain(name);
    expect(inventory.schedules).toEqual(
      expect.arrayContaining(
        SCHEDULES.map((s) => ({ name: s.name, rateSeconds: s.name === 'health-probe' ? 300 : s.rateSeconds })),
      ),
    );
    expect(inventory.schedules).toHaveLength(SCHEDULES.length);
  });
});
