import { FUNCTIONS, QUEUES, ROUTES, SCHEDULES, type FunctionName } from '../../lib/runtime/resources';
import type { FloorResult } from '../e2e/floor';
import type { CpuPerSync } from '../e2e/per-sync';
import type { InvocationIo } from '../support/invocation-io';
import type { IoService } from '../support/io-rounds';
import type { LambdaUsage } from '../support/tmc-metrics';
import { costOf, FULL_VCPU_MB, IN_REGION_LATENCY_MS, type CostBreakdown, type Usage } from './model';
import { PRICES, type Prices } from './prices';

/**
 * A phase's Lambda bill modelled as Lambda would bill it, beside the local-duration upper bound, and the floor run's
 * work priced the same way. Per invocation, billed ms = the function's measured CPU stretched to its share of a vCPU
 * (CPU × max(1, 1,769 MB / memory)) + one in-region latency per round of requests (IN_REGION_LATENCY_MS, the slowest
 * service of the round), rounded up to 1 ms; × the configured memory = GB-s; + the per-request charge.
 */

/** One function's work in a phase. */
export interface FunctionWork {
  invocations: number;
  /** CPU ms of all its invocations: its own thread's share, and that share of V8's background threads. */
  cpuMs: number;
  /** Rounds of requests summed over its invocations, by the services a round's requests went to (`dynamodb+sqs`). */
  rounds: Record<string, number>;
}

export interface FunctionBill {
  memoryMb: number;
  invocations: number;
  /** Per invocation: measured CPU ms, the same stretched to the memory's share of a vCPU, rounds, waits, billed ms. */
  cpuMs: number;
  cpuBilledMs: number;
  rounds: number;
  ioMs: number;
  billedMs: number;
  gbSeconds: number;
  requestsDollars: number;
  computeDollars: number;
}

/** The latency of one round: its slowest service's (`dynamodb+kubernetes` → 30 ms). */
export function roundLatencyMs(services: string): number {
  return Math.max(
    0,
    ...services
      .split('+')
      .filter((s): s is IoService => s in IN_REGION_LATENCY_MS)
      .map((s) => IN_REGION_LATENCY_MS[s]),
  );
}

/** CPU ms stretched to what a function of `memoryMb` gets: a whole vCPU at 1,769 MB, a fraction below. */
export const stretchedCpuMs = (cpuMs: number, memoryMb: number): number => cpuMs * Math.max(1, FULL_VCPU_MB / memoryMb);

export function billFunction(work: FunctionWork, memoryMb: number, prices: Prices = PRICES): FunctionBill {
  const n = work.invocations;
  const totalRounds = Object.values(work.rounds).reduce((a, b) => a + b, 0);
  const waitMs = Object.entries(work.rounds).reduce((a, [k, v]) => a + v * roundLatencyMs(k), 0);
  const cpuMs = n === 0 ? 0 : work.cpuMs / n;
  const cpuBilledMs = stretchedCpuMs(cpuMs, memoryMb);
  const ioMs = n === 0 ? 0 : waitMs / n;
  const billedMs = n === 0 ? 0 : Math.ceil(cpuBilledMs + ioMs);
  const gbSeconds = (n * billedMs * memoryMb) / 1000 / 1024;
  return {
    memoryMb,
    invocations: n,
    cpuMs,
    cpuBilledMs,
    rounds: n === 0 ? 0 : totalRounds / n,
    ioMs,
    billedMs,
    gbSeconds,
    requestsDollars: (n / 1e6) * prices.lambda.perMillionRequests,
    computeDollars: gbSeconds * prices.lambda.perGbSecond,
  };
}

/** Components that are a JavaScript thread's own CPU (bench/support/cpu-split.ts). */
const isIsolateThread = (component: string): boolean =>
  component.startsWith('fn:') || component.startsWith('main: ') || component === 'dynalite' || component === 'fauxqs';
const BACKGROUND = 'V8/libuv background';

/**
 * Each function's CPU in a phase, from the per-thread split: a function in a thread of its own (`fn:<name>`) has that
 * thread's; the functions sharing one thread (`fn:functions`, the benchmark's default: `shared`) and the ones on the
 * main thread (`main: tmc on main`, the schedules) split theirs in proportion to their summed duration (the
 * handler's wall time: an approximation, as a shared thread runs invocations interleaved). Each function also gets the
 * share of V8's and libuv's background threads (concurrent GC and compilers, shared by every isolate in the process)
 * that its CPU is of all isolates' CPU: in Lambda those threads run in the function's sandbox and draw on its CPU.
 * For memory up to 1,769 MB the billed CPU (CPU × 1,769 / memory × memory) does not depend on memory, so how a shared
 * thread's CPU is split changes only which function's line it shows on, not the total.
 */
export function functionCpuMs(
  lambda: Record<string, LambdaUsage>,
  cpu: Pick<CpuPerSync, 'perSyncMs'>,
  syncs: number,
  sharedThread: readonly string[],
): Record<string, number> {
  const ms = (component: string): number => (cpu.perSyncMs[component] ?? 0) * syncs;
  const out: Record<string, number> = {};
  const split = (component: string, members: string[]): void => {
    const total = members.reduce((n, f) => n + (lambda[f]?.durationSeconds ?? 0), 0);
    for (const f of members)
      out[f] =
        (out[f] ?? 0) +
        (total > 0 ? (ms(component) * (lambda[f]?.durationSeconds ?? 0)) / total : ms(component) / members.length);
  };
  const functions = Object.keys(lambda);
  const own = functions.filter((f) => cpu.perSyncMs[`fn:${f}`] !== undefined);
  for (const f of own) out[f] = ms(`fn:${f}`);
  const hasShared = cpu.perSyncMs['fn:functions'] !== undefined;
  const shared = functions.filter((f) => !own.includes(f) && hasShared && sharedThread.includes(f));
  if (shared.length > 0) split('fn:functions', shared);
  const onMain = functions.filter((f) => !own.includes(f) && !shared.includes(f));
  if (onMain.length > 0) split('main: tmc on main', onMain);
  const isolates = Object.keys(cpu.perSyncMs)
    .filter(isIsolateThread)
    .reduce((n, k) => n + ms(k), 0);
  const background = ms(BACKGROUND);
  if (isolates > 0) for (const f of Object.keys(out)) out[f] += (background * out[f]) / isolates;
  return out;
}

/** Functions only a schedule invokes (no queue, no route): their runs are paid per minute, not per change. */
const SCHEDULED_ONLY = new Set<string>(
  SCHEDULES.map((s) => s.target).filter(
    (fn) => !Object.values(QUEUES).some((q) => q.consumer === fn) && !ROUTES.some((r) => r.target === fn),
  ),
);

/** What a phase measured that the model needs. */
export interface PhaseMeasure extends Usage {
  objects: number;
  clusters: number;
  cpu?: Pick<CpuPerSync, 'perSyncMs'>;
  invocationIo?: Pick<InvocationIo, 'byFunction'>;
}

export interface PhaseCost extends CostBreakdown {
  /** `modeled`: lambdaRequests/lambdaCompute from CPU and rounds; `local durations`: the upper bound (no profile). */
  lambdaBasis: 'modeled' | 'local durations';
  /**
   * Lambda of the scheduled-only functions' runs that fell in the phase (recovery-sweep, health-probe,
   * metrics-rollup), modelled alike: they run on their timers whatever changes, so they are a cost per minute (the
   * idle month's), not per change, and are left out of lambdaRequests, lambdaCompute and total.
   */
  schedules?: number;
  /** Lambda at local duration × configured memory (requests included): the upper bound, kept in view. */
  lambdaUpperBound: number;
  byFunction?: Record<string, FunctionBill>;
}

/** The memory each function is billed at: lib/runtime/resources.ts, unless `memory` says otherwise. */
export type MemoryOf = (fn: string) => number;
export const configuredMemory: MemoryOf = (fn) => (fn in FUNCTIONS ? FUNCTIONS[fn as FunctionName].memoryMb : 1024);

/** Each function's work in a phase; undefined without a CPU split or rounds (a result from before they were measured). */
export function phaseWork(p: PhaseMeasure, sharedThread: readonly string[]): Record<string, FunctionWork> | undefined {
  if (p.cpu === undefined || p.invocationIo === undefined) return undefined;
  const cpu = functionCpuMs(p.lambda, p.cpu, p.objects * p.clusters, sharedThread);
  return Object.fromEntries(
    Object.entries(p.lambda).map(([fn, u]) => [
      fn,
      { invocations: u.invocations, cpuMs: cpu[fn] ?? 0, rounds: p.invocationIo?.byFunction[fn]?.rounds ?? {} },
    ]),
  );
}

/** A phase's bill: DynamoDB, SQS and API Gateway from the counts, Lambda modelled (else the upper bound). */
export function phaseCost(
  p: PhaseMeasure,
  sharedThread: readonly string[],
  memoryOf: MemoryOf = configuredMemory,
  prices: Prices = PRICES,
): PhaseCost {
  const upper = costOf(p, prices);
  const lambdaUpperBound = upper.lambdaRequests + upper.lambdaCompute;
  const work = phaseWork(p, sharedThread);
  if (work === undefined) return { ...upper, lambdaBasis: 'local durations', lambdaUpperBound };
  const byFunction = Object.fromEntries(
    Object.entries(work).map(([fn, w]) => [fn, billFunction(w, memoryOf(fn), prices)]),
  );
  const dollars = (b: FunctionBill): number => b.requestsDollars + b.computeDollars;
  const perChange = Object.entries(byFunction).filter(([fn]) => !SCHEDULED_ONLY.has(fn));
  const lambdaRequests = perChange.reduce((n, [, b]) => n + b.requestsDollars, 0);
  const lambdaCompute = perChange.reduce((n, [, b]) => n + b.computeDollars, 0);
  return {
    ...upper,
    lambdaRequests,
    lambdaCompute,
    total: lambdaRequests + lambdaCompute + upper.dynamodb + upper.sqs + upper.apiGateway,
    lambdaBasis: 'modeled',
    lambdaUpperBound,
    schedules: Object.entries(byFunction)
      .filter(([fn]) => SCHEDULED_ONLY.has(fn))
      .reduce((n, [, b]) => n + dollars(b), 0),
    byFunction,
  };
}

/** Webhook calls at the floor: one admission call per object, one status call per Deployment·cluster. */
export const floorWebhookCalls = (objects: number, deployments: number, clusters: number): number =>
  objects + deployments * clusters;

/**
 * The floor run's work (bench/e2e/floor.ts) priced by the same model: its DynamoDB and SQS requests as measured (each
 * write one unit: its items are under 1 KiB), API Gateway at one admission call per object and one status call per
 * Deployment·cluster, and Lambda as the floor design would run: each webhook call an invocation of ingress with one
 * round (its one send or write; its CPU is not in the floor run, so 0: a lower bound), placement invocations of full
 * batches (QUEUES batch size) with two rounds (decision writes, then sync sends), sync-apply invocations of full
 * batches with two rounds (applies, then state writes) and a third, kcp, on those that finish a Deployment (its status
 * write), the floor pipeline's CPU (its thread, and its share of the background threads) split between placement and
 * sync-apply by their requests.
 */
export function floorCost(
  floor: Pick<FloorResult, 'objects' | 'clusters' | 'requestsPerSync'> & { cpu?: Pick<CpuPerSync, 'perSyncMs'> },
  deployments: number,
  memoryOf: MemoryOf = configuredMemory,
  prices: Prices = PRICES,
): PhaseCost {
  const syncs = floor.objects * floor.clusters;
  const counts = (perSync: Record<string, number>): Record<string, number> =>
    Object.fromEntries(Object.entries(perSync).map(([k, v]) => [k, Math.round(v * syncs)]));
  const dynamodb = counts(floor.requestsPerSync.dynamodb);
  const calls = floorWebhookCalls(floor.objects, deployments, floor.clusters);
  const placements = Math.ceil(floor.objects / QUEUES.placement.batchSize);
  const applies = Math.ceil(syncs / QUEUES.sync.batchSize);
  const statusRounds = Math.min(deployments, applies);
  const cpu = floor.cpu
    ? functionCpuMs({ floor: { invocations: 1, durationSeconds: 1 } }, floor.cpu, syncs, [])
    : { floor: 0 };
  // Requests each makes: placement a decision write per object and a send per batch of ten; sync-apply an apply and
  // a state write per object·cluster and a status write per Deployment.
  const placementRequests = floor.objects + Math.ceil(syncs / 10);
  const applyRequests = 2 * syncs + deployments;
  const share = (n: number): number => ((cpu.floor ?? 0) * n) / (placementRequests + applyRequests);
  const work: Record<string, FunctionWork> = {
    ingress: { invocations: calls, cpuMs: 0, rounds: { sqs: calls } },
    placement: {
      invocations: placements,
      cpuMs: share(placementRequests),
      rounds: { dynamodb: placements, sqs: placements },
    },
    'sync-apply': {
      invocations: applies,
      cpuMs: share(applyRequests),
      rounds: { kubernetes: applies + statusRounds, dynamodb: applies },
    },
  };
  const usage: Usage = {
    lambda: {},
    dynamodb: {
      requests: dynamodb,
      byItem: {},
      // One unit per item written: the floor's items are a few hundred bytes.
      writeBytes: 0,
    },
    sqs: { requests: counts(floor.requestsPerSync.sqs), byItem: {}, writeBytes: 0 },
  };
  const base = costOf(usage, prices);
  const byFunction = Object.fromEntries(
    Object.entries(work).map(([fn, w]) => [fn, billFunction(w, memoryOf(fn), prices)]),
  );
  const bills = Object.values(byFunction);
  const lambdaRequests = bills.reduce((n, b) => n + b.requestsDollars, 0);
  const lambdaCompute = bills.reduce((n, b) => n + b.computeDollars, 0);
  const apiGateway = (calls / 1e6) * prices.apiGateway.perMillionRequests;
  return {
    lambdaRequests,
    lambdaCompute,
    dynamodb: base.dynamodb,
    sqs: base.sqs,
    apiGateway,
    total: lambdaRequests + lambdaCompute + base.dynamodb + base.sqs + apiGateway,
    lambdaBasis: 'modeled',
    lambdaUpperBound: lambdaRequests + lambdaCompute,
    byFunction,
  };
}

/** Every dollar figure of a cost × `factor` (per million objects: 1e6 / objects). */
export function scaleCost(cost: PhaseCost, factor: number): PhaseCost {
  const scaleBill = (b: FunctionBill): FunctionBill => ({
    ...b,
    invocations: b.invocations * factor,
    gbSeconds: b.gbSeconds * factor,
    requestsDollars: b.requestsDollars * factor,
    computeDollars: b.computeDollars * factor,
  });
  return {
    ...cost,
    lambdaRequests: cost.lambdaRequests * factor,
    lambdaCompute: cost.lambdaCompute * factor,
    dynamodb: cost.dynamodb * factor,
    sqs: cost.sqs * factor,
    apiGateway: cost.apiGateway * factor,
    total: cost.total * factor,
    lambdaUpperBound: cost.lambdaUpperBound * factor,
    ...(cost.schedules === undefined ? {} : { schedules: cost.schedules * factor }),
    ...(cost.byFunction
      ? { byFunction: Object.fromEntries(Object.entries(cost.byFunction).map(([k, b]) => [k, scaleBill(b)])) }
      : {}),
  };
}

/** The init budget a cold start must meet (issue 20), at the function's share of a vCPU. */
export const INIT_BUDGET_MS = 300;

export interface SizingRow {
  memoryMb: number;
  /** Per million objects at this memory: the function's Lambda dollars. */
  dollars: number;
  billedMs: number;
  /** Init at this memory: the measured init CPU stretched to its share of a vCPU; undefined when not measured. */
  initMs?: number;
  /** Init within INIT_BUDGET_MS and the slowest invocation's modelled duration within the function's timeout. */
  fits: boolean;
}

/**
 * One function's Lambda dollars at each candidate memory, and whether the memory fits: init (measured init CPU ×
 * max(1, 1,769 / memory)) within 300 ms, and the phase's slowest invocation (its CPU per invocation stretched, plus
 * its most rounds at the slowest service's latency) within the function's timeout. Below 1,769 MB the CPU part of the
 * bill is the same at any memory and the waits cost in proportion to memory, so the cheapest fitting memory is the
 * smallest one that fits.
 */
export function memorySizing(
  fn: string,
  work: FunctionWork,
  options: { candidates: readonly number[]; initCpuMs?: number; maxRounds?: number; timeoutSeconds?: number },
  prices: Prices = PRICES,
): SizingRow[] {
  const timeoutMs =
    (options.timeoutSeconds ?? (fn in FUNCTIONS ? FUNCTIONS[fn as FunctionName].timeoutSeconds : 60)) * 1000;
  const slowestRoundMs = Math.max(...Object.values(IN_REGION_LATENCY_MS));
  return options.candidates.map((memoryMb) => {
    const bill = billFunction(work, memoryMb, prices);
    const initMs = options.initCpuMs === undefined ? undefined : stretchedCpuMs(options.initCpuMs, memoryMb);
    const slowestMs = bill.cpuBilledMs + (options.maxRounds ?? bill.rounds) * slowestRoundMs;
    return {
      memoryMb,
      dollars: bill.requestsDollars + bill.computeDollars,
      billedMs: bill.billedMs,
      ...(initMs === undefined ? {} : { initMs }),
      fits: (initMs === undefined || initMs <= INIT_BUDGET_MS) && slowestMs <= timeoutMs,
    };
  });
}

/** What the per-million figures assume, printed under the table and repeated in docs/bench.md. */
export const PHASE_COST_ASSUMPTIONS: readonly string[] = [
  `Lambda (modelled): per invocation, the function's measured CPU × max(1, ${FULL_VCPU_MB} MB / memory) (its share of a vCPU) + one in-region latency per round of requests (DynamoDB ${IN_REGION_LATENCY_MS.dynamodb} ms, SQS ${IN_REGION_LATENCY_MS.sqs} ms, kcp and clusters ${IN_REGION_LATENCY_MS.kubernetes} ms, Secrets Manager ${IN_REGION_LATENCY_MS.secretsmanager} ms; a round costs its slowest service's), rounded up to 1 ms, × the configured memory (lib/runtime/resources.ts) + $0.20 per million requests`,
  "CPU: each function's thread from /proc; functions sharing a thread (the benchmark's default) or the main thread split it by their summed duration; each gets the share of V8's background threads (GC, compilers) its CPU is of all isolates' CPU. Under 1,769 MB the CPU part does not depend on memory or on that split",
  'rounds: counted per invocation in every thread (bench/support/invocation-io-preload.cjs): a request that starts after one of round n finished is in round n + 1, so rounds are the critical path in requests whatever the local latencies',
  `invocations and batches as measured: the local event sources poll with each queue's batch size (${Object.values(
    QUEUES,
  )
    .map((q) => `${q.name} ${q.batchSize}`)
    .join(
      ', ',
    )}) and batching window (0 s), one container per consumer, so batches fill as far as messages wait, as Lambda's pollers fill them`,
  'scheduled-only functions (recovery-sweep, health-probe, metrics-rollup) run on their timers whatever changes: their runs during a phase are shown apart (`sched.`) and left out of Lambda and the total (the idle month bills them per minute); their DynamoDB and SQS requests during the phase stay in those columns (the emulators cannot tell callers apart): an overstatement',
  'upper bound: local duration × configured memory of every function that ran, as before (a 2-core machine shared with the emulators and the simulator)',
  "DynamoDB, SQS and API Gateway are counts × list prices (firm); API Gateway: one request per ingress invocation (kcp admission calls, the clusters' status calls)",
  "DynamoDB write units by item size: the table scanned after each phase, each item sized by DynamoDB's rules (bench/support/item-size.ts), each write billed its kind's mean units per item (1 per KiB started), and again on gsi1 (every attribute projected) for a kind whose items carry its keys, by the same size (DynamoDB bills an index its entry's write); a kind not in the table at the end by its request body (an overstatement) plus the table's mean gsi1 units; a write that takes an item off gsi1 (a removed copy, a gone object's decision: a put of an expiring record without gsi1's keys, counted as it is sent) billed the entry's delete there, at least 1 unit; the floor's items billed on the table only; reads 1 unit per item (items over 4 KiB read more: an understatement)",
  "floor: the floor run's DynamoDB and SQS requests as measured, API Gateway at 1 admission call per object + 1 status call per Deployment·cluster, Lambda as a floor design runs (webhook calls one SQS round each, their CPU not measured: 0; placement and sync-apply in full batches, two rounds each, a kcp round per Deployment status), the floor pipeline's CPU split by requests",
];
