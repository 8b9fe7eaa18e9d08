import { EmfMetrics } from '../../lib/metrics/emf-metrics';
import { publishGauges, rollupSnapshot } from '../../lib/metrics/rollup';
import { CREDENTIAL_TTL_MS } from '../../lib/adapters/kube/kube-connector';
import { DEFAULT_RECOVERY_SETTINGS } from '../../lib/recovery/deps';
import { FUNCTION_ACCESS, FUNCTIONS, QUEUES, SCHEDULES, type FunctionName } from '../../lib/runtime/resources';
import { dynamoReadOps, dynamoWriteOps, type AwsOpCounts } from '../support/aws-op-counter';
import type { IoService } from '../support/io-rounds';
import type { IdleRunProfile } from '../support/idle-run-profile';
import type { LambdaUsage } from '../support/tmc-metrics';
import type { StackInventory } from './inventory';
import { PRICES, type Prices } from './prices';

/**
 * Dollars from measured counts and the price table. Assumptions, each stated in the result:
 * - Lambda GB-seconds = measured handler duration × the function's configured memory (lib/runtime/resources.ts).
 *   Locally every function shares two cores with the emulators and the simulator, so durations are high: an upper
 *   bound.
 * - DynamoDB: write units by the item's size by kind, 1 per KiB started (dynamoWriteUnits), one read unit per item a
 *   GetItem or batch reads and per query request (strongly consistent, items under 4 KiB: what tmc's items are). A
 *   query's page over many items bills their total size in 4 KiB units: a lower bound here.
 * - SQS: every request counts but GetQueueAttributes (the harness's are not counted at all; the schedules' are
 *   billed with their runs, ownSqsOnly). Locally pollers wait 1 s per receive;
 *   Lambda's pollers wait 20 s, so busy-time receives are about the same and idle receives are modelled below.
 * - API Gateway: one request per ingress invocation (each webhook call is one).
 */

export interface Usage {
  lambda: Record<string, LambdaUsage>;
  dynamodb: AwsOpCounts;
  sqs: AwsOpCounts;
  /** Requests to kcp and the clusters. */
  kubeRequests?: number;
  /** A settled run's CPU, request rounds and log bytes (bench/support/idle-run-profile.ts). */
  profile?: IdleRunProfile;
  /** Settled recovery-sweep: the full passes its pages take to go round before runs skip (bench/e2e/scenario.ts). */
  fullRunsPerRound?: number;
}

export interface CostBreakdown {
  lambdaRequests: number;
  lambdaCompute: number;
  dynamodb: number;
  sqs: number;
  apiGateway: number;
  total: number;
}

const perMillion = (count: number, price: number): number => (count / 1e6) * price;

/**
 * Items read: a batch request bills each item it reads (a BatchGetItem of 100 keys is 100 reads, not one), which the
 * byItem counts carry as `BatchGetItem items`; every other read request is one.
 */
export function dynamoItemReads(counts: AwsOpCounts): number {
  const batches = counts.requests.BatchGetItem ?? 0;
  return dynamoReadOps(counts) - batches + (batches > 0 ? (counts.byItem['BatchGetItem items'] ?? batches) : 0);
}

/** Items written, a BatchWriteItem counting each of its items. */
export function dynamoItemWrites(counts: AwsOpCounts): number {
  const batches = counts.requests.BatchWriteItem ?? 0;
  return dynamoWriteOps(counts) - batches + (batches > 0 ? (counts.byItem['BatchWriteItem items'] ?? batches) : 0);
}

const WRITE_OPS = ['PutItem', 'UpdateItem', 'DeleteItem'];

/**
 * Write units billed: DynamoDB bills a write by the item's size (the larger of before and after), 1 unit per KiB
 * started, and again on gsi1 by the size of the item's index entry when it carries gsi1's keys. With the table's items
 * sized by kind after the phase (`itemBytes`), each `PutItem SYNC`-like count is billed at its kind's mean units per
 * item, on the table and on gsi1; writes of a kind not in the table at the end (deleted, or batch items with no kind)
 * and every write without sizes fall back to the request body's size per write on the table, which overstates an item
 * (its JSON type descriptors, expressions and placeholders), and to the table's mean gsi1 units per item on gsi1.
 * A write that takes its item off gsi1 (`gsi1Leaves`) is billed the index entry's delete, at least 1 unit.
 */
export function dynamoWriteUnits(counts: AwsOpCounts): {
  /** Table and gsi1 together: what is billed. */
  units: number;
  tableUnits: number;
  gsi1Units: number;
  /** Writes billed from their kind's measured item sizes; the rest from the request bodies. */
  sized: number;
  writes: number;
} {
  const writes = dynamoItemWrites(counts);
  if (writes === 0) return { units: 0, tableUnits: 0, gsi1Units: 0, sized: 0, writes };
  const perBody = Math.max(1, Math.ceil(counts.writeBytes / writes / 1024));
  const kinds = Object.values(counts.itemBytes ?? {});
  const items = kinds.reduce((n, k) => n + k.count, 0);
  const gsi1PerItem = items === 0 ? 0 : kinds.reduce((n, k) => n + k.gsi1UnitsPerWrite * k.count, 0) / items;
  let tableUnits = 0;
  let gsi1Units = 0;
  let sized = 0;
  let leavingUnsized = 0;
  for (const [key, n] of Object.entries(counts.byItem)) {
    const space = key.indexOf(' ');
    if (!WRITE_OPS.includes(key.slice(0, space))) continue;
    const sizes = counts.itemBytes?.[key.slice(space + 1)];
    // A write that takes its item off gsi1 is billed the delete of the entry it had (at least 1 unit; the entry was
    // the item with its index keys, so at least the item's own units now), not the mean of the kind's items at the
    // end, which for a removed copy's or a gone object's record is 0: the item is no longer on the index.
    const leaving = Math.min(n, counts.gsi1Leaves?.[key] ?? 0);
    if (sizes === undefined) {
      leavingUnsized += leaving;
      continue;
    }
    tableUnits += n * sizes.unitsPerWrite;
    gsi1Units += (n - leaving) * sizes.gsi1UnitsPerWrite + leaving * Math.max(1, sizes.unitsPerWrite);
    sized += n;
  }
  const unsized = Math.max(0, writes - sized);
  tableUnits += unsized * perBody;
  gsi1Units += Math.max(0, unsized - leavingUnsized) * gsi1PerItem + leavingUnsized * perBody;
  return { units: tableUnits + gsi1Units, tableUnits, gsi1Units, sized, writes };
}

function memoryMb(fn: string): number {
  return fn in FUNCTIONS ? FUNCTIONS[fn as FunctionName].memoryMb : 1024;
}

/** SQS requests billed, `GetQueueAttributes` left out (the schedules' depth reads: billed per run, ownSqsOnly). */
function sqsRequestsOf(usage: Usage): number {
  return Object.entries(usage.sqs.requests).reduce((n, [op, v]) => (op === 'GetQueueAttributes' ? n : n + v), 0);
}

/** The bill of one measured piece of work. */
export function costOf(usage: Usage, prices: Prices = PRICES): CostBreakdown {
  let invocations = 0;
  let gbSeconds = 0;
  for (const [fn, u] of Object.entries(usage.lambda)) {
    invocations += u.invocations;
    gbSeconds += u.durationSeconds * (memoryMb(fn) / 1024);
  }
  const writeUnits = dynamoWriteUnits(usage.dynamodb).units;
  const readUnits = dynamoItemReads(usage.dynamodb);
  const sqsRequests = sqsRequestsOf(usage);
  const apiRequests = usage.lambda.ingress?.invocations ?? 0;
  const parts = {
    lambdaRequests: perMillion(invocations, prices.lambda.perMillionRequests),
    lambdaCompute: gbSeconds * prices.lambda.perGbSecond,
    dynamodb:
      perMillion(writeUnits, prices.dynamodb.perMillionWriteUnits) +
      perMillion(readUnits, prices.dynamodb.perMillionReadUnits),
    sqs: perMillion(sqsRequests, prices.sqs.perMillionRequests),
    apiGateway: perMillion(apiRequests, prices.apiGateway.perMillionRequests),
  };
  return { ...parts, total: Object.values(parts).reduce((a, b) => a + b, 0) };
}

/**
 * Round-trip latency of one request from a Lambda function in the same region, keep-alive connection, small items:
 * DynamoDB GetItem/Query/UpdateItem 5-10 ms (priced at 10), SQS GetQueueAttributes/ReceiveMessage 10-20 ms (20),
 * Secrets Manager (30), and kcp or a cluster's API server answering a LIST of a few objects (30: tmc does not run them,
 * so this assumes one in the same region; a farther one adds its distance to every round). Not this machine's emulators
 * and simulator, whose latency under a shared 2-core load is what local durations measure.
 */
export const IN_REGION_LATENCY_MS: Record<IoService, number> = {
  dynamodb: 10,
  sqs: 20,
  secretsmanager: 30,
  kubernetes: 30,
};
/** Lambda gives a function CPU in proportion to its memory: one whole vCPU at 1,769 MB. */
export const FULL_VCPU_MB = 1769;

export interface BilledRun {
  /** Billed ms of one run (Lambda rounds each invocation up to 1 ms). */
  ms: number;
  cpuMs: number;
  ioMs: number;
  /** `measured`: the run's own rounds; `sequential`: each request a round of its own (an upper bound). */
  rounds: 'measured' | 'sequential';
}

/**
 * The billed duration of a settled run: Lambda bills wall time, which is the CPU the run needs (stretched when the
 * function has less than a whole vCPU) plus its waits for requests, one in-region latency per round of requests sent
 * together (the slowest service in the round). Rounds measured in the main thread; a target in a worker thread (its
 * requests not visible there) is priced as if every request waited for the one before.
 */
export function billedRun(usage: Usage, memoryMb: number, ownSqsRequests: number): BilledRun | undefined {
  const { profile } = usage;
  if (profile === undefined) return undefined;
  const cpuMs = profile.cpuMs * Math.max(1, FULL_VCPU_MB / memoryMb);
  const roundMs = (services: readonly IoService[]): number =>
    Math.max(0, ...services.map((s) => IN_REGION_LATENCY_MS[s]));
  const ioMs =
    profile.rounds !== undefined
      ? profile.rounds.reduce((n, r) => n + roundMs(r), 0)
      : (dynamoReadOps(usage.dynamodb) + dynamoWriteOps(usage.dynamodb)) * IN_REGION_LATENCY_MS.dynamodb +
        ownSqsRequests * IN_REGION_LATENCY_MS.sqs +
        (usage.kubeRequests ?? 0) * IN_REGION_LATENCY_MS.kubernetes;
  return {
    ms: Math.ceil(cpuMs + ioMs),
    cpuMs: Math.round(cpuMs),
    ioMs,
    rounds: profile.rounds !== undefined ? 'measured' : 'sequential',
  };
}

/**
 * Lambda's JSON-format platform records of one invocation at the default system log level (INFO): `platform.start`
 * and `platform.report`, with their tracing fields when the function is traced. Built from the documented record
 * shapes with realistic values, as they cannot be measured locally.
 */
export function platformLogBytes(traced: boolean): number {
  const requestId = '8f5c3a1e-2b7d-4c9a-9e1f-0a6b5d4c3e21';
  const time = '2026-12-06T16:00:00.000Z';
  const tracing = traced
    ? {
        tracing: {
          spanId: '1b2c3d4e5f607182',
          type: 'X-Amzn-Trace-Id',
          value: 'Root=1-67530a40-0123456789abcdef01234567;Parent=1b2c3d4e5f607182;Sampled=1',
        },
      }
    : {};
  const start = { time, type: 'platform.start', record: { requestId, version: '$LATEST', ...tracing } };
  const report = {
    time,
    type: 'platform.report',
    record: {
      requestId,
      metrics: { durationMs: 41.87, billedDurationMs: 42, memorySizeMB: 1024, maxMemoryUsedMB: 118 },
      ...tracing,
      status: 'success',
    },
  };
  return Buffer.byteLength(`${JSON.stringify(start)}\n${JSON.stringify(report)}\n`);
}

/** Lambda's SQS event source keeps five long-polling pollers per queue while idle, each a receive every 20 s. */
export const IDLE_POLLERS_PER_QUEUE = 5;
const LONG_POLL_SECONDS = 20;
export const SECONDS_PER_MONTH = 30 * 24 * 3600;
/** What the idle stack may cost a month beyond the fixed items (alarms, secrets, dashboard, the queues' pollers). */
export const IDLE_TARGET_DOLLARS = 1;

export interface IdleLine {
  item: string;
  /** `fixed`: billed per resource whatever happens; `variable`: driven by the schedules' runs. */
  kind: 'fixed' | 'variable';
  quantity: string;
  dollars: number;
}

export interface IdleMonth {
  lines: IdleLine[];
  variable: number;
  fixed: number;
  total: number;
  target: { variableUnder: number; met: boolean };
  assumptions: string[];
}

export interface IdleInputs {
  /**
   * One measured run of each schedule, by SCHEDULES name, on a stack holding its clusters and objects, right after
   * the stack's last change (recovery-sweep: a full pass).
   */
  perRun: Record<string, Usage>;
  /**
   * The run after it, on the same warm container with nothing changed in between: what every later run of an idle
   * month costs (recovery-sweep: a run its quiet gate lets skip the full pass). Without it every run costs `perRun`.
   */
  settledRun?: Record<string, Usage>;
  inventory: StackInventory;
  /** Registered clusters: one credential secret each, and per-cluster gauges. */
  clusters: number;
  /** CloudWatch Logs bytes one scheduled run writes (platform START/END/REPORT records, the EMF document, its logs). */
  logBytesPerRun: number;
  logRetentionDays: number;
}

/**
 * Custom metric series an idle stack keeps sending, counted by the code that decides what is sent: each scheduled
 * function's invocation metrics (what measureInvocation records) and the gauges of a settled, healthy stack (the
 * rollup's snapshot, lib/metrics/rollup.ts; health-probe's clusters by state) go through EmfMetrics twice, as two runs
 * of one warm container; what the second run sends, every later run sends. A problem (an Unhealthy cluster, a pending
 * sync, a DLQ message) adds its series for as long as it lasts.
 */
export function idleMetricSeries(
  clusters: number,
  queues: readonly string[],
  scheduledFunctions: readonly string[],
): number {
  const names = Array.from({ length: clusters }, (_, i) => `cluster-${i}`);
  const snapshot = rollupSnapshot(
    {
      health: names.map((cluster) => ({ cluster, state: 'Healthy' as const })),
      mirrored: names,
      queues: queues.map((queue) => ({ queue, visible: 0, inFlight: 0, delayed: 0, dlq: 0 })),
      clusters: names,
      syncs: names.map(() => [{ state: 'applied', updatedAt: new Date(0).toISOString() }]),
      circuits: names.map(() => undefined),
    },
    0,
  );
  const sent = new Set<string>();
  for (const fn of scheduledFunctions) {
    let counting = false;
    const emf = new EmfMetrics('tmc', fn, (labels, values) => {
      if (counting) for (const v of values) sent.add(`${fn} ${v.name} ${JSON.stringify(labels)}`);
    });
    for (const run of [1, 2]) {
      counting = run === 2;
      emf.increment('tmc_function_invocations_total', { function: fn, result: 'ok' });
      emf.observe('tmc_function_duration_seconds', { function: fn }, 0.1);
      if (fn === 'metrics-rollup') publishGauges(snapshot, emf);
      if (fn === 'health-probe')
        publishGauges(
          snapshot.filter((g) => g.name === 'tmc_clusters'),
          emf,
        );
      emf.flush();
    }
  }
  return sent.size;
}

/** How long a container keeps kcp's and a cluster's credentials (lib/adapters/kube/kube-connector.ts). */
const CREDENTIAL_TTL_SECONDS = CREDENTIAL_TTL_MS / 1000;
/** The webhook tokens' cache (lib/adapters/kube/secret-reader.ts). */
const SECRET_TTL_SECONDS = 60;
/**
 * The content key is read once per container (lib/runtime/content-key.ts); Lambda replaces a warm container every few
 * hours at most, so once an hour is an upper bound.
 */
const CONTAINER_LIFE_SECONDS = 3600;

/**
 * Secrets Manager reads a month by one schedule's target kept warm by its schedule: kcp's kubeconfig and each
 * cluster's credentials once per credential TTL, the content key once per container, the webhook tokens once per
 * their TTL (never more than once a run).
 */
export function secretReadsPerMonth(target: FunctionName, clusters: number, rateSeconds: number): number {
  const access = FUNCTION_ACCESS[target];
  const credentials = (access.kcp ? 1 : 0) + (access.clusterCredentials ? clusters : 0);
  const every = (seconds: number): number => SECONDS_PER_MONTH / Math.max(rateSeconds, seconds);
  return (
    credentials * every(CREDENTIAL_TTL_SECONDS) +
    (access.contentKey ? every(CONTAINER_LIFE_SECONDS) : 0) +
    (access.webhookTokens ? every(SECRET_TTL_SECONDS) : 0)
  );
}

/**
 * GetQueueAttributes a run makes per queue it inspects: the queue and its DLQ (metrics-rollup's gauges), but the queue
 * only for recovery-sweep's quiet gate (lib/runtime/recovery-sweep.ts gives its SqsQueueDepths no DLQ URL).
 */
const DEPTH_READS_PER_QUEUE: Partial<Record<FunctionName, number>> = { 'recovery-sweep': 1 };

/**
 * A schedule run's SQS requests as its target makes them. The measured window also holds the local stack's pollers'
 * receives (Lambda's pollers in the cloud: the fixed line) and the harness's depth reads, which no request tells apart
 * from the target's; so receives and depth reads are replaced by what the target's FUNCTION_ACCESS lets it make: one
 * receive per DLQ it redrives (a full run; the sweep's gated runs read none) and its depth reads per queue it inspects
 * (DEPTH_READS_PER_QUEUE).
 */
export function ownSqsOnly(target: FunctionName, usage: Usage, full: boolean): Usage {
  const access = FUNCTION_ACCESS[target];
  const requests: Record<string, number> = { ...usage.sqs.requests };
  delete requests.ReceiveMessage;
  delete requests.GetQueueAttributes;
  if (full && access.redrives.length > 0) requests.ReceiveMessage = access.redrives.length;
  // Under its own key: costOf leaves `GetQueueAttributes` out (the phases' depth reads are the schedules').
  if (access.inspects.length > 0)
    requests['GetQueueAttributes (target)'] = (DEPTH_READS_PER_QUEUE[target] ?? 2) * access.inspects.length;
  return { ...usage, sqs: { ...usage.sqs, requests } };
}

const cents = (dollars: number): number => Math.round(dollars * 100) / 100;

/** One idle month of a deployed stack, each item priced; the variable part is compared with IDLE_TARGET_DOLLARS. */
export function idleMonth(input: IdleInputs, prices: Prices = PRICES): IdleMonth {
  const { inventory, clusters } = input;
  const lines: IdleLine[] = [];
  const add = (kind: IdleLine['kind'], item: string, quantity: string, dollars: number): void => {
    lines.push({ kind, item, quantity, dollars: cents(dollars) });
  };
  let runs = 0;
  let tracedRuns = 0;
  let logBytes = 0;
  const logLevels = new Set<string>();
  let secretCalls = 0;
  const scheduledFunctions = new Set<FunctionName>();
  for (const rule of inventory.schedules) {
    const schedule = SCHEDULES.find((s) => s.name === rule.name);
    const usage = input.perRun[rule.name];
    if (schedule === undefined || usage === undefined)
      throw new Error(`No measured run of schedule ${rule.name}: run \`tmc bench\` first`);
    const runsPerMonth = SECONDS_PER_MONTH / rule.rateSeconds;
    const settled = input.settledRun?.[rule.name] ?? usage;
    // Full runs a month: the sweep's quiet gate makes a round of them at least every fullPassSeconds (one run on a
    // stack that fits a page of each pass; as many as its pages take to go round on a larger one); any other
    // schedule's runs after the first cost what the settled run cost.
    const fullRuns =
      input.settledRun?.[rule.name] === undefined
        ? runsPerMonth
        : rule.name === 'recovery-sweep'
          ? Math.min(
              runsPerMonth,
              (SECONDS_PER_MONTH / Math.max(rule.rateSeconds, DEFAULT_RECOVERY_SETTINGS.fullPassSeconds)) *
                (settled.fullRunsPerRound ?? 1),
            )
          : 0;
    const fullOwn = ownSqsOnly(schedule.target, usage, true);
    const full = costOf(fullOwn, prices);
    const settledOwn = ownSqsOnly(schedule.target, settled, fullRuns === runsPerMonth);
    const rest = costOf(settledOwn, prices);
    const memory = memoryMb(schedule.target);
    const billed = billedRun(settled, memory, sqsRequestsOf(settledOwn));
    // A settled run's Lambda time as Lambda would bill it (billedRun), not its local duration under this machine's load.
    if (billed) rest.lambdaCompute = (billed.ms / 1000) * (memory / 1024) * prices.lambda.perGbSecond;
    const billedFull = billedRun(usage, memory, sqsRequestsOf(fullOwn));
    if (billedFull) full.lambdaCompute = (billedFull.ms / 1000) * (memory / 1024) * prices.lambda.perGbSecond;
    const monthOf = (k: keyof CostBreakdown): number => full[k] * fullRuns + rest[k] * (runsPerMonth - fullRuns);
    runs += runsPerMonth;
    const traced = inventory.tracedFunctions.includes(schedule.target);
    if (traced) tracedRuns += runsPerMonth;
    logBytes += runsPerMonth * ((settled.profile?.logBytes ?? input.logBytesPerRun) + platformLogBytes(traced));
    if (settled.profile) logLevels.add(settled.profile.logLevel);
    scheduledFunctions.add(schedule.target);
    secretCalls += secretReadsPerMonth(schedule.target, clusters, rule.rateSeconds);
    const invocation = perMillion(runsPerMonth, prices.eventBridge.perMillionScheduledInvocations);
    const split = fullRuns === runsPerMonth ? '' : ` (${Math.round(fullRuns)} full, the rest settled)`;
    const fullHow =
      fullRuns === 0
        ? ''
        : billedFull
          ? `, a full one billed ${billedFull.ms} ms`
          : `, a full one at its local duration (${usage.lambda[schedule.target]?.durationSeconds ?? 0} s)`;
    const how = billed
      ? `${fullHow}, a settled one billed ${billed.ms} ms at ${memory} MB (CPU ${billed.cpuMs} ms + ${billed.ioMs} ms of in-region waits, ${billed.rounds === 'measured' ? `${settled.profile?.rounds?.length ?? 0} measured rounds of requests` : 'each request waited for in turn'})`
      : `, local durations at ${memory} MB`;
    add(
      'variable',
      `schedule ${rule.name}: Lambda`,
      `${runsPerMonth} runs${split}${how}`,
      monthOf('lambdaRequests') + monthOf('lambdaCompute') + invocation,
    );
    const perRunItems = (u: Usage): string =>
      `${dynamoItemReads(u.dynamodb)} reads, ${dynamoItemWrites(u.dynamodb)} writes`;
    add(
      'variable',
      `schedule ${rule.name}: DynamoDB`,
      fullRuns === runsPerMonth
        ? `${perRunItems(usage)} a run`
        : `${perRunItems(usage)} a full run, ${perRunItems(settled)} a settled one`,
      monthOf('dynamodb'),
    );
    add('variable', `schedule ${rule.name}: SQS`, 'its own requests', monthOf('sqs'));
  }
  // Billed per event source mapping whatever the traffic, as an alarm is per alarm: Lambda's pollers long-poll every
  // mapped queue all the time, and their number is not configurable (provisioned mode's minimum pollers bill by the
  // hour, more). Only fewer queues would lower it.
  const receives = inventory.polledQueues * IDLE_POLLERS_PER_QUEUE * (SECONDS_PER_MONTH / LONG_POLL_SECONDS);
  add(
    'fixed',
    "SQS empty receives of Lambda's pollers",
    `${receives} requests (${inventory.polledQueues} event source mappings)`,
    perMillion(receives, prices.sqs.perMillionRequests),
  );
  const series = idleMetricSeries(clusters, Object.keys(QUEUES), [...scheduledFunctions]);
  add(
    'variable',
    'CloudWatch custom metrics (EMF)',
    `${series} series on a healthy, settled stack (each problem gauge $${prices.cloudWatch.perCustomMetricMonth.toFixed(2)} a month while it lasts)`,
    series * prices.cloudWatch.perCustomMetricMonth,
  );
  const logGb = logBytes / 1024 ** 3;
  // Stored volume at steady state: the retention period's worth of logs.
  const storedGb = logGb * (input.logRetentionDays / 30);
  add(
    'variable',
    'CloudWatch Logs ingested and stored',
    `${logGb.toFixed(3)} GB a month (${Math.round(logBytes / runs)} bytes a run), ${input.logRetentionDays} d kept`,
    logGb * prices.cloudWatch.perGbLogsIngested + storedGb * prices.cloudWatch.perGbLogsStoredMonth,
  );
  add(
    'variable',
    'X-Ray traces of scheduled runs',
    `${tracedRuns} traces (active tracing samples every run at these rates)`,
    perMillion(tracedRuns, prices.xRay.perMillionTracesRecorded),
  );
  add(
    'variable',
    'Secrets Manager reads',
    `${secretCalls} calls`,
    (secretCalls / 10_000) * prices.secretsManager.perTenThousandApiCalls,
  );
  add(
    'fixed',
    'CloudWatch alarms',
    `${inventory.alarms} alarms, ${inventory.alarmMetrics} alarm metrics`,
    inventory.alarmMetrics * prices.cloudWatch.perAlarmMetricMonth,
  );
  add(
    'fixed',
    'CloudWatch dashboard',
    `${inventory.dashboards}`,
    inventory.dashboards * prices.cloudWatch.perDashboardMonth,
  );
  const secrets = inventory.secrets + clusters;
  add(
    'fixed',
    'Secrets Manager secrets',
    `${inventory.secrets} of the stack + ${clusters} cluster credentials`,
    secrets * prices.secretsManager.perSecretMonth,
  );
  const sum = (kind: IdleLine['kind']): number =>
    cents(lines.filter((l) => l.kind === kind).reduce((n, l) => n + l.dollars, 0));
  const variable = sum('variable');
  const fixed = sum('fixed');
  return {
    lines,
    variable,
    fixed,
    total: cents(variable + fixed),
    target: { variableUnder: IDLE_TARGET_DOLLARS, met: variable < IDLE_TARGET_DOLLARS },
    assumptions: [
      '30-day month, us-east-1 list prices without free tier (bench/cost/prices.ts)',
      input.settledRun
        ? `each schedule run twice on the benchmark stack after its phases (its clusters and objects present): the first run as the month's full runs (recovery-sweep: a round of full passes every ${DEFAULT_RECOVERY_SETTINGS.fullPassSeconds} s, as many as its pages took to go round on the benchmark stack), the second, settled one as every other run`
        : 'each schedule run as measured once on the benchmark stack after its phases (its clusters and objects present)',
      `${inventory.polledQueues} polled queues × ${IDLE_POLLERS_PER_QUEUE} Lambda pollers × one ${LONG_POLL_SECONDS} s long poll each (fixed: per event source mapping)`,
      'custom metrics: the series a warm container sends on a settled, healthy stack (gauges on change, lib/metrics/emf-policy.ts; idleMetricSeries)',
      logLevels.size > 0
        ? `logs: each run's own JSON lines as measured at level ${[...logLevels].join('/')} (deployed: INFO), plus Lambda's platform.start and platform.report records (${platformLogBytes(false)}-${platformLogBytes(true)} bytes)`
        : `${input.logBytesPerRun} bytes of logs per scheduled run (not measured)`,
      `Lambda: a settled run billed as CPU × max(1, ${FULL_VCPU_MB} MB / memory) + one in-region latency per round of requests (DynamoDB ${IN_REGION_LATENCY_MS.dynamodb} ms, SQS ${IN_REGION_LATENCY_MS.sqs} ms, kcp and clusters ${IN_REGION_LATENCY_MS.kubernetes} ms), rounded up to 1 ms; a run without a profile at its local duration (an upper bound)`,
      `one warm container per schedule target: credentials read every ${CREDENTIAL_TTL_SECONDS} s (and at once after a 401), the content key once per container (${CONTAINER_LIFE_SECONDS} s assumed), webhook tokens every ${SECRET_TTL_SECONDS} s`,
      "not counted: DynamoDB storage and backups, data transfer, a VPC's endpoints or NAT",
    ],
  };
}

const usd = (n: number): string => `$${n.toFixed(2)}`;

/** The idle month as printed by `tmc bench --cost` and `tmc bench`. */
export function formatIdleMonth(month: IdleMonth): string {
  const width = Math.max(...month.lines.map((l) => l.item.length));
  const rows = month.lines.map(
    (l) => `  ${l.kind.padEnd(8)} ${l.item.padEnd(width)}  ${usd(l.dollars).padStart(8)}  ${l.quantity}`,
  );
  return [
    `Idle month (${PRICES.region}, prices as of ${PRICES.asOf}; bench/cost/prices.ts)`,
    ...rows,
    `  variable ${usd(month.variable)} (target under ${usd(month.target.variableUnder)}: ${month.target.met ? 'met' : 'NOT met'}), fixed ${usd(month.fixed)}, total ${usd(month.total)}`,
    ...month.assumptions.map((a) => `  - ${a}`),
  ].join('\n');
}
