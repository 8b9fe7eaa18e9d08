import { tmcCpuMs, type CpuSplit } from '../support/cpu-split';

/** Figures per object·cluster sync, shared by the phases (scenario.ts) and the floor run (floor.ts). */

export const WRITE_VERBS = new Set(['create', 'update', 'patch', 'apply', 'delete', 'deletecollection']);
export const READ_VERBS = new Set(['get', 'list', 'watch']);
export const sum = (record: Record<string, number>, verbs: Set<string>): number =>
  Object.entries(record).reduce((n, [k, v]) => (verbs.has(k.split(' ')[0]) ? n + v : n), 0);

export const round = (n: number): number => Math.round(n * 1000) / 1000;

export interface CpuPerSync {
  /** component (bench/support/cpu-split.ts) → ms of CPU per object·cluster sync. */
  perSyncMs: Record<string, number>;
  totalPerSyncMs: number;
  /** The functions' threads and tmc code on the main thread: what Lambda would bill. */
  tmcPerSyncMs: number;
  /** The whole phase's CPU, ms. */
  totalMs: number;
  /** Each emulator's CPU per request it served (all of them: the harness's too), ms: what the environment costs. */
  perRequestMs: { dynalite?: number; fauxqs?: number; simulator?: number };
  /** The phase's busiest threads (tid, name, CPU ms), for explaining a component. */
  busiestThreads: CpuSplit['busiestThreads'];
}

/** Requests per object·cluster sync: DynamoDB and SQS by operation, Kubernetes by server and direction. */
export interface RequestsPerSync {
  dynamodb: Record<string, number>;
  /**
   * Without GetQueueAttributes: the schedules' queue-depth reads are per run, not per sync (in `sqsByQueue`); the
   * harness's idle checks are not counted at all (aws-op-counter.ts `harness`).
   */
  sqs: Record<string, number>;
  /**
   * SQS by operation and queue (`DeleteMessageBatch tmc-sync`), per sync; from runs that counted it. Includes tmc's
   * own GetQueueAttributes (the schedules' depth reads that ran in the phase).
   */
  sqsByQueue?: Record<string, number>;
  /** SQS batch operations by queue: entries per request (10 is a full batch). */
  sqsEntriesPerRequest?: Record<string, number>;
  kcpReads: number;
  kcpWrites: number;
  clusterReads: number;
  clusterWrites: number;
  total: number;
}

/** Per object·cluster sync from the phase's counts; shared with the floor run (bench/e2e/floor.ts). */
export function requestsPerSync(
  syncs: number,
  counts: {
    dynamodb: Record<string, number>;
    sqs: Record<string, number>;
    kcp: Record<string, number>;
    clusters: Record<string, number>;
    /** The SQS counter's `byItem` and `entries` (bench/support/aws-op-counter.ts). */
    sqsByQueue?: { byItem: Record<string, number>; entries?: Record<string, number> };
  },
): RequestsPerSync {
  const per = (record: Record<string, number>, depthReads = false): Record<string, number> =>
    Object.fromEntries(
      Object.entries(record)
        .filter(([op]) => depthReads || op.split(' ')[0] !== 'GetQueueAttributes')
        .map(([k, v]) => [k, round(v / syncs)]),
    );
  const dynamodb = per(counts.dynamodb);
  const sqs = per(counts.sqs);
  const kcpReads = round(sum(counts.kcp, READ_VERBS) / syncs);
  const kcpWrites = round(sum(counts.kcp, WRITE_VERBS) / syncs);
  const clusterReads = round(sum(counts.clusters, READ_VERBS) / syncs);
  const clusterWrites = round(sum(counts.clusters, WRITE_VERBS) / syncs);
  const total = round(
    [...Object.values(dynamodb), ...Object.values(sqs), kcpReads, kcpWrites, clusterReads, clusterWrites].reduce(
      (a, b) => a + b,
      0,
    ),
  );
  const byQueue = counts.sqsByQueue;
  const sqsByQueue = byQueue === undefined ? undefined : per(byQueue.byItem, true);
  const sqsEntriesPerRequest =
    byQueue === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(byQueue.entries ?? {}).map(([k, n]) => [k, round(n / Math.max(1, byQueue.byItem[k] ?? 0))]),
        );
  return {
    dynamodb,
    sqs,
    ...(sqsByQueue ? { sqsByQueue } : {}),
    ...(sqsEntriesPerRequest ? { sqsEntriesPerRequest } : {}),
    kcpReads,
    kcpWrites,
    clusterReads,
    clusterWrites,
    total,
  };
}

/**
 * SQS requests per object·cluster sync at this design's floor, from the messages each queue carried in the phase: one
 * send per message ingress enqueues (a webhook call is one invocation and answers only after its own send, so its
 * sends cannot be batched: placement and status messages), placement's sync messages sent ten a request, and every
 * message received and deleted ten a request. A lower bound for the design, not a plan: receives fill only as far as
 * messages wait in the queue when a consumer polls.
 */
export function sqsDesignFloorPerSync(enqueued: Record<string, number>, syncs: number): number {
  const ingressSends = (enqueued.placement ?? 0) + (enqueued.status ?? 0);
  const consumed = tens(enqueued.placement) + tens(enqueued.sync) + tens(enqueued.status);
  return syncs === 0 ? 0 : round((ingressSends + tens(enqueued.sync) + 2 * consumed) / syncs);
}

/**
 * SQS requests per object·cluster sync if every message the phase carried were sent, received and deleted ten a
 * request (SQS's most per batch call): the least any batching can reach with these messages. Above 0.5 where the
 * messages themselves are more than 5/3 per sync (at 3 clusters an admission per object, a sync message per
 * object·cluster and a report per Deployment·cluster are 1.83), so there the target needs fewer messages, not fuller
 * batches. Ingress's webhook sends cannot reach it on Lambda (one invocation per execution environment: nothing to
 * batch a call's send with), so this is a bound on batching, not a floor of this design ({@link sqsDesignFloorPerSync}).
 */
export function sqsFullBatchFloorPerSync(enqueued: Record<string, number>, syncs: number): number {
  const messages = tens(enqueued.placement) + tens(enqueued.sync) + tens(enqueued.status);
  return syncs === 0 ? 0 : round((3 * messages) / syncs);
}

/** Batch requests for `n` messages at SQS's ten a request. */
function tens(n: number | undefined): number {
  return Math.ceil((n ?? 0) / 10);
}

/** A CPU split turned per object·cluster sync. */
export function cpuPerSync(
  split: CpuSplit,
  syncs: number,
  served: { dynamodb: number; sqs: number; kube: number },
): CpuPerSync {
  const perRequest = (ms: number | undefined, n: number): number | undefined =>
    ms === undefined || n === 0 ? undefined : round(ms / n);
  const perRequestMs = {
    dynalite: perRequest(split.byComponent.dynalite, served.dynamodb),
    fauxqs: perRequest(split.byComponent.fauxqs, served.sqs),
    simulator: perRequest(split.byComponent['main: simulator'], served.kube),
  };
  const perSyncMs = Object.fromEntries(Object.entries(split.byComponent).map(([k, v]) => [k, round(v / syncs)]));
  return {
    perSyncMs,
    totalPerSyncMs: round(split.totalMs / syncs),
    tmcPerSyncMs: round(tmcCpuMs(split) / syncs),
    totalMs: Math.round(split.totalMs),
    perRequestMs,
    busiestThreads: split.busiestThreads,
  };
}
