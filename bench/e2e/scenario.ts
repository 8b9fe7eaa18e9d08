import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downstreamNamespace } from '../../lib/api/labels';
import type { ObjectRef } from '../../lib/api/object-ref';
import type { PlacementMessage, SyncMessage } from '../../lib/api/messages';
import { DynamoDecisionStore } from '../../lib/adapters/dynamodb/decision-store';
import { DynamoRecoveryStore } from '../../lib/adapters/dynamodb/recovery-store';
import { lastFullPass } from '../../lib/recovery/quiet-gate';
import { DynamoTraceStore } from '../../lib/adapters/dynamodb/trace-store';
import { SqsWorkQueue } from '../../lib/adapters/sqs/sqs-work-queue';
import { resolveClusters } from '../../lib/local/clusters';
import { createStackLogger } from '../../lib/local/log';
import { type LocalStack, startLocalStack } from '../../lib/local/stack';
import { makeDynamoDocumentClient } from '../../lib/runtime/aws';
import { SCHEDULES } from '../../lib/runtime/resources';
import type { KubeObject } from '../../lib/kube/object';
import { dynamoReadOps, dynamoWriteOps, type AwsOpCounts } from '../support/aws-op-counter';
import { countAwsOperationsInThreads } from '../support/aws-op-counter-threads';
import { scanItemSizes } from '../support/item-size';
import type { PromMetrics } from '../../lib/metrics/prom-metrics';
import { countsDelta, tmcMetricsDelta, tmcMetricsSnapshot, type LambdaUsage } from '../support/tmc-metrics';
import { timeServers, type ServerTiming } from '../support/server-timing';
import { summarize, type LatencySummary } from '../support/stats';
import { cpuSplitter } from '../support/cpu-split';
import { invocationIoTracker, type InvocationIo } from '../support/invocation-io';
import { profileIdleRuns, type IdleRunProfile } from '../support/idle-run-profile';
import { findProjectRoot } from '../../lib/local/paths';
import { keyOf, observePhase, type PhaseExpectation } from './convergence';
import type { FloorResult } from './floor';
import { configMap, deployment, name, NS, REVISION_ANNOTATION } from './objects';
import {
  cpuPerSync,
  READ_VERBS,
  requestsPerSync,
  round,
  sum,
  WRITE_VERBS,
  type CpuPerSync,
  type RequestsPerSync,
} from './per-sync';
import { runChurn, type ChurnResult } from './churn';
import { BENCH_USER_AGENT, forEachBounded, forEachPaced, kcpWriter } from './kcp-writer';
import { startPullSyncers } from './pull-syncers';

/**
 * The end-to-end benchmark on the real local stack: N Deployments, each with a ConfigMap it reads (envFrom), written
 * to kcp over HTTP; a Placement selects every cluster for the benchmark namespace, so each object goes to all M
 * clusters. Four burst phases: create, update (a new pod-template annotation on every Deployment), and two no-op
 * resyncs (placement messages as the recovery sweep sends them; sync messages as a drift check would). The burst
 * phases write as fast as the writers can, so their latencies are mostly queueing; a fifth, paced phase (`latency`)
 * creates a few more objects one at a time at a rate well below the throughput, so its latencies are the path's.
 * Each phase records convergence, latency, and every API call it cost at the simulator, DynamoDB and SQS.
 */

export interface EndToEndOptions {
  objects: number;
  clusters: number;
  /** Simulator per-request latency (realistic round trips). */
  latencyMs: number;
  /** Simulated time for a Deployment to become ready on a cluster. */
  readyDelayMs: number;
  /** kcp writes in flight at once. */
  concurrency: number;
  /** Per phase: a phase that has not converged by then is reported as not converged. */
  phaseTimeoutMs: number;
  /** The paced latency phase: this many Deployments and as many ConfigMaps (0 skips the phase). */
  latencyObjects: number;
  /** The paced latency phase's kcp writes per second, one write at a time. */
  latencyRate: number;
  /** Run the floor run after the phases (bench/e2e/floor.ts; bench/e2e/child.ts runs it). */
  floor?: boolean;
  /** Minutes of the churn phase (bench/e2e/churn.ts) after the others; 0 or absent skips it. */
  churnMinutes?: number;
  /** Seconds a simulated Event lives after its last write (kube's `--event-ttl`); undefined: the simulator's 1 h. */
  eventTtlSeconds?: number;
  /** Every cluster in pull mode, synced by a `tmc syncer` in this process (bench/e2e/pull-syncers.ts). */
  pull?: boolean;
  progress?: (line: string) => void;
}

export type PhaseName = 'create' | 'update' | 'resync-placement' | 'resync-sync' | 'latency';

export interface KubeCounts {
  /** tmc's writes (create/update/patch/apply) of the benchmark's objects on the clusters, per object·cluster. */
  clusterWritesPerObjectCluster: number;
  clusterReadsPerObjectCluster: number;
  /** Writes of the downstream namespace (once per cluster on first sync). */
  namespaceWrites: number;
  /** tmc's requests to kcp (labels, status, annotations; reads) per changed object, Events apart. */
  kcpWritesPerObject: number;
  /** tmc's writes of Events (core/v1, on the objects) per changed object: what `kubectl describe` shows, counted apart. */
  kcpEventWritesPerObject: number;
  /** Event requests by verb (the reads are the recorder's look-up of an Event to raise its count). */
  kcpEventRequests: Record<string, number>;
  kcpReadsPerObject: number;
  /** verb [subresource] → count, clusters and kcp apart, for explaining a figure above the floor. */
  clusterRequests: Record<string, number>;
  kcpRequests: Record<string, number>;
  /**
   * tmc's kcp reads answered 404: placement reading an admitted create before kcp stored it (the webhook runs
   * before storage) and reading again (reconcile.ts); each is a request that found nothing.
   */
  kcpNotFound: number;
  /** kcp writes refused with 409 (a status refresh that lost a race with another; counted in kcpWritesPerObject). */
  kcpConflicts: number;
}

export interface PhaseResult {
  phase: PhaseName;
  /** Objects changed in kcp (or resynced) in this phase. */
  objects: number;
  clusters: number;
  converged: boolean;
  /** First kcp write → last apply and last status back. */
  convergeMs: number;
  /** object·cluster syncs applied per second over the phase. */
  syncsPerSecond: number;
  writeToApplied: LatencySummary;
  writeToStatus: LatencySummary;
  kube: KubeCounts;
  dynamodb: AwsOpCounts & { readsPerObject: number; writesPerObject: number };
  sqs: AwsOpCounts & { enqueued: Record<string, number>; messagesPerObject: number; requestsPerObject: number };
  lambda: Record<string, LambdaUsage>;
  /** Each function's invocations' requests in rounds (bench/support/invocation-io.ts), for the cost model. */
  invocationIo?: InvocationIo;
  /**
   * Placement messages handled, by outcome (`tmc_placement_duration_seconds`): `pending` counts the deliveries
   * placement handed back to the queue because kcp had not stored the admitted change yet (each one a redelivery).
   */
  placementOutcomes: Record<string, number>;
  /**
   * Repairs the safety nets made during the phase (`<net>:<what>` → count; bench/support/tmc-metrics.ts): the recovery
   * sweep re-sending work the primary path never carried, the status backstop bringing back a status no message did.
   * Each repair names one object (or object·cluster), so `total` bounds the objects that needed a safety net; 0 in a
   * fault-free run.
   */
  safetyNet: { total: number; byRepair: Record<string, number> };
  /**
   * status-up's messages by outcome (`written`, `unchanged`, `stale`, `held`, `ignored`; bench/support/tmc-metrics.ts):
   * `held` is how often an object's reports reached status-up in separate refreshes that only the table's `STATUS`
   * items let the last one write together (docs/bench.md, "DynamoDB writes per object, by item kind").
   */
  statusUpdates: Record<string, number>;
  /**
   * The latency phase only: where each object's write → applied went, from its `tmc trace` item (ingress enqueued it,
   * placement sent its sync messages, the last cluster applied it). Read after the phase's counts were taken.
   */
  stages?: PathStages;
  sim: Record<string, ServerTiming>;
  /** CPU per object·cluster sync by component, from each thread's /proc CPU; absent where /proc is not (not Linux). */
  cpu?: CpuPerSync;
  /** Requests per object·cluster sync by kind. */
  requestsPerSync: RequestsPerSync;
}

export interface PathStages {
  /** kcp write → ingress built the placement message (kcp's admission call). */
  writeToEnqueued: LatencySummary;
  /** → placement sent the sync messages (queue, placement's reads, decision, send). */
  enqueuedToPlaced: LatencySummary;
  /** → the last cluster applied it (queue, sync-apply). */
  placedToApplied: LatencySummary;
}

/** One run of a schedule on the stack after the phases (nothing changing): what an idle minute costs. */
export interface ScheduleRun {
  ok: boolean;
  error?: string;
  lambda: Record<string, LambdaUsage>;
  dynamodb: AwsOpCounts;
  sqs: AwsOpCounts;
  /** Requests to kcp and the clusters. */
  kubeRequests: number;
  /** Settled runs only: CPU, request rounds and log bytes of a run, for pricing its billed duration (bench/cost). */
  profile?: IdleRunProfile;
  /**
   * Settled recovery-sweep only: the full passes its pages took to go round once with nothing changed, after which the
   * gate let runs skip (fullRunsPerRound); a month has that many every fullPassSeconds.
   */
  fullRunsPerRound?: number;
}

export interface EndToEndResult {
  options: Omit<EndToEndOptions, 'progress'>;
  placement: 'all clusters (Placement bench, Duplicated)';
  startupMs: number;
  phases: PhaseResult[];
  schedules: Record<string, ScheduleRun>;
  /** Each schedule run again right after `schedules`, nothing changed in between (the idle month's later runs). */
  settledSchedules?: Record<string, ScheduleRun>;
  /** The create phase's work done by the least a correct design needs (bench/e2e/floor.ts). */
  floor?: FloorResult;
  /** Growth under a steady workload (bench/e2e/churn.ts), with `--churn-minutes`. */
  churn?: ChurnResult;
}

/** Settled runs of each schedule profiled (CPU is read in 10 ms ticks: the mean of several). */
const IDLE_PROFILE_RUNS = 5;

const PLACEMENT: KubeObject = {
  apiVersion: 'scheduling.kcp.io/v1alpha1',
  kind: 'Placement',
  metadata: { name: 'bench' },
  // No numberOfClusters: every feasible cluster (docs/placement.md); Duplicated: each runs all replicas.
  spec: { namespaceSelector: { matchLabels: { 'tmc.kcp.io/bench': 'true' } }, replicas: { mode: 'Duplicated' } },
};

function ref(workspace: string, kind: 'Deployment' | 'ConfigMap', i: number): ObjectRef {
  return kind === 'Deployment'
    ? { workspace, group: 'apps', version: 'v1', resource: 'deployments', kind, namespace: NS, name: name(i) }
    : { workspace, group: '', version: 'v1', resource: 'configmaps', kind, namespace: NS, name: name(i) };
}

function revisionOf(object: KubeObject): string | undefined {
  const spec = object.spec as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined;
  return spec?.template?.metadata?.annotations?.[REVISION_ANNOTATION];
}

/**
 * Status back from every cluster: a Duplicated Deployment's READY counts per copy (the least ready, docs/syncer.md),
 * so its 1 replica reads ready only once every cluster's copy reported ready, and the ClusterReplicas condition says
 * so.
 */
function everyCopyReady(object: KubeObject): boolean {
  const status = object.status as { conditions?: unknown } | undefined;
  const conditions = Array.isArray(status?.conditions) ? (status.conditions as Array<Record<string, unknown>>) : [];
  return (
    statusOf(object).readyReplicas === 1 && conditions.some((c) => c.type === 'ClusterReplicas' && c.status === 'True')
  );
}

function statusOf(object: KubeObject): { readyReplicas?: number; observedGeneration?: number } {
  const status = object.status as { readyReplicas?: unknown; observedGeneration?: unknown } | undefined;
  return {
    readyReplicas: typeof status?.readyReplicas === 'number' ? status.readyReplicas : undefined,
    observedGeneration: typeof status?.observedGeneration === 'number' ? status.observedGeneration : undefined,
  };
}

function tally(records: Array<{ verb: string; subresource?: string }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) {
    const k = r.subresource ? `${r.verb} ${r.subresource}` : r.verb;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Starts the stack, runs every phase, stops the stack. */
export async function runEndToEnd(options: EndToEndOptions): Promise<EndToEndResult> {
  const say = options.progress ?? ((): void => undefined);
  const stateDir = mkdtempSync(join(tmpdir(), 'tmc-bench-'));
  const started = performance.now();
  // Room for every benchmark replica: the simulator enforces capacity and placement filters on it.
  const clusters = resolveClusters(options.clusters).map((c) => ({
    ...c,
    capacity: { cpu: '100000', memory: '100000Gi', pods: '10000000' },
  }));
  let stack: LocalStack | undefined;
  let syncers: { stop(): Promise<void> } | undefined;
  // The recovery sweep's quiet gate counts a full pass as quiet only after nothing changed for settleSeconds (240 s):
  // the benchmark cannot idle that long, so it counts at once, and the settled run measures the gated run's cost.
  process.env.TMC_RECOVERY_SETTLE_SECONDS ??= '0';
  try {
    stack = await startLocalStack({
      stateDir,
      fresh: true,
      port: 0,
      // A churn phase measures what `npm start` grows, on disk too: DynamoDB in LevelDB files, as `npm start` keeps it.
      persist: (options.churnMinutes ?? 0) > 0,
      // Expired items deleted and the table's files compacted every 2 minutes, not `npm start`'s 10, so a churn phase of
      // minutes shows what bounds the state dir (it then holds the live items and at most one period's writes).
      expirySweepSeconds: (options.churnMinutes ?? 0) > 0 ? 120 : undefined,
      // The status backstop and the recovery sweep run on their timers (their cloud rates), as the safety nets they
      // are in the cloud: the status webhooks and kcp's admission webhook fail open, and under the benchmark's load a
      // call can time out; without the backstop that object's status would never come back, without the sweep an
      // object whose placement message was never enqueued would never be placed, and the phase would not converge.
      // Their requests count in the phase. The other schedules run once each on the idle stack at the end
      // (`schedules` in the results).
      schedules: ['status-backstop', 'recovery-sweep'],
      // The queue pollers long-poll 20 s, as Lambda's do (the stack's default): a shorter wait made an empty receive per
      // queue per second that a deployed stack never makes, and the phases counted it as SQS requests.
      // ingress, placement, sync-apply and status-up each in a worker thread, as separate Lambda containers, so the
      // stack uses both cores (docs/local-stack.md). TMC_BENCH_FUNCTION_THREADS=off runs them on the main thread, for
      // comparison (docs/bench.md has a measured pair).
      functionThreads: process.env.TMC_BENCH_FUNCTION_THREADS !== 'off',
      functionThreadLayout: process.env.TMC_BENCH_FUNCTION_THREADS === 'own' ? 'own' : 'shared',
      ...(process.env.TMC_BENCH_CONSUMER_CONTAINERS === undefined
        ? {}
        : { consumerContainers: Number(process.env.TMC_BENCH_CONSUMER_CONTAINERS) }),
      ...(process.env.TMC_BENCH_YOUNG_GENERATION_MB === undefined
        ? {}
        : { youngGenerationMb: Number(process.env.TMC_BENCH_YOUNG_GENERATION_MB) }),
      clusters,
      ...(options.pull ? { pullClusters: clusters.map((c) => c.name) } : {}),
      simulator: {
        latencyMs: options.latencyMs,
        readyDelayMs: options.readyDelayMs,
        ...(options.eventTtlSeconds === undefined ? {} : { eventTtlMs: options.eventTtlSeconds * 1000 }),
      },
      // Warnings only (the event source's failed batches and receives), into the run's log file (run-in-child.ts).
      logger: createStackLogger({ level: 'warn' }),
    });
    if (options.pull) {
      say(`  pull mode: starting ${clusters.length} syncers`);
      syncers = await startPullSyncers(stack, { qps: 1000, timeoutMs: options.phaseTimeoutMs });
    }
    return await runPhases(stack, options, say, performance.now() - started, stateDir);
  } finally {
    await syncers?.stop();
    await stack?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

async function runPhases(
  stack: LocalStack,
  options: EndToEndOptions,
  say: (line: string) => void,
  startupMs: number,
  stateDir: string,
): Promise<EndToEndResult> {
  const sim = stack.simulation;
  if (!sim)
    throw new Error(
      'The end-to-end benchmark needs the simulator (it counts API calls there); run it without --kcp-kubeconfig',
    );
  const workspace = stack.workspace;
  const downstreamNs = downstreamNamespace(workspace, NS);
  const kcpStore = sim.kcp.store(workspace);
  const clusterStores = Object.fromEntries(Object.entries(sim.clusters).map(([n, s]) => [n, s.store()]));
  const clusterNames = Object.keys(sim.clusters);
  const kcp = kcpWriter(sim.kcp.serverUrl(workspace));
  // dynalite and fauxqs run in worker threads: their requests are counted there (aws-op-counter-threads.ts).
  if (stack.emulators === undefined)
    throw new Error(
      "The benchmark counts AWS requests in the stack's own emulators; it cannot run against an external environment",
    );
  const aws = await countAwsOperationsInThreads(stack.emulators);
  const simServers = {
    kcp: sim.kcp.port,
    ...Object.fromEntries(Object.entries(sim.clusters).map(([n, s]) => [n, s.port])),
  };
  const timing = timeServers(simServers);
  const cpu = cpuSplitter(findProjectRoot());
  const N = options.objects;
  const M = clusterNames.length;

  await kcp.create('/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: NS, labels: { 'tmc.kcp.io/bench': 'true' } },
  });
  await kcp.create('/apis/scheduling.kcp.io/v1alpha1/placements', PLACEMENT);
  await stack.idle({ timeoutMs: options.phaseTimeoutMs });

  const invocationIo = invocationIoTracker();
  const resetCounters = async (): Promise<void> => {
    for (const server of [sim.kcp, ...Object.values(sim.clusters)]) server.requests.reset();
    await aws.reset();
    await invocationIo?.reset();
    timing.reset();
  };

  const measure = async (
    phase: PhaseName,
    changed: number,
    expect: PhaseExpectation | undefined,
    drive: (writeTimes: Map<string, number>) => Promise<void>,
  ): Promise<PhaseResult> => {
    await resetCounters();
    const metricsBefore = await tmcMetricsSnapshot(stack.metrics);
    const outcomesBefore = await placementOutcomes(stack.metrics);
    const writeTimes = new Map<string, number>();
    const observation = expect ? observePhase(kcpStore, NS, clusterStores, expect) : undefined;
    await cpu?.start();
    const t0 = performance.now();
    const ticker = setInterval(() => {
      const p = observation?.progress();
      if (p)
        say(
          `  ${phase}: ${writeTimes.size}/${changed} written, ${p.applied}/${p.appliedTarget} applied, ${p.status}/${p.statusTarget} status back, ${((performance.now() - t0) / 1000).toFixed(0)} s`,
        );
    }, 5000);
    let converged = true;
    try {
      await drive(writeTimes);
      if (observation) {
        const timeout = new Promise<'timeout'>((resolve) =>
          setTimeout(() => resolve('timeout'), options.phaseTimeoutMs).unref(),
        );
        converged = (await Promise.race([observation.done.then(() => 'done' as const), timeout])) === 'done';
      }
      // Counts include the tail of the phase's work (late status messages, label echoes) until every queue is empty.
      await stack.idle({ timeoutMs: options.phaseTimeoutMs }).catch(() => (converged = false));
    } finally {
      clearInterval(ticker);
      observation?.stop();
    }
    const split = await cpu?.stop();
    const io = await invocationIo?.collect();
    const { lambda, enqueued, safetyNet, statusUpdates } = tmcMetricsDelta(
      metricsBefore,
      await tmcMetricsSnapshot(stack.metrics),
    );
    const outcomes = countsDelta(outcomesBefore, await placementOutcomes(stack.metrics));
    const appliedTimes: number[] = [];
    const appliedLatency: number[] = [];
    for (const seen of Object.values(observation?.applied ?? {})) {
      for (const [key, at] of seen) {
        appliedTimes.push(at);
        const written = writeTimes.get(key);
        if (written !== undefined) appliedLatency.push(at - written);
      }
    }
    const statusLatency: number[] = [];
    const statusTimes: number[] = [];
    for (const [n, at] of observation?.status ?? []) {
      statusTimes.push(at);
      const written = writeTimes.get(keyOf('deployments', n));
      if (written !== undefined) statusLatency.push(at - written);
    }
    const last = [...appliedTimes, ...statusTimes].reduce((a, b) => Math.max(a, b), t0);
    const firstWrite = [...writeTimes.values()].reduce((a, b) => Math.min(a, b), t0);
    const benchRecords = (s: typeof sim.kcp) =>
      s.requests
        .entries({ namespace: downstreamNs })
        .filter((r) => r.resource === 'deployments' || r.resource === 'configmaps');
    const clusterRecords = Object.values(sim.clusters).flatMap(benchRecords);
    const namespaceWrites = Object.values(sim.clusters).reduce(
      (n, s) => n + s.requests.count({ resource: 'namespaces', writes: true }),
      0,
    );
    const tmcKcpRecords = sim.kcp.requests
      .entries({ logicalCluster: workspace })
      .filter((r) => r.userAgent !== BENCH_USER_AGENT && r.namespace === NS);
    // Events are a product of their own (docs/syncer.md, Events): kept out of the writes-per-change figures.
    const kcpRecords = tmcKcpRecords.filter((r) => r.resource !== 'events');
    const kcpEventRequests = tally(tmcKcpRecords.filter((r) => r.resource === 'events'));
    const clusterRequests = tally(clusterRecords);
    const kcpRequests = tally(kcpRecords);
    const [dynamodb, sqs] = await Promise.all([aws.snapshot('dynamodb'), aws.snapshot('sqs')]);
    // After the counts were taken (the next phase resets them): what the phase's writes are billed by.
    dynamodb.itemBytes = await scanItemSizes(stack.endpoints.dynamodb, stack.tableName);
    // GetQueueAttributes are the schedules' depth reads, per run (the harness's idle checks are not counted).
    const sqsRequests = Object.entries(sqs.requests).reduce(
      (n, [op, v]) => (op === 'GetQueueAttributes' ? n : n + v),
      0,
    );
    const syncs = appliedTimes.length;
    const result: PhaseResult = {
      phase,
      objects: changed,
      clusters: M,
      converged,
      convergeMs: Math.round(last - firstWrite),
      syncsPerSecond: syncs > 0 ? Math.round((syncs / Math.max(1, last - firstWrite)) * 1000) : 0,
      writeToApplied: summarize(appliedLatency),
      writeToStatus: summarize(statusLatency),
      kube: {
        clusterWritesPerObjectCluster: round(sum(clusterRequests, WRITE_VERBS) / (changed * M)),
        clusterReadsPerObjectCluster: round(sum(clusterRequests, READ_VERBS) / (changed * M)),
        namespaceWrites,
        kcpWritesPerObject: round(sum(kcpRequests, WRITE_VERBS) / changed),
        kcpReadsPerObject: round(sum(kcpRequests, READ_VERBS) / changed),
        kcpEventWritesPerObject: round(sum(kcpEventRequests, WRITE_VERBS) / changed),
        clusterRequests,
        kcpRequests,
        kcpEventRequests,
        kcpNotFound: kcpRecords.filter((r) => r.verb === 'get' && r.code === 404).length,
        kcpConflicts: kcpRecords.filter((r) => r.code === 409).length,
      },
      dynamodb: {
        ...dynamodb,
        readsPerObject: round(dynamoReadOps(dynamodb) / changed),
        writesPerObject: round(dynamoWriteOps(dynamodb) / changed),
      },
      sqs: {
        ...sqs,
        enqueued,
        messagesPerObject: round(Object.values(enqueued).reduce((a, b) => a + b, 0) / changed),
        requestsPerObject: round(sqsRequests / changed),
      },
      lambda,
      ...(io ? { invocationIo: io } : {}),
      placementOutcomes: outcomes,
      safetyNet: { total: Object.values(safetyNet).reduce((a, b) => a + b, 0), byRepair: safetyNet },
      statusUpdates,
      sim: timing.snapshot(options.latencyMs),
      ...(split
        ? {
            cpu: cpuPerSync(split, changed * M, {
              dynamodb: total(dynamodb.requests),
              sqs: total(sqs.requests),
              kube: [sim.kcp, ...Object.values(sim.clusters)].reduce((n, server) => n + server.requests.count(), 0),
            }),
          }
        : {}),
      requestsPerSync: requestsPerSync(changed * M, {
        dynamodb: dynamodb.requests,
        sqs: sqs.requests,
        sqsByQueue: sqs,
        kcp: kcpRequests,
        clusters: clusterRequests,
      }),
    };
    say(`  ${phase}: ${converged ? 'converged' : 'NOT converged'} in ${(result.convergeMs / 1000).toFixed(1)} s`);
    return result;
  };

  try {
    const phases: PhaseResult[] = [];
    const allKeys = Array.from({ length: N }, (_, i) => [
      keyOf('configmaps', name(i)),
      keyOf('deployments', name(i)),
    ]).flat();
    const deploymentNames = Array.from({ length: N }, (_, i) => name(i));
    const progressEvery = Math.max(1, Math.floor(N / 10));

    say(`create: ${N} Deployments + ${N} ConfigMaps → ${M} clusters`);
    phases.push(
      await measure(
        'create',
        2 * N,
        {
          namespace: downstreamNs,
          keys: allKeys,
          applied: (e) => e.type !== 'DELETED',
          statusNames: deploymentNames,
          statusBack: (o) => everyCopyReady(o) && statusOf(o).observedGeneration === 1,
        },
        (writes) =>
          forEachBounded(
            N,
            options.concurrency,
            async (i) => {
              writes.set(keyOf('configmaps', name(i)), performance.now());
              await kcp.create(`/api/v1/namespaces/${NS}/configmaps`, configMap(i));
              writes.set(keyOf('deployments', name(i)), performance.now());
              await kcp.create(`/apis/apps/v1/namespaces/${NS}/deployments`, deployment(i));
            },
            (done) => done % progressEvery === 0 && say(`  create: ${done}/${N} objects written`),
          ),
      ),
    );

    say(`update: a new pod-template annotation on ${N} Deployments`);
    phases.push(
      await measure(
        'update',
        N,
        {
          namespace: downstreamNs,
          keys: deploymentNames.map((n) => keyOf('deployments', n)),
          applied: (e) => revisionOf(e.object) === '2',
          statusNames: deploymentNames,
          statusBack: (o) => statusOf(o).observedGeneration === 2 && everyCopyReady(o),
        },
        (writes) =>
          forEachBounded(N, options.concurrency, async (i) => {
            writes.set(keyOf('deployments', name(i)), performance.now());
            await kcp.mergePatch(`/apis/apps/v1/namespaces/${NS}/deployments/${name(i)}`, {
              spec: { template: { metadata: { annotations: { [REVISION_ANNOTATION]: '2' } } } },
            });
          }),
      ),
    );

    const trace = (): PlacementMessage['trace'] => ({
      traceId: `bench-${randomUUID()}`,
      enqueuedAt: new Date().toISOString(),
    });
    const refs = Array.from({ length: N }, (_, i) => [
      ref(workspace, 'ConfigMap', i),
      ref(workspace, 'Deployment', i),
    ]).flat();

    say(`resync-placement: ${refs.length} placement messages (reason resync), nothing changed`);
    const placementQueue = new SqsWorkQueue<PlacementMessage>({
      sqs: stack.sqs,
      queueUrl: stack.queues.placement.url,
      name: 'placement',
    });
    phases.push(
      await measure('resync-placement', refs.length, undefined, async () => {
        const messages = refs.map((r): PlacementMessage => ({
          type: 'placement',
          ref: r,
          reason: 'resync',
          trace: trace(),
        }));
        for (let i = 0; i < messages.length; i += 500) await placementQueue.send(messages.slice(i, i + 500));
      }),
    );

    // The decision versions sync messages must carry, read before the phase so these reads are not counted.
    const doc = makeDynamoDocumentClient({
      region: process.env.AWS_REGION ?? 'us-east-1',
      dynamodbEndpoint: stack.endpoints.dynamodb,
      sqsEndpoint: undefined,
    });
    const decisions = new DynamoDecisionStore(doc, stack.tableName);
    const syncMessages: SyncMessage[] = [];
    await forEachBounded(refs.length, 32, async (i) => {
      const decision = await decisions.get(refs[i]);
      for (const c of decision?.clusters ?? [])
        syncMessages.push({
          type: 'sync',
          ref: refs[i],
          cluster: c.name,
          action: 'apply',
          decisionVersion: decision!.decisionVersion,
          trace: trace(),
        });
    });
    doc.destroy();
    say(`resync-sync: ${syncMessages.length} sync messages at the current decision, nothing changed`);
    const syncQueue = new SqsWorkQueue<SyncMessage>({ sqs: stack.sqs, queueUrl: stack.queues.sync.url, name: 'sync' });
    phases.push(
      await measure('resync-sync', refs.length, undefined, async () => {
        for (let i = 0; i < syncMessages.length; i += 500) await syncQueue.send(syncMessages.slice(i, i + 500));
      }),
    );
    const K = options.latencyObjects;
    if (K > 0) {
      const latencyWrites = new Map<string, number>();
      // New objects (indices after the burst's), so each write is a create with the whole path behind it.
      const latencyNames = Array.from({ length: K }, (_, j) => name(N + j));
      const intervalMs = 1000 / options.latencyRate;
      say(`latency: ${K} Deployments + ${K} ConfigMaps, one write every ${intervalMs.toFixed(0)} ms, one at a time`);
      phases.push(
        await measure(
          'latency',
          2 * K,
          {
            namespace: downstreamNs,
            keys: latencyNames.flatMap((n) => [keyOf('configmaps', n), keyOf('deployments', n)]),
            applied: (e) => e.type !== 'DELETED',
            statusNames: latencyNames,
            statusBack: (o) => everyCopyReady(o) && statusOf(o).observedGeneration === 1,
          },
          (writes) =>
            // Write 2j is object j's ConfigMap, 2j+1 its Deployment: the order a kubectl apply of both would use.
            forEachPaced(2 * K, intervalMs, async (w) => {
              const i = N + Math.floor(w / 2);
              const kind = w % 2 === 0 ? 'configmaps' : 'deployments';
              const at = performance.now();
              writes.set(keyOf(kind, name(i)), at);
              latencyWrites.set(keyOf(kind, name(i)), at);
              if (kind === 'configmaps') await kcp.create(`/api/v1/namespaces/${NS}/configmaps`, configMap(i));
              else await kcp.create(`/apis/apps/v1/namespaces/${NS}/deployments`, deployment(i));
            }),
        ),
      );
      const latencyRefs = Array.from({ length: K }, (_, j) => [
        ref(workspace, 'ConfigMap', N + j),
        ref(workspace, 'Deployment', N + j),
      ]).flat();
      phases[phases.length - 1].stages = await pathStages(stack, latencyRefs, latencyWrites);
    }

    let churn: ChurnResult | undefined;
    if ((options.churnMinutes ?? 0) > 0) {
      say(
        `churn: ${options.churnMinutes} min of creates, updates and deletes; memory, state dir and periodic jobs sampled`,
      );
      churn = await runChurn(
        stack,
        kcp,
        stateDir,
        { minutes: options.churnMinutes ?? 0, firstIndex: N + K, eventTtlSeconds: options.eventTtlSeconds },
        say,
      );
      await stack.idle({ timeoutMs: options.phaseTimeoutMs });
    }

    say('schedules: each twice on the idle stack (right after the phases, then settled)');
    const running = stack;
    const measureSchedule = async (schedule: string, profiled = false): Promise<ScheduleRun> => {
      await resetCounters();
      const before = await tmcMetricsSnapshot(running.metrics);
      const target = SCHEDULES.find((s) => s.name === schedule)?.target;
      let error: string | undefined;
      let profile: IdleRunProfile | undefined;
      try {
        if (profiled)
          profile = await profileIdleRuns({
            target: target ?? schedule,
            inMainThread: target === undefined || !running.threadedFunctions().includes(target),
            runs: 1,
            run: () => running.runSchedule(schedule),
            settle: async () => undefined,
          });
        else await running.runSchedule(schedule);
        await running.idle({ timeoutMs: options.phaseTimeoutMs });
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
      const { lambda } = tmcMetricsDelta(before, await tmcMetricsSnapshot(running.metrics));
      const kubeRequests = [sim.kcp, ...Object.values(sim.clusters)].reduce(
        (n, server) => n + server.requests.count(),
        0,
      );
      const [dynamodb, sqs] = await Promise.all([aws.snapshot('dynamodb'), aws.snapshot('sqs')]);
      // What the run's writes are billed by, on the table and on gsi1 (the idle month; the next run resets the counts).
      dynamodb.itemBytes = await scanItemSizes(running.endpoints.dynamodb, running.tableName);
      return {
        ok: error === undefined,
        ...(error ? { error } : {}),
        lambda,
        dynamodb,
        sqs,
        kubeRequests,
        ...(profile ? { profile } : {}),
      };
    };
    const schedules: Record<string, ScheduleRun> = {};
    // The first run's profile too: it prices the month's full runs (the sweep's full pass every 30 minutes).
    for (const schedule of SCHEDULES) schedules[schedule.name] = await measureSchedule(schedule.name, true);
    // A stack larger than one page of the sweep's passes makes full passes until its pages went round once with
    // nothing changed (docs/recovery.md "Idle runs"): as many as it takes after every fullPassSeconds too. Counted here
    // (the first run above is one of them), so that the settled run below is one the gate lets skip.
    const sweepRuns = await fullRunsPerRound(
      running,
      () => running.runSchedule('recovery-sweep'),
      () => running.idle({ timeoutMs: options.phaseTimeoutMs }),
    );
    // The same again with nothing changed in between: what every later run of an idle month costs (warm containers,
    // the recovery sweep's quiet gate past a quiet full pass, the status backstop's memory).
    const settledSchedules: Record<string, ScheduleRun> = {};
    for (const schedule of SCHEDULES) settledSchedules[schedule.name] = await measureSchedule(schedule.name);
    // What a settled run costs Lambda away from this machine's load: its CPU, its requests' rounds, its log lines.
    for (const schedule of SCHEDULES) {
      const profile = await profileIdleRuns({
        target: schedule.target,
        inMainThread: !running.threadedFunctions().includes(schedule.target),
        runs: IDLE_PROFILE_RUNS,
        run: () => running.runSchedule(schedule.name),
        settle: () => running.idle({ timeoutMs: options.phaseTimeoutMs }),
      });
      if (profile) settledSchedules[schedule.name].profile = profile;
    }
    if (settledSchedules['recovery-sweep']) settledSchedules['recovery-sweep'].fullRunsPerRound = sweepRuns;
    return {
      ...(churn ? { churn } : {}),
      schedules,
      settledSchedules,
      options: {
        objects: N,
        clusters: M,
        latencyMs: options.latencyMs,
        readyDelayMs: options.readyDelayMs,
        concurrency: options.concurrency,
        phaseTimeoutMs: options.phaseTimeoutMs,
        latencyObjects: options.latencyObjects,
        latencyRate: options.latencyRate,
        ...(options.pull ? { pull: true } : {}),
      },
      placement: 'all clusters (Placement bench, Duplicated)',
      startupMs: Math.round(startupMs),
      phases,
    };
  } finally {
    timing.close();
    cpu?.close();
    await aws.close();
  }
}

/** Full passes the sweep makes before its gate lets runs skip; at most this many are tried. */
const MAX_ROUND_RUNS = 60;

/**
 * The recovery sweep's full passes on an unchanged stack until its gate records a quiet state (the next run skips),
 * counting the one made just before; MAX_ROUND_RUNS when it never does (every run then is a full pass).
 */
async function fullRunsPerRound(
  stack: LocalStack,
  run: () => Promise<unknown>,
  settle: () => Promise<unknown>,
): Promise<number> {
  const store = new DynamoRecoveryStore(
    makeDynamoDocumentClient({
      region: process.env.AWS_REGION ?? 'us-east-1',
      dynamodbEndpoint: stack.endpoints.dynamodb,
      sqsEndpoint: undefined,
    }),
    stack.tableName,
  );
  for (let runs = 1; runs < MAX_ROUND_RUNS; runs++) {
    if ((await lastFullPass(store))?.quiet === true) return runs;
    await run();
    await settle();
  }
  return MAX_ROUND_RUNS;
}

const total = (record: Record<string, number>): number => Object.values(record).reduce((a, b) => a + b, 0);

/** Each object's trace (lib/adapters/dynamodb/trace-store.ts) split into the stages of {@link PathStages}. */
async function pathStages(stack: LocalStack, refs: ObjectRef[], writeTimes: Map<string, number>): Promise<PathStages> {
  const doc = makeDynamoDocumentClient({
    region: process.env.AWS_REGION ?? 'us-east-1',
    dynamodbEndpoint: stack.endpoints.dynamodb,
    sqsEndpoint: undefined,
  });
  const traces = new DynamoTraceStore(doc, stack.tableName);
  const stages = { writeToEnqueued: [] as number[], enqueuedToPlaced: [] as number[], placedToApplied: [] as number[] };
  try {
    await forEachBounded(refs.length, 8, async (i) => {
      const r = refs[i];
      const trace = await traces.read(r);
      const written = writeTimes.get(keyOf(r.resource, r.name));
      const placed = trace?.steps.placed;
      const applied = Object.entries(trace?.steps ?? {})
        .filter(([step]) => step.startsWith('applied:'))
        .map(([, step]) => Date.parse(step.at));
      if (!trace || written === undefined || !placed || applied.length === 0) return;
      // The bench stamps writes with performance.now(); the functions stamp traces with the wall clock.
      const writtenAt = performance.timeOrigin + written;
      const enqueuedAt = Date.parse(trace.startedAt);
      const placedAt = Date.parse(placed.at);
      stages.writeToEnqueued.push(enqueuedAt - writtenAt);
      stages.enqueuedToPlaced.push(placedAt - enqueuedAt);
      stages.placedToApplied.push(Math.max(...applied) - placedAt);
    });
  } finally {
    doc.destroy();
  }
  return {
    writeToEnqueued: summarize(stages.writeToEnqueued),
    enqueuedToPlaced: summarize(stages.enqueuedToPlaced),
    placedToApplied: summarize(stages.placedToApplied),
  };
}

/** Placement messages handled so far, by outcome: the sample count of `tmc_placement_duration_seconds` per result. */
async function placementOutcomes(metrics: PromMetrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    if (metric.name !== 'tmc_placement_duration_seconds') continue;
    for (const value of metric.values) {
      const result = value.labels.result;
      if (
        'metricName' in value &&
        value.metricName === 'tmc_placement_duration_seconds_count' &&
        typeof result === 'string'
      )
        out[result] = (out[result] ?? 0) + value.value;
    }
  }
  return out;
}
