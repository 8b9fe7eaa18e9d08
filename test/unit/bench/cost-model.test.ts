import { resolve } from 'node:path';
import { QUEUES, SCHEDULES } from '../../../lib/runtime/resources';
import { synthesizedTemplate } from '../../../bench/cost/idle';
import { inventoryOf, rateSeconds } from '../../../bench/cost/inventory';
import {
  costOf,
  dynamoItemReads,
  dynamoItemWrites,
  idleMetricSeries,
  idleMonth,
  type Usage,
} from '../../../bench/cost/model';
import { Template } from 'aws-cdk-lib/assertions';

/** The idle month's arithmetic, worked by hand from bench/cost/prices.ts, and the inventory read from the real stack. */

const run: Usage = {
  lambda: { 'health-probe': { invocations: 1, durationSeconds: 0.5 } },
  dynamodb: { requests: { GetItem: 10, PutItem: 1 }, byItem: {}, writeBytes: 500 },
  sqs: { requests: { ReceiveMessage: 2, GetQueueAttributes: 7 }, byItem: {}, writeBytes: 0 },
};

describe('idle month', () => {
  const month = idleMonth({
    perRun: { 'health-probe': run },
    inventory: {
      alarms: 2,
      alarmMetrics: 5,
      dashboards: 1,
      secrets: 3,
      polledQueues: 3,
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
    // 43,200 × 2 KiB = 0.0824 GB: × $0.50 ingested + 30 days of it stored × $0.03 = $0.0437
    expect(line('CloudWatch Logs ingested and stored')).toBe(0.04);
    // kcp + 2 clusters, each once an hour (a 401 refreshes at once): 3 × 720 = 2,160 calls × $0.05/10,000
    expect(line('Secrets Manager reads')).toBe(0.01);
    expect(line('CloudWatch alarms')).toBe(0.5);
    expect(line('CloudWatch dashboard')).toBe(3);
    expect(line('Secrets Manager secrets')).toBe(2); // (3 + 2 cluster credentials) × $0.40
  });

  it('sums variable and fixed items apart and compares the variable part with the $1 target', () => {
    expect(month.variable).toBe(0.28);
    expect(month.fixed).toBe(6.28);
    expect(month.total).toBe(6.56);
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
        inventory: {
          alarms: 0,
          alarmMetrics: 0,
          dashboards: 0,
          secrets: 0,
          polledQueues: 0,
          schedules: [{ name: 'recovery-sweep', rateSeconds: 60 }],
        },
        clusters: 0,
        logBytesPerRun: 0,
        logRetentionDays: 1,
      }).lines.find((l) => l.item === 'schedule recovery-sweep: DynamoDB')!.dollars;
    // Every run a full pass: 43,200 × 100 reads × $0.125/M = $0.54
    expect(sweep()).toBe(0.54);
    // 1,440 full passes (one per 1,800 s) × 100 reads + 41,760 settled runs × 4 reads, × $0.125/M = $0.0389
    expect(sweep({ 'recovery-sweep': settled })).toBe(0.04);
  });

  it('refuses a schedule it has no measured run for rather than pricing it at zero', () => {
    expect(() =>
      idleMonth({
        perRun: {},
        inventory: {
          alarms: 0,
          alarmMetrics: 0,
          dashboards: 0,
          secrets: 0,
          polledQueues: 0,
          schedules: [{ name: 'health-probe', rateSeconds: 60 }],
        },
        clusters: 0,
        logBytesPerRun: 0,
        logRetentionDays: 1,
      }),
    ).toThrow(/No measured run of schedule health-probe/);
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
    expect(inventory.schedules).toEqual(
      expect.arrayContaining(
        SCHEDULES.map((s) => ({ name: s.name, rateSeconds: s.name === 'health-probe' ? 300 : s.rateSeconds })),
      ),
    );
    expect(inventory.schedules).toHaveLength(SCHEDULES.length);
  });
});
