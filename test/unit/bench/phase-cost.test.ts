import {
  billFunction,
  floorCost,
  functionCpuMs,
  memorySizing,
  phaseCost,
  roundLatencyMs,
  scaleCost,
  type PhaseMeasure,
} from '../../../bench/cost/phase';
import { costOf } from '../../../bench/cost/model';

/** The per-million model's arithmetic, worked by hand from bench/cost/prices.ts ($0.0000133334 per GB-s, $0.20/M). */

const GB_S = 0.0000133334;
const memory = (table: Record<string, number>) => (fn: string) => table[fn] ?? 1024;

describe('a round of requests', () => {
  it.each([
    ['dynamodb', 10],
    ['sqs', 20],
    ['kubernetes', 30],
    ['dynamodb+kubernetes', 30],
    ['dynamodb+sqs', 20],
    ['', 0],
  ])('%s waits %i ms in region (its slowest service)', (services, ms) => {
    expect(roundLatencyMs(services)).toBe(ms);
  });
});

describe('one function billed from CPU and rounds', () => {
  const work = { invocations: 10, cpuMs: 50, rounds: { dynamodb: 20, 'dynamodb+kubernetes': 10, sqs: 10 } };

  it('stretches CPU to the memory share of a vCPU and adds a latency per round, per invocation', () => {
    const bill = billFunction(work, 1024);
    // 5 ms of CPU at 1,024 MB (0.58 of a vCPU) = 8.64 ms; waits (20 × 10 + 10 × 30 + 10 × 20) / 10 = 70 ms: 79 ms
    expect(bill.cpuMs).toBe(5);
    expect(bill.cpuBilledMs).toBeCloseTo((5 * 1769) / 1024, 10);
    expect(bill.rounds).toBe(4);
    expect(bill.ioMs).toBe(70);
    expect(bill.billedMs).toBe(79);
    // 10 × 0.079 s × 1 GB
    expect(bill.gbSeconds).toBeCloseTo(0.79, 10);
    expect(bill.computeDollars).toBeCloseTo(0.79 * GB_S, 15);
    expect(bill.requestsDollars).toBeCloseTo(10 * 0.2e-6, 15);
  });

  it('gives a whole vCPU from 1,769 MB on: 5 + 70 ms at 2,048 MB, twice the GB per second', () => {
    const bill = billFunction(work, 2048);
    expect(bill.billedMs).toBe(75);
    expect(bill.gbSeconds).toBeCloseTo(10 * 0.075 * 2, 10);
  });

  it('bills nothing for a function that did not run', () => {
    expect(billFunction({ invocations: 0, cpuMs: 0, rounds: {} }, 512)).toMatchObject({
      billedMs: 0,
      gbSeconds: 0,
      requestsDollars: 0,
    });
  });
});

describe("each function's CPU from the per-thread split", () => {
  const lambda = {
    ingress: { invocations: 30, durationSeconds: 3 },
    placement: { invocations: 3, durationSeconds: 1 },
    'recovery-sweep': { invocations: 1, durationSeconds: 2 },
  };

  it('splits a shared thread and the main thread by duration and adds their share of the background threads', () => {
    const cpu = {
      perSyncMs: {
        'fn:functions': 2,
        'main: tmc on main': 0.5,
        'main: simulator': 1.5,
        dynalite: 1,
        'V8/libuv background': 1,
        'harness: profiler': 3,
      },
    };
    // 100 syncs: the shared thread's 200 ms goes 3 : 1 to ingress and placement, the main thread's tmc 50 ms to the
    // sweep; the background's 100 ms is shared by the isolates' 500 ms (the profiler's thread is not an isolate's).
    const out = functionCpuMs(lambda, cpu, 100, ['ingress', 'placement', 'sync-apply', 'status-up']);
    expect(out.ingress).toBeCloseTo(150 + 30, 10);
    expect(out.placement).toBeCloseTo(50 + 10, 10);
    expect(out['recovery-sweep']).toBeCloseTo(50 + 10, 10);
  });

  it("gives a function in a thread of its own that thread's CPU", () => {
    const cpu = { perSyncMs: { 'fn:ingress': 1, 'fn:placement': 0.25, 'main: tmc on main': 0.25 } };
    const out = functionCpuMs(lambda, cpu, 100, ['ingress', 'placement']);
    expect(out).toEqual({ ingress: 100, placement: 25, 'recovery-sweep': 25 });
  });
});

describe("a phase's bill", () => {
  const phase: PhaseMeasure = {
    objects: 20,
    clusters: 3,
    lambda: {
      ingress: { invocations: 50, durationSeconds: 10 },
      'sync-apply': { invocations: 6, durationSeconds: 30 },
    },
    dynamodb: { requests: { PutItem: 100, GetItem: 40 }, byItem: {}, writeBytes: 100 * 300 },
    sqs: {
      requests: { SendMessageBatch: 20, ReceiveMessage: 6, DeleteMessageBatch: 6, GetQueueAttributes: 9 },
      byItem: {},
      writeBytes: 0,
    },
    cpu: { perSyncMs: { 'fn:functions': 1 } },
    invocationIo: {
      byFunction: {
        ingress: { invocations: 50, requests: {}, rounds: { sqs: 50 }, maxRounds: 1 },
        'sync-apply': { invocations: 6, requests: {}, rounds: { kubernetes: 12, dynamodb: 6 }, maxRounds: 3 },
      },
    },
  };

  it('prices Lambda from CPU and rounds, keeps the local-duration figure as the upper bound, and the counts firm', () => {
    const cost = phaseCost(phase, ['ingress', 'sync-apply'], memory({ ingress: 512, 'sync-apply': 1024 }));
    // 60 ms of the shared thread split 1 : 3 by duration: ingress 15 ms over 50 calls = 0.3 ms, × 1769 / 512 = 1.04 ms,
    // + one SQS round (20 ms) = 22 ms billed at 0.5 GB; sync-apply 45 ms / 6 = 7.5 ms × 1769 / 1024 = 12.96 ms, +
    // (12 × 30 + 6 × 10) / 6 = 70 ms = 83 ms at 1 GB
    expect(cost.byFunction?.ingress.billedMs).toBe(22);
    expect(cost.byFunction?.['sync-apply'].billedMs).toBe(83);
    const gbSeconds = 50 * 0.022 * 0.5 + 6 * 0.083 * 1;
    expect(cost.lambdaCompute).toBeCloseTo(gbSeconds * GB_S, 15);
    expect(cost.lambdaRequests).toBeCloseTo(56 * 0.2e-6, 15);
    expect(cost.lambdaBasis).toBe('modeled');
    // The upper bound: 10 s × 0.5 GB + 30 s × 1 GB of local duration, + the same requests
    const upper = costOf(phase, undefined);
    expect(cost.lambdaUpperBound).toBeCloseTo(upper.lambdaRequests + upper.lambdaCompute, 15);
    // DynamoDB: 100 writes of 300 bytes (1 unit each) × $0.625/M + 40 reads × $0.125/M; SQS: 32 (the harness's
    // GetQueueAttributes left out) × $0.40/M; API Gateway: 50 ingress calls × $1/M
    expect(cost.dynamodb).toBeCloseTo(100 * 0.625e-6 + 40 * 0.125e-6, 15);
    expect(cost.sqs).toBeCloseTo(32 * 0.4e-6, 15);
    expect(cost.apiGateway).toBeCloseTo(50e-6, 15);
    expect(cost.total).toBeCloseTo(
      gbSeconds * GB_S + 56 * 0.2e-6 + 100 * 0.625e-6 + 40 * 0.125e-6 + 32 * 0.4e-6 + 50e-6,
      15,
    );
    // Per million objects: × 50,000
    expect(scaleCost(cost, 1e6 / 20).total).toBeCloseTo(cost.total * 50_000, 9);
  });

  it("shows a scheduled-only function's runs apart: paid per minute, not per change", () => {
    const withSweep: PhaseMeasure = {
      ...phase,
      lambda: { ...phase.lambda, 'recovery-sweep': { invocations: 1, durationSeconds: 5 } },
      cpu: { perSyncMs: { 'fn:functions': 1, 'main: tmc on main': 0.5 } },
      invocationIo: {
        byFunction: {
          ...phase.invocationIo!.byFunction,
          'recovery-sweep': { invocations: 1, requests: {}, rounds: { dynamodb: 10 }, maxRounds: 10 },
        },
      },
    };
    const memoryOf = memory({ ingress: 512, 'sync-apply': 1024, 'recovery-sweep': 1024 });
    const cost = phaseCost(withSweep, ['ingress', 'sync-apply'], memoryOf);
    const without = phaseCost(phase, ['ingress', 'sync-apply'], memoryOf);
    // 30 ms of the main thread's tmc CPU × 1769 / 1024 = 51.8 ms + 10 rounds × 10 ms = 152 ms at 1 GB
    expect(cost.byFunction?.['recovery-sweep'].billedMs).toBe(152);
    expect(cost.schedules).toBeCloseTo(0.152 * GB_S + 0.2e-6, 15);
    expect(cost.lambdaCompute).toBeCloseTo(without.lambdaCompute, 15);
    expect(cost.total).toBeCloseTo(without.total, 15);
  });

  it('falls back to the upper bound when the phase has no rounds measured', () => {
    const { invocationIo: _none, ...old } = phase;
    const cost = phaseCost(old, ['ingress', 'sync-apply']);
    expect(cost.lambdaBasis).toBe('local durations');
    expect(cost.lambdaRequests + cost.lambdaCompute).toBeCloseTo(cost.lambdaUpperBound, 15);
    expect(cost.byFunction).toBeUndefined();
  });
});

describe('the floor run priced alike', () => {
  it('prices its requests, one webhook call per object and per Deployment·cluster, and full batches', () => {
    const floor = floorCost(
      {
        objects: 20,
        clusters: 3,
        cpu: { perSyncMs: { 'fn:floor': 1 } },
        requestsPerSync: {
          dynamodb: { PutItem: 80 / 60 },
          sqs: { SendMessageBatch: 8 / 60, ReceiveMessage: 10 / 60, DeleteMessageBatch: 8 / 60 },
          kcpReads: 0,
          kcpWrites: 10 / 60,
          clusterReads: 0,
          clusterWrites: 1,
          total: 0,
        },
      },
      10,
      memory({ ingress: 512, placement: 1024, 'sync-apply': 1024 }),
    );
    // 20 admission calls + 10 Deployments × 3 status calls = 50, one SQS round each at 512 MB: 20 ms
    expect(floor.byFunction?.ingress).toMatchObject({ invocations: 50, billedMs: 20 });
    // 2 placement batches: 60 ms of CPU × 26 / 156 requests = 10 ms, 5 ms each × 1769 / 1024 + 10 + 20 ms = 39 ms
    expect(floor.byFunction?.placement).toMatchObject({ invocations: 2, billedMs: 39 });
    // 6 sync-apply batches: 50 ms / 6 × 1769 / 1024 = 14.4 ms + (12 × 30 + 6 × 10) / 6 = 70 ms: 85 ms
    expect(floor.byFunction?.['sync-apply']).toMatchObject({ invocations: 6, billedMs: 85 });
    const gbSeconds = 50 * 0.02 * 0.5 + 2 * 0.039 + 6 * 0.085;
    expect(floor.lambdaCompute).toBeCloseTo(gbSeconds * GB_S, 15);
    expect(floor.lambdaRequests).toBeCloseTo(58 * 0.2e-6, 15);
    expect(floor.dynamodb).toBeCloseTo(80 * 0.625e-6, 15);
    expect(floor.sqs).toBeCloseTo(26 * 0.4e-6, 15);
    expect(floor.apiGateway).toBeCloseTo(50e-6, 15);
    expect(floor.total).toBeCloseTo(gbSeconds * GB_S + 58 * 0.2e-6 + 80 * 0.625e-6 + 26 * 0.4e-6 + 50e-6, 15);
  });
});

describe('memory sizing', () => {
  const work = { invocations: 10, cpuMs: 50, rounds: { dynamodb: 20, 'dynamodb+kubernetes': 10, sqs: 10 } };

  it('is cheaper with less memory below a whole vCPU, and fits only where init stays within 300 ms', () => {
    const rows = memorySizing('sync-apply', work, { candidates: [256, 512, 1024, 2048], initCpuMs: 140 });
    // Init 140 ms × 1769 / memory: 967, 484, 242, 140 ms
    expect(rows.map((r) => Math.round(r.initMs ?? 0))).toEqual([967, 484, 242, 140]);
    expect(rows.map((r) => r.fits)).toEqual([false, false, true, true]);
    // 5 ms × 1769 / 256 = 34.55 ms + 70 ms = 105 ms at 0.25 GB, against 79 ms at 1 GB
    expect(rows[0].billedMs).toBe(105);
    expect(rows[0].dollars).toBeCloseTo(10 * 0.105 * 0.25 * GB_S + 10 * 0.2e-6, 15);
    expect(rows[2].dollars).toBeCloseTo(10 * 0.079 * GB_S + 10 * 0.2e-6, 15);
    const dollars = rows.map((r) => r.dollars);
    expect([...dollars].sort((a, b) => a - b)).toEqual(dollars);
  });

  it("refuses a memory whose slowest invocation would outlive the function's timeout", () => {
    const slow = { invocations: 1, cpuMs: 4000, rounds: { kubernetes: 10 } };
    // 4 s of CPU × 1769 / 128 = 55 s + 10 rounds × 30 ms: over sync-apply's 60 s? 55.6 s fits; at 10 s it does not
    const [row] = memorySizing('sync-apply', slow, { candidates: [128], timeoutSeconds: 10 });
    expect(row.fits).toBe(false);
    expect(memorySizing('sync-apply', slow, { candidates: [128], timeoutSeconds: 60 })[0].fits).toBe(true);
  });
});
