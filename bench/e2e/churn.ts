import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalStack, StackHeaps } from '../../lib/local/stack';
import type { ThreadHeap } from '../../lib/local/thread-heap';
import { DEFAULT_EVENT_TTL_MS, LONG_RUNNING_REQUEST_LOG_LIMIT } from '../../lib/sim';
import { SCHEDULES } from '../../lib/runtime/resources';
import { configMap, deployment, NS } from './objects';
import type { KcpWriter } from './kcp-writer';

/**
 * The churn phase: a steady workload for `minutes` (each second `rate` changes, in turn a create of a Deployment and
 * its ConfigMap, an update of a live Deployment, a delete of the oldest pair, so about `live` pairs stay), sampled
 * every `sampleSeconds`: the process's memory, every thread's V8 heap after a full collection (the main thread's, each
 * functions' thread's, dynalite's and fauxqs'), the rest of the process's memory outside those heaps, containers
 * started per function, the state directory's size, and each periodic job's duration run on demand. Growth rates are
 * least-squares slopes per minute: what grows under churn and by how much, which a stack left running for a day
 * multiplies.
 */

export interface ChurnSample {
  atSeconds: number;
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
  stateDirMb: number;
  /** Each isolate's live heap (after a full collection) by thread: `main`, the functions' thread labels, `dynamodb`, `sqs`. */
  threadHeapsMb: Record<string, number>;
  /** Each isolate's reserved heap by thread (after the same collection): above the live heap, V8's spare room. */
  threadReservedMb: Record<string, number>;
  /** Of the reserved heap, the young generation's by thread: it grows towards its limit and stays. */
  threadYoungMb: Record<string, number>;
  /** RSS less every isolate's reserved heap: native memory (malloc arenas, LevelDB, buffers, code). */
  outsideHeapsMb: number;
  /** Containers started per function, over every thread. */
  containers: Record<string, number>;
  /** What the simulator holds that grows with use, summed over kcp and the clusters (SimServer.retained). */
  simulator: { watchEvents: number; requestRecords: number; events: number };
  /** schedule → wall ms of one run on demand. */
  jobsMs: Record<string, number>;
}

export interface ChurnResult {
  minutes: number;
  ratePerSecond: number;
  /** Changes per second achieved (below ratePerSecond when the stack cannot keep up). */
  achievedPerSecond: number;
  livePairs: number;
  /** Seconds the simulator kept an Event after its last write (kube's `--event-ttl`). */
  eventTtlSeconds: number;
  changes: { creates: number; updates: number; deletes: number };
  samples: ChurnSample[];
  /** Least-squares slope per minute over the samples. */
  growthPerMinute: {
    rssMb: number;
    heapUsedMb: number;
    stateDirMb: number;
    /** By thread, as in {@link ChurnSample.threadHeapsMb}. */
    threadHeapsMb: Record<string, number>;
    outsideHeapsMb: number;
    watchEvents: number;
    requestRecords: number;
    jobsMs: Record<string, number>;
  };
  /**
   * Every sampled quantity's growth over the run and over its second half (a second-half slope near 0 is growth that
   * levelled off), and where the second half's rate would take it after a day.
   */
  growth: Growth[];
}

/** One quantity's growth over a churn run. */
export interface Growth {
  /** `rssMb`, `threadHeapsMb.main`, `simulator.events`, `jobsMs.health-probe`, … */
  quantity: string;
  unit: 'MB' | 'count' | 'ms';
  start: number;
  end: number;
  /** Least-squares slope per minute over every sample. */
  perMinute: number;
  /** The same over the samples of the run's second half: what the rate has become. */
  secondHalfPerMinute: number;
  /** The second half's rate per hour. */
  perHour: number;
  /** The end value plus the second half's rate until 24 h of running (at least 0). */
  after24h: number;
}

export interface ChurnOptions {
  minutes: number;
  ratePerSecond?: number;
  livePairs?: number;
  sampleSeconds?: number;
  /** Index of the first churn object (after the burst and latency phases' names). */
  firstIndex: number;
  /** The stack's simulator Event TTL, reported with the result (undefined: the simulator's default). */
  eventTtlSeconds?: number;
}

function dirBytes(path: string): number {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    total += entry.isDirectory() ? dirBytes(full) : statSync(full).size;
  }
  return total;
}

/** Least-squares slope of y over x. */
export function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
}

const DAY_MINUTES = 24 * 60;

/**
 * Each quantity's {@link Growth}: slopes over all of `samples` and over those of the second half of the run (at least
 * two), and a projection from the second half's rate to 24 h after the first sample.
 */
export function growthOf(samples: ChurnSample[]): Growth[] {
  if (samples.length === 0) return [];
  const first = samples[0].atSeconds;
  const last = samples[samples.length - 1].atSeconds;
  const half = first + (last - first) / 2;
  const secondHalf = samples.filter((s) => s.atSeconds >= half);
  const tail = secondHalf.length >= 2 ? secondHalf : samples.slice(-2);
  const perMinute = (of: ChurnSample[], pick: (s: ChurnSample) => number): number =>
    slope(of.map((s) => [s.atSeconds / 60, pick(s)]));
  const row = (quantity: string, unit: Growth['unit'], pick: (s: ChurnSample) => number): Growth => {
    const end = pick(samples[samples.length - 1]);
    const recent = perMinute(tail, pick);
    return {
      quantity,
      unit,
      start: pick(samples[0]),
      end,
      perMinute: round2(perMinute(samples, pick)),
      secondHalfPerMinute: round2(recent),
      perHour: round2(recent * 60),
      after24h: round2(Math.max(0, end + recent * (DAY_MINUTES - (last - first) / 60))),
    };
  };
  const names = (pick: (s: ChurnSample) => Record<string, number>): string[] => [
    ...new Set(samples.flatMap((s) => Object.keys(pick(s)))),
  ];
  return [
    row('rssMb', 'MB', (s) => s.rssMb),
    ...names((s) => s.threadHeapsMb).map((t) => row(`threadHeapsMb.${t}`, 'MB', (s) => s.threadHeapsMb[t] ?? 0)),
    ...names((s) => s.threadReservedMb).map((t) =>
      row(`threadReservedMb.${t}`, 'MB', (s) => s.threadReservedMb[t] ?? 0),
    ),
    ...names((s) => s.threadYoungMb).map((t) => row(`threadYoungMb.${t}`, 'MB', (s) => s.threadYoungMb[t] ?? 0)),
    row('outsideHeapsMb', 'MB', (s) => s.outsideHeapsMb),
    row('stateDirMb', 'MB', (s) => s.stateDirMb),
    row('simulator.watchEvents', 'count', (s) => s.simulator.watchEvents),
    row('simulator.requestRecords', 'count', (s) => s.simulator.requestRecords),
    row('simulator.events', 'count', (s) => s.simulator.events),
    ...names((s) => s.jobsMs).map((j) => row(`jobsMs.${j}`, 'ms', (s) => s.jobsMs[j] ?? 0)),
  ];
}

const MB = 1024 * 1024;
const round2 = (n: number): number => Math.round(n * 100) / 100;

/** Every isolate's heap by thread name, from {@link LocalStack.heaps}. */
function heapsByThread(heaps: StackHeaps): Record<string, ThreadHeap> {
  return {
    main: heaps.main,
    ...Object.fromEntries(Object.entries(heaps.functionThreads).map(([label, t]) => [label, t.heap])),
    ...(heaps.emulators ?? {}),
  };
}

/** Containers per function over the functions' threads and the main thread. */
function containersOf(heaps: StackHeaps): Record<string, number> {
  const out: Record<string, number> = { ...heaps.inProcessContainers };
  for (const thread of Object.values(heaps.functionThreads))
    for (const [name, n] of Object.entries(thread.containers)) out[name] = (out[name] ?? 0) + n;
  return out;
}

export async function runChurn(
  stack: LocalStack,
  kcp: KcpWriter,
  stateDir: string,
  options: ChurnOptions,
  say: (line: string) => void,
): Promise<ChurnResult> {
  const rate = options.ratePerSecond ?? 4;
  const live = options.livePairs ?? 50;
  const sampleMs = (options.sampleSeconds ?? 30) * 1000;
  const endAt = performance.now() + options.minutes * 60_000;
  const t0 = performance.now();
  const changes = { creates: 0, updates: 0, deletes: 0 };
  const samples: ChurnSample[] = [];
  const alive: number[] = [];
  let next = options.firstIndex;
  let turn = 0;
  let revision = 1;
  const name = (i: number): string => `churn-${String(i).padStart(6, '0')}`;
  const sim = stack.simulation;
  const simServers = sim ? [sim.kcp, ...Object.values(sim.clusters)] : [];
  // What `npm start` keeps of the request log: the earlier phases' 500,000 per server would stand for a sink that
  // `tmc dev` does not have.
  for (const server of simServers) server.requests.keepNewest(LONG_RUNNING_REQUEST_LOG_LIMIT);
  const sample = async (): Promise<void> => {
    const jobsMs: Record<string, number> = {};
    for (const schedule of SCHEDULES) {
      const started = performance.now();
      await stack.runSchedule(schedule.name);
      jobsMs[schedule.name] = Math.round(performance.now() - started);
    }
    // Each isolate collects its garbage first, so the heaps are what they retain, not when V8 last collected.
    const stackHeaps = await stack.heaps({ collectGarbage: true });
    const heaps = heapsByThread(stackHeaps);
    const memory = process.memoryUsage();
    const reservedBytes = Object.values(heaps).reduce((sum, h) => sum + h.totalBytes, 0);
    samples.push({
      atSeconds: Math.round((performance.now() - t0) / 1000),
      rssMb: round2(memory.rss / MB),
      heapUsedMb: round2(memory.heapUsed / MB),
      externalMb: round2(memory.external / MB),
      stateDirMb: round2(dirBytes(stateDir) / MB),
      threadHeapsMb: Object.fromEntries(Object.entries(heaps).map(([name, h]) => [name, round2(h.usedBytes / MB)])),
      threadReservedMb: Object.fromEntries(Object.entries(heaps).map(([name, h]) => [name, round2(h.totalBytes / MB)])),
      threadYoungMb: Object.fromEntries(Object.entries(heaps).map(([name, h]) => [name, round2(h.youngBytes / MB)])),
      outsideHeapsMb: round2((memory.rss - reservedBytes) / MB),
      containers: containersOf(stackHeaps),
      simulator: simServers
        .map((server) => server.retained())
        .reduce(
          (a, b) => ({
            watchEvents: a.watchEvents + b.watchEvents,
            requestRecords: a.requestRecords + b.requestRecords,
            events: a.events + b.events,
          }),
          { watchEvents: 0, requestRecords: 0, events: 0 },
        ),
      jobsMs,
    });
    const s = samples[samples.length - 1];
    say(
      `  churn: ${s.atSeconds} s, rss ${s.rssMb} MB, heaps ${Object.entries(s.threadHeapsMb)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')} MB, outside heaps ${s.outsideHeapsMb} MB, containers ${Object.entries(s.containers)
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )}, sim watch events ${s.simulator.watchEvents}, sim request records ${s.simulator.requestRecords}, sim Events ${s.simulator.events}, state dir ${s.stateDirMb} MB, jobs ${Object.entries(
        jobsMs,
      )
        .map(([k, v]) => `${k} ${v} ms`)
        .join(', ')}`,
    );
  };
  const change = async (): Promise<void> => {
    const kind = alive.length < live ? 'create' : (['create', 'update', 'delete'] as const)[turn++ % 3];
    if (kind === 'create') {
      const i = next++;
      await kcp.create(`/api/v1/namespaces/${NS}/configmaps`, configMap(i, name(i)));
      await kcp.create(`/apis/apps/v1/namespaces/${NS}/deployments`, deployment(i, name(i)));
      // Live only once both exist, so an update or delete never races its create.
      alive.push(i);
      changes.creates += 1;
    } else if (kind === 'update') {
      // From the newer half: a tick's deletes take the oldest, so the two never meet on one object.
      const i = alive[alive.length - 1 - (turn % Math.max(1, Math.floor(alive.length / 2)))];
      revision += 1;
      await kcp.mergePatch(`/apis/apps/v1/namespaces/${NS}/deployments/${name(i)}`, {
        spec: { template: { metadata: { annotations: { 'bench.tmc.kcp.io/revision': String(revision) } } } },
      });
      changes.updates += 1;
    } else {
      const i = alive.shift();
      if (i === undefined) return;
      await kcp.delete(`/apis/apps/v1/namespaces/${NS}/deployments/${name(i)}`);
      await kcp.delete(`/api/v1/namespaces/${NS}/configmaps/${name(i)}`);
      changes.deletes += 1;
    }
  };
  await sample();
  let nextSample = performance.now() + sampleMs;
  while (performance.now() < endAt) {
    const tick = performance.now();
    // The tick's changes at once, so the pace holds while each write waits on kcp's admission webhook.
    await Promise.all(Array.from({ length: rate }, () => change()));
    if (performance.now() >= nextSample) {
      await sample();
      nextSample += sampleMs;
    }
    const wait = 1000 - (performance.now() - tick);
    // The pace of the workload (changes per second), not a stand-in for work.
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  await sample();
  const perMinute = (pick: (s: ChurnSample) => number): number =>
    round2(slope(samples.map((s) => [s.atSeconds / 60, pick(s)])));
  return {
    minutes: options.minutes,
    ratePerSecond: rate,
    achievedPerSecond: round2(
      (changes.creates + changes.updates + changes.deletes) / ((performance.now() - t0) / 1000),
    ),
    livePairs: live,
    eventTtlSeconds: options.eventTtlSeconds ?? DEFAULT_EVENT_TTL_MS / 1000,
    changes,
    samples,
    growthPerMinute: {
      rssMb: perMinute((s) => s.rssMb),
      heapUsedMb: perMinute((s) => s.heapUsedMb),
      stateDirMb: perMinute((s) => s.stateDirMb),
      threadHeapsMb: Object.fromEntries(
        [...new Set(samples.flatMap((s) => Object.keys(s.threadHeapsMb)))].map((name) => [
          name,
          perMinute((s) => s.threadHeapsMb[name] ?? 0),
        ]),
      ),
      outsideHeapsMb: perMinute((s) => s.outsideHeapsMb),
      watchEvents: perMinute((s) => s.simulator.watchEvents),
      requestRecords: perMinute((s) => s.simulator.requestRecords),
      jobsMs: Object.fromEntries(SCHEDULES.map((sch) => [sch.name, perMinute((s) => s.jobsMs[sch.name] ?? 0)])),
    },
    growth: growthOf(samples),
  };
}
