import type { Simulation } from '../sim';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { PromMetrics } from '../metrics/prom-metrics';
import { REMOTE_WRITE_ENV } from '../metrics/remote-write-config';
import { DynamoStatusCredentialStore } from '../adapters/dynamodb/status-credential-store';
import { makeDynamoDocumentClient, makeSqsClient } from '../runtime/aws';
import { useSharedMetrics } from '../runtime/metrics';
import {
  ENV,
  QUEUES,
  SCHEDULES,
  SYNCER_FEED,
  TABLE,
  type FunctionName,
  type QueueDefinition,
  type QueueName,
} from '../runtime/resources';
import {
  ensureQueues,
  ensureTable,
  startLocalDynamo,
  startLocalSqs,
  type LocalDynamo,
  type LocalQueues,
  type LocalSqs,
} from './aws-services';
import type { EmulatorThread } from './emulator-thread';
import { clusterLabels, resolveClusters, type LocalClusterSpec } from './clusters';
import { startEventSource, type EventSourceMapping } from './event-source';
import type { LambdaHandler } from './container-pool';
import { WORKER_YOUNG_GENERATION_MB } from './young-generation';
import { HARNESS_USER_AGENT } from './harness-user-agent';
import { FunctionMissingError, FunctionRuntime } from './function-runtime';
import type { FunctionThreadHeap } from './function-thread';
import { collectGarbage, threadHeapNow, type ThreadHeap } from './thread-heap';
import { startApiServer, type ApiServer } from './http-server';
import { installCrds, registerClusters, type ClusterRegistration } from './kcp-bootstrap';
import { issueStatusCredential } from '../auth/status-credentials';
import { syncerSubject } from '../vw/syncer-view';
import { startSyncerFeedServer, type SyncerFeedServer } from './syncer-feed-server';
import { kubeconfigServer, renderKubeconfig, writeKubeconfig } from './kubeconfig-files';
import { writeStackEndpoints } from './endpoints-file';
import { queueDefinitions, readOrCreateToken, type LocalEnvironment } from './environment';
import { enforceLocalIam, type LocalIamOptions } from './iam';
import { createStackLogger } from './log';
import type { Log } from '../observability/log';
import { findProjectRoot, statePaths, type StatePaths } from './paths';
import { startExpirySweeper } from './expiry-sweep';
import { startScheduler, wantsTimer, type Scheduler } from './schedules';
import { startSimulator, type SimulatedEnvironment } from './simulator';
import { registerWebhooks } from './webhooks';
import { LOCAL_LAMBDA_ENV } from './lambda-context';
import { DEFAULT_TMC_USER } from '../webhooks';

export const DEFAULT_API_PORT = 8787;
export const DEFAULT_WORKSPACE = 'root:default';

export interface LocalStackOptions {
  /** Where functions/, config/ and lib/ are; found from the working directory when omitted. */
  projectRoot?: string;
  /** State (DynamoDB files, kubeconfigs, token); `<projectRoot>/.tmc` by default. Tests pass a temp dir. */
  stateDir?: string;
  /** Wipes the state dir first. */
  fresh?: boolean;
  /** HTTP API port; 0 picks a free one. Default 8787. */
  port?: number;
  workspace?: string;
  /**
   * More kcp workspaces served by the same stack (simulator only): each gets tmc's CRDs, its webhooks and a
   * SyncTarget for every cluster, so two workspaces share the physical clusters (and TMC_WORKSPACES names them all).
   */
  extraWorkspaces?: string[];
  /** Simulated clusters: a count, names, or full specs. Default east, west, edge. */
  clusters?: number | string[] | LocalClusterSpec[];
  /**
   * Simulated clusters registered in pull mode (`--pull-cluster`): tmc's functions get no credentials for them; a
   * `tmc syncer` (the command is in the banner) syncs them through the virtual workspace.
   */
  pullClusters?: string[];
  /** A real kcp instead of the simulator. */
  kcpKubeconfig?: string;
  /**
   * An environment running in another process (`startLocalEnvironment`: emulators, simulated kcp and clusters):
   * this stack then runs only tmc's functions, its API, pollers and schedules against it (`tmc chaos`).
   */
  environment?: LocalEnvironment;
  /** Real clusters by name (with `kcpKubeconfig`). */
  clusterKubeconfigs?: Record<string, string>;
  /** Schedule rates in seconds by schedule name (tests make health probes fast). */
  scheduleRates?: Record<string, number>;
  /** false: no schedule timers (tests call `runSchedule`); a list: timers for those schedules only. Default all. */
  schedules?: boolean | string[];
  /** Per-queue changes to QUEUES (tests shorten visibility timeouts). */
  queues?: Partial<Record<QueueName, Partial<QueueDefinition>>>;
  /** Handlers by function name, replacing functions/<name>/handler.ts. */
  handlers?: Partial<Record<FunctionName, LambdaHandler>>;
  /** Keeps DynamoDB state on disk in the state dir (default true); false runs it in memory. */
  persist?: boolean;
  /** How often expired items are deleted and the table's files compacted (lib/local/expiry-sweep.ts); 10 minutes. */
  expirySweepSeconds?: number;
  logger?: Log;
  /** Skips kcp bootstrap and webhook installation (plumbing tests). */
  bootstrap?: boolean;
  /** Long-poll wait of the queue pollers; Lambda's is 20 s. */
  pollWaitSeconds?: number;
  /** A Prometheus remote-write URL: metrics-rollup pushes the whole registry there on its schedule. */
  prometheusRemoteWriteUrl?: string;
  /**
   * Runs the heavy functions (ingress, placement, sync-apply, status-up; the status backstop is status-up) in a worker
   * thread, so they use the machine's other core; true for those, or a list. api, authorizer and metrics-rollup stay
   * on the main thread with the registry they serve; functions given in `handlers` stay in process. Default off
   * (tests); `tmc dev` and the benchmark turn it on. See docs/local-stack.md.
   */
  functionThreads?: boolean | FunctionName[];
  /** `shared` (default): the threaded functions share one thread (one isolate); `own`: a thread each. */
  functionThreadLayout?: 'shared' | 'own';
  /** The worker threads' young generation in MiB (lib/local/young-generation.ts); 0: V8's default. */
  youngGenerationMb?: number;
  /**
   * Containers of each queue consumer (placement, sync-apply, status-up), each running one batch at a time as on
   * Lambda; their queue's poller keeps at most this many batches in flight. Default 1 (a Lambda with reserved
   * concurrency 1): see docs/local-stack.md "One invocation per container" for what more would change.
   */
  consumerContainers?: number;
  /**
   * IAM on the functions' AWS calls (lib/local/iam.ts): each function may call only what its CDK role allows. On by
   * default; `access` replaces functions' FUNCTION_ACCESS (tests remove a grant; in-process functions only).
   */
  iam?: false | { access?: LocalIamOptions['access'] };
  /**
   * Simulator knobs: per-request latency (benchmarks use 5 ms for realistic round trips), workload ready delay, and
   * request log records kept per server (`tmc dev` keeps fewer: nothing resets them there).
   */
  simulator?: { latencyMs?: number; readyDelayMs?: number; requestLogLimit?: number; eventTtlMs?: number };
}

export interface LocalStack {
  apiUrl: string;
  workspace: string;
  paths: StatePaths;
  kcpKubeconfig: string;
  clusterKubeconfigs: Record<string, string>;
  /** Pull-mode clusters' virtual-workspace credentials for their syncer (`.tmc/syncers/<name>.kubeconfig`). */
  syncerKubeconfigs: Record<string, string>;
  tableName: string;
  queues: LocalQueues;
  endpoints: { dynamodb: string; sqs: string };
  /** The worker threads dynalite and fauxqs run in (the benchmark counts their requests there); none with `environment`. */
  emulators?: { dynamodb: EmulatorThread; sqs: EmulatorThread };
  webhookToken: string;
  /** The environment the functions run with (also set on process.env). */
  env: Record<string, string>;
  /** The simulator's handle, when the stack runs one. */
  simulation?: Simulation;
  sqs: SQSClient;
  /** Every function's metrics in this process (served at GET /metrics). */
  metrics: PromMetrics;
  /** The functions running in worker threads of their own now (`functionThreads`), each started on first use. */
  threadedFunctions(): FunctionName[];
  /**
   * Every thread's V8 heap now (this one, the functions' threads, the emulators'), each after a full collection with
   * `collectGarbage`, and containers per function.
   */
  heaps(options?: { collectGarbage?: boolean }): Promise<StackHeaps>;
  /** Invokes a function as Lambda would (a realistic context), returning its result. */
  invoke(name: FunctionName, event: unknown): Promise<unknown>;
  /** Runs one schedule now, as its timer would. */
  runSchedule(name: string): Promise<void>;
  /**
   * Resolves when no queue has a visible, in-flight or delayed message and no handler, request or schedule is running
   * (checked twice in a row, so a handler that enqueues as it finishes is seen). Rejects after `timeoutMs`.
   */
  idle(options?: { timeoutMs?: number; pollMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

/** What {@link LocalStack.heaps} reports: one V8 heap per isolate, so growth can be told apart by thread. */
export interface StackHeaps {
  main: ThreadHeap;
  /** By thread label (`functions` when they share one, else the function's name). */
  functionThreads: Record<string, FunctionThreadHeap>;
  /** Containers started per function running in the main thread. */
  inProcessContainers: Record<string, number>;
  /** None when the emulators run in another process (`environment`). */
  emulators?: { dynamodb: ThreadHeap; sqs: ThreadHeap };
}

/** The functions `functionThreads: true` runs in threads: the ones on the objects' path, which use most of the CPU. */
export const THREADED_FUNCTIONS: readonly FunctionName[] = ['ingress', 'placement', 'sync-apply', 'status-up'];
/** They read or serve the main thread's registry (sharedPromMetrics), which a thread does not have. */
const MAIN_THREAD_FUNCTIONS: readonly FunctionName[] = ['api', 'metrics-rollup'];

function threadedFunctions(option: LocalStackOptions['functionThreads']): readonly FunctionName[] {
  if (option === undefined || option === false) return [];
  if (option === true) return THREADED_FUNCTIONS;
  const wrong = option.filter((name) => MAIN_THREAD_FUNCTIONS.includes(name));
  if (wrong.length > 0)
    throw new Error(
      `functionThreads cannot include ${wrong.join(', ')}: they read the main thread's metrics registry; leave them out`,
    );
  return option;
}

/** What every step of starting the stack reads, and the cleanups they register (run in reverse by {@link stopAll}). */
interface StackContext {
  options: LocalStackOptions;
  logger: Log;
  projectRoot: string;
  paths: StatePaths;
  workspace: string;
  extraWorkspaces: string[];
  region: string;
  /** The functions run in worker threads of their own (checked before anything starts). */
  threads: readonly FunctionName[];
  /** Containers per queue consumer (`consumerContainers`), and so batches in flight per queue. */
  consumerContainers: number;
  cleanups: Array<() => Promise<void>>;
}

/** DynamoDB and SQS as the functions reach them, with the table and queues created. */
interface AwsSide {
  dynamo: Pick<LocalDynamo, 'endpoint'> & Partial<LocalDynamo>;
  sqsServer: Pick<LocalSqs, 'endpoint'> & Partial<LocalSqs>;
  sqs: SQSClient;
  /** The stack's idle checks' own client, marked by its user agent (HARNESS_USER_AGENT). */
  idleSqs: SQSClient;
  tableName: string;
  queues: LocalQueues;
}

/** kcp and the clusters: the simulator's, a real kcp's, or those of an environment in another process. */
interface KubernetesSide {
  simulation?: SimulatedEnvironment;
  kcpKubeconfigPath: string;
  /** What the functions read kcp with: tmc's own identity with the simulator, the given kubeconfig with a real kcp. */
  functionsKcpKubeconfigPath?: string;
  clusterKubeconfigs: Record<string, string>;
  registrations: ClusterRegistration[];
}

/** tmc's functions in this process: the runtime that invokes them and the registry their metrics go to. */
interface StackFunctions {
  runtime: FunctionRuntime;
  metrics: PromMetrics;
  /** Invocations running now. */
  active(): number;
  /** Resolves when every function thread has loaded its modules. */
  warming: Promise<void>;
}

/** Starts all of tmc on this machine. See docs/local-stack.md. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const ctx = stackContext(options);
  try {
    prepareStateDir(ctx);
    const webhookToken = readOrCreateToken(ctx.paths.webhookToken);
    readOrCreateToken(ctx.paths.contentKey);
    const aws = await startAwsSide(ctx);
    const kube = await startKubernetesSide(ctx);
    const pullClusterNames = new Set(kube.registrations.filter((r) => r.pull).map((r) => r.name));
    const feed = pullClusterNames.size > 0 ? await startFeed(ctx) : undefined;
    const env = functionEnvironment(ctx, aws, kube, webhookToken, feed?.server);
    const functions = startFunctions(ctx, env);
    // Stopped before the runtime, so that no connection reaches a stopped function.
    if (feed) {
      feed.connect(functions.runtime);
      ctx.cleanups.push(() => feed.server.stop());
    }
    const api = await startApi(ctx, aws, functions.runtime);
    const kcpKubeconfig = readFileSync(kube.kcpKubeconfigPath, 'utf8');
    const crdsInstalled = options.bootstrap !== false && (await installWorkspaceCrds(ctx, kcpKubeconfig));
    const mappings = await startPollers(ctx, aws, functions.runtime);
    const schedules = await startSchedules(ctx, functions.runtime);
    startExpirySweep(ctx, aws);
    const syncerKubeconfigs =
      options.bootstrap === false
        ? {}
        : await bootstrapKcp(ctx, { aws, kube, api, webhookToken, kcpKubeconfig, crdsInstalled, schedules });
    const busy = (): boolean =>
      functions.active() > 0 ||
      api.inFlight > 0 ||
      schedules.scheduler.running > 0 ||
      mappings.some((m) => m.inFlight > 0);
    await functions.warming;
    const { scheduler } = schedules;
    return stackHandle(ctx, { aws, kube, api, env, functions, scheduler, webhookToken, syncerKubeconfigs, busy });
  } catch (err) {
    await stopAll(ctx);
    throw err;
  }
}

function stackContext(options: LocalStackOptions): StackContext {
  const projectRoot = options.projectRoot ?? findProjectRoot();
  const external = options.environment;
  const workspace = external?.workspaces[0] ?? options.workspace ?? DEFAULT_WORKSPACE;
  const extraWorkspaces = external
    ? external.workspaces.slice(1)
    : options.kcpKubeconfig === undefined
      ? (options.extraWorkspaces ?? []).filter((w) => w !== workspace)
      : [];
  return {
    options,
    logger: options.logger ?? createStackLogger(),
    projectRoot,
    paths: statePaths(options.stateDir ?? join(projectRoot, '.tmc')),
    workspace,
    extraWorkspaces,
    region: process.env.AWS_REGION ?? 'us-east-1',
    threads: threadedFunctions(options.functionThreads),
    consumerContainers: options.consumerContainers ?? 1,
    cleanups: [],
  };
}

/** Runs the cleanups in reverse order of registration; a failing one is logged and the rest still run. */
async function stopAll({ cleanups, logger }: StackContext): Promise<void> {
  while (cleanups.length > 0) {
    const cleanup = cleanups.pop();
    try {
      await cleanup?.();
    } catch (err) {
      logger.warn('Stopping a part of the local stack failed', { error: err });
    }
  }
}

function prepareStateDir({ options, paths, logger }: StackContext): void {
  if (options.fresh && existsSync(paths.root)) {
    logger.info('Wiping local state', { dir: paths.root });
    rmSync(paths.root, { recursive: true, force: true });
  }
  mkdirSync(paths.clustersDir, { recursive: true });
}

/** The emulators (or another process's), an SQS client, and the table and queues the functions use. */
async function startAwsSide(ctx: StackContext): Promise<AwsSide> {
  const { dynamo, sqsServer } = await startAwsEmulators(ctx);
  // The pollers' client stands in for Lambda's own pollers: a 20 s long poll cut off on a starved machine would hide
  // the messages it received for their visibility timeout, so its timeout is far above the functions' 30 s.
  const sqs = makeSqsClient({ region: ctx.region, sqsEndpoint: sqsServer.endpoint }, { requestTimeoutMs: 120_000 });
  ctx.cleanups.push(async () => sqs.destroy());
  const idleSqs = new SQSClient({
    region: ctx.region,
    endpoint: sqsServer.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    customUserAgent: HARNESS_USER_AGENT,
  });
  ctx.cleanups.push(async () => idleSqs.destroy());
  const dynamoClient = new DynamoDBClient({
    region: ctx.region,
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const tableName = TABLE.baseName;
  const tableState = await ensureTable(dynamoClient, tableName);
  dynamoClient.destroy();
  const queues = await ensureQueues(sqs, queueDefinitions(ctx.options.queues));
  ctx.logger.info(`Table ${tableName} ${tableState}; queues ${Object.keys(queues).join(', ')} with DLQs ready`);
  return { dynamo, sqsServer, sqs, idleSqs, tableName, queues };
}

/**
 * Each emulator in its own worker thread, so that their HTTP servers and storage use the second core; started side
 * by side (each thread loads its emulator's modules). A thread that dies mid-run is logged: its requests then fail to
 * connect, as they would against a crashed server.
 */
async function startAwsEmulators(ctx: StackContext): Promise<Pick<AwsSide, 'dynamo' | 'sqsServer'>> {
  const { options, logger, projectRoot, paths } = ctx;
  const external = options.environment;
  if (external) {
    logger.info('Using the environment of another process', {
      dynamodb: external.dynamodb,
      sqs: external.sqs,
      kcp: external.kcpUrl,
    });
    return { dynamo: { endpoint: external.dynamodb }, sqsServer: { endpoint: external.sqs } };
  }
  logger.info('Starting DynamoDB (dynalite) and SQS (fauxqs) in worker threads');
  const onCrash = (error: Error): void => logger.error('A local AWS emulator stopped unexpectedly', { error });
  const [dynamoStart, sqsStart] = await Promise.allSettled([
    startLocalDynamo({
      path: options.persist === false ? undefined : paths.dynamodb,
      projectRoot,
      onCrash,
      youngGenerationMb: options.youngGenerationMb,
    }),
    startLocalSqs({ projectRoot, onCrash, youngGenerationMb: options.youngGenerationMb }),
  ]);
  if (dynamoStart.status === 'fulfilled') ctx.cleanups.push(() => dynamoStart.value.stop());
  if (sqsStart.status === 'fulfilled') ctx.cleanups.push(() => sqsStart.value.stop());
  if (dynamoStart.status === 'rejected') throw dynamoStart.reason;
  if (sqsStart.status === 'rejected') throw sqsStart.reason;
  return { dynamo: dynamoStart.value, sqsServer: sqsStart.value };
}

/** Kubernetes side: the simulator, or the real kcp and clusters the user named, or another process's environment. */
async function startKubernetesSide(ctx: StackContext): Promise<KubernetesSide> {
  const { options } = ctx;
  if (options.environment) return externalKubernetes(options.environment);
  if (options.kcpKubeconfig !== undefined) return realKubernetes(options.kcpKubeconfig, options.clusterKubeconfigs);
  return simulatedKubernetes(ctx);
}

function externalKubernetes(external: LocalEnvironment): KubernetesSide {
  const clusterKubeconfigs: Record<string, string> = {};
  const registrations: ClusterRegistration[] = [];
  for (const cluster of external.clusters) {
    clusterKubeconfigs[cluster.name] = cluster.kubeconfig;
    registrations.push({
      name: cluster.name,
      kubeconfig: readFileSync(cluster.kubeconfig, 'utf8'),
      endpoint: cluster.url,
      labels: cluster.labels,
      capacity: cluster.capacity,
    });
  }
  return {
    kcpKubeconfigPath: external.kcpKubeconfig,
    functionsKcpKubeconfigPath: external.tmcKcpKubeconfig,
    clusterKubeconfigs,
    registrations,
  };
}

function realKubernetes(kcpKubeconfigPath: string, clusters: Record<string, string> = {}): KubernetesSide {
  const clusterKubeconfigs: Record<string, string> = {};
  const registrations: ClusterRegistration[] = [];
  for (const [name, path] of Object.entries(clusters)) {
    clusterKubeconfigs[name] = path;
    registrations.push({
      name,
      kubeconfig: readFileSync(path, 'utf8'),
      endpoint: kubeconfigServer(path, name),
      labels: {},
    });
  }
  return { kcpKubeconfigPath, clusterKubeconfigs, registrations };
}

/** Starts the simulator's kcp and clusters, and writes a kubeconfig for each (and one for tmc's own kcp user). */
async function simulatedKubernetes(ctx: StackContext): Promise<KubernetesSide> {
  const { options, logger, projectRoot, paths, workspace } = ctx;
  const pullNames = new Set(options.pullClusters ?? []);
  const requested = resolveClusters(options.clusters);
  const pushClusters = requested.filter((c) => !pullNames.has(c.name));
  const clusters = [
    ...pushClusters,
    // A pull cluster also named in `clusters` keeps its spec there (capacity, labels): the benchmark's pull mode.
    ...resolveClusters([...pullNames]).map((c) => requested.find((r) => r.name === c.name) ?? c),
  ];
  logger.info(`Starting the simulator: kcp workspace ${workspace} and ${clusters.length} clusters`);
  const simulation = await startSimulator(projectRoot, {
    workspace,
    clusters,
    kubeconfigDir: join(paths.root, 'sim'),
    logger,
    // kcp and the clusters persist with DynamoDB, so that a restart finds both as they were (docs/local-stack.md).
    statePath: options.persist === false ? undefined : join(paths.root, 'sim', 'state.json'),
    ...options.simulator,
  });
  ctx.cleanups.push(() => simulation.stop());
  const kcpServer = `${simulation.kcpUrl.replace(/\/+$/, '')}/clusters/${workspace}`;
  writeKubeconfig(paths.kcpKubeconfig, { name: workspace, server: kcpServer });
  writeTmcKcpKubeconfig(simulation, paths.tmcKcpKubeconfig, workspace, kcpServer);
  const clusterKubeconfigs: Record<string, string> = {};
  const registrations: ClusterRegistration[] = [];
  for (const cluster of clusters) {
    const server = simulation.clusterUrls[cluster.name];
    if (server === undefined) throw new Error(`The simulator did not start cluster ${cluster.name}`);
    const path = paths.clusterKubeconfig(cluster.name);
    const spec = { name: cluster.name, server };
    writeKubeconfig(path, spec);
    clusterKubeconfigs[cluster.name] = path;
    registrations.push({
      name: cluster.name,
      kubeconfig: renderKubeconfig(spec),
      endpoint: server,
      labels: clusterLabels(cluster),
      capacity: cluster.capacity,
      ...(pullNames.has(cluster.name) ? { pull: true } : {}),
    });
  }
  return {
    simulation,
    kcpKubeconfigPath: paths.kcpKubeconfig,
    functionsKcpKubeconfigPath: paths.tmcKcpKubeconfig,
    clusterKubeconfigs,
    registrations,
  };
}

/**
 * tmc's functions reach kcp as tmc's own user, not as whoever applies objects with kcp.kubeconfig: kcp's workloads
 * webhook skips that user's updates (lib/webhooks skipOwnUpdates, docs/webhooks.md "tmc's own writes").
 */
function writeTmcKcpKubeconfig(
  simulation: SimulatedEnvironment,
  path: string,
  workspace: string,
  server: string,
): void {
  const tmcToken = randomBytes(32).toString('base64url');
  simulation.handle.kcp.registerTokenUser(tmcToken, {
    username: DEFAULT_TMC_USER,
    groups: ['system:serviceaccounts', 'system:serviceaccounts:tmc-system'],
  });
  writeKubeconfig(path, { name: `tmc@${workspace}`, server, token: tmcToken });
}

/**
 * Pull clusters' change feed (the cloud's WebSocket API, routed to the same functions): syncers connect to it,
 * sync-apply posts to its @connections endpoint. It invokes through the runtime it is connected to once that exists.
 */
async function startFeed(
  ctx: StackContext,
): Promise<{ server: SyncerFeedServer; connect(runtime: FunctionRuntime): void }> {
  let runtime: FunctionRuntime | undefined;
  const server = await startSyncerFeedServer({
    invoke: (name, event) => {
      if (runtime === undefined) throw new Error('The local stack is not ready for change-feed connections yet');
      return runtime.invoke(name, event);
    },
    region: ctx.region,
    logger: ctx.logger,
  });
  return { server, connect: (connected) => (runtime = connected) };
}

/** The environment the functions run with, as Lambda's would be set from the CDK stack (lib/runtime/resources.ts). */
function functionEnvironment(
  { options, paths, workspace, extraWorkspaces, region }: StackContext,
  aws: AwsSide,
  kube: KubernetesSide,
  webhookToken: string,
  feed: SyncerFeedServer | undefined,
): Record<string, string> {
  const env: Record<string, string> = {
    [ENV.tableName]: aws.tableName,
    [ENV.dynamodbEndpoint]: aws.dynamo.endpoint,
    [ENV.sqsEndpoint]: aws.sqsServer.endpoint,
    [ENV.kcpKubeconfig]: kube.functionsKcpKubeconfigPath ?? kube.kcpKubeconfigPath,
    [ENV.webhookTokens]: webhookToken,
    [ENV.contentKeyFile]: paths.contentKey,
    [ENV.stage]: 'local',
    AWS_REGION: region,
    ...LOCAL_LAMBDA_ENV,
    ...(extraWorkspaces.length ? { [ENV.workspaces]: [workspace, ...extraWorkspaces].join(',') } : {}),
    ...(feed ? { [SYNCER_FEED.env.url]: feed.url, [SYNCER_FEED.env.endpoint]: feed.endpoint } : {}),
  };
  for (const name of Object.keys(aws.queues) as QueueName[]) {
    env[ENV.queueUrl(name)] = aws.queues[name].url;
    env[ENV.dlqUrl(name)] = aws.queues[name].dlqUrl;
  }
  if (options.prometheusRemoteWriteUrl !== undefined) env[REMOTE_WRITE_ENV.url] = options.prometheusRemoteWriteUrl;
  return env;
}

/** Sets the functions' environment, IAM and shared metrics registry, and the runtime that invokes them. */
function startFunctions(ctx: StackContext, env: Record<string, string>): StackFunctions {
  const { options, cleanups } = ctx;
  // The functions read their configuration when first imported: set it before any handler loads.
  Object.assign(process.env, env);
  // Before any handler builds its clients; the stack's own clients (above) stay unchecked, as Lambda's service is.
  const iam = options.iam !== false;
  if (iam) {
    const stopIam = enforceLocalIam({ env, access: options.iam === false ? undefined : options.iam?.access });
    cleanups.push(async () => stopIam());
  }
  // One registry for every function in this process, installed before any handler builds its deps.
  const metrics = new PromMetrics();
  useSharedMetrics(metrics);
  cleanups.push(async () => useSharedMetrics(undefined));
  let activeInvocations = 0;
  const runtime = new FunctionRuntime({
    projectRoot: ctx.projectRoot,
    region: ctx.region,
    logger: ctx.logger,
    handlers: options.handlers,
    onStart: () => (activeInvocations += 1),
    onEnd: () => (activeInvocations -= 1),
    threads: ctx.threads,
    threadLayout: options.functionThreadLayout,
    maxContainers: Object.fromEntries(Object.values(QUEUES).map((q) => [q.consumer, ctx.consumerContainers])),
    youngGenerationMb: options.youngGenerationMb ?? WORKER_YOUNG_GENERATION_MB,
    metrics,
    iam,
  });
  // Stopped after everything that invokes (pollers, schedules, the HTTP API), before the emulators the threads use.
  cleanups.push(() => runtime.stop());
  // Their modules load while the API starts and kcp is bootstrapped; the bootstrap's admissions are their first use.
  // The stack is returned (and `tmc dev` says it is ready) only once all have loaded, so a user's first apply is not
  // slowed by four module graphs loading at once (seconds of CPU each on 2 cores).
  const warming = runtime.warmThreads();
  return { runtime, metrics, active: () => activeInvocations, warming };
}

/** The HTTP API (webhooks, health, virtual workspace) and the endpoints file CLI commands find this stack by. */
async function startApi(ctx: StackContext, aws: AwsSide, runtime: FunctionRuntime): Promise<ApiServer> {
  const api = await startApiServer({ runtime, logger: ctx.logger, port: ctx.options.port ?? DEFAULT_API_PORT });
  ctx.cleanups.push(() => api.close());
  // For CLI commands that read this stack's state (`tmc trace`): dynalite and fauxqs ports change on every start.
  ctx.cleanups.push(
    writeStackEndpoints(ctx.paths.root, {
      api: api.url,
      dynamodb: aws.dynamo.endpoint,
      sqs: aws.sqsServer.endpoint,
      table: aws.tableName,
      region: ctx.region,
      pid: process.pid,
    }),
  );
  return api;
}

/** tmc's CRDs in the workspace and every extra one; false when kcp refused them (then nothing is registered). */
async function installWorkspaceCrds(ctx: StackContext, kcpKubeconfig: string): Promise<boolean> {
  const configDir = join(ctx.projectRoot, 'config', 'tmc');
  const installed = await installCrds({ kcpKubeconfig, workspace: ctx.workspace, configDir, logger: ctx.logger });
  for (const extra of installed ? ctx.extraWorkspaces : [])
    await installCrds({ kcpKubeconfig, workspace: extra, configDir, logger: ctx.logger });
  return installed;
}

/** One poller per queue whose consumer has a handler, as Lambda's event source mappings. */
async function startPollers(ctx: StackContext, aws: AwsSide, runtime: FunctionRuntime): Promise<EventSourceMapping[]> {
  const mappings: EventSourceMapping[] = [];
  for (const name of Object.keys(aws.queues) as QueueName[]) {
    const queue = aws.queues[name];
    const consumer = queue.definition.consumer;
    if (!(await runtime.available(consumer))) continue;
    mappings.push(
      startEventSource({
        sqs: aws.sqs,
        queueUrl: queue.url,
        queueArn: queue.arn,
        region: ctx.region,
        name: `${name} → ${consumer}`,
        batchSize: queue.definition.batchSize,
        maximumBatchingWindowSeconds: queue.definition.maximumBatchingWindowSeconds,
        maxConcurrency: Math.min(queue.definition.maxConcurrency, ctx.consumerContainers),
        invoke: (event: SQSEvent) => runtime.invoke(consumer, event),
        logger: ctx.logger,
        waitTimeSeconds: ctx.options.pollWaitSeconds,
      }),
    );
  }
  ctx.cleanups.push(async () => {
    await Promise.all(mappings.map((m) => m.stop()));
  });
  return mappings;
}

/** The schedules' timers; `withHandler` names the schedules whose target function exists. */
async function startSchedules(
  ctx: StackContext,
  runtime: FunctionRuntime,
): Promise<{ scheduler: Scheduler; withHandler: Set<string> }> {
  const withHandler = new Set<string>();
  for (const schedule of SCHEDULES) if (await runtime.available(schedule.target)) withHandler.add(schedule.name);
  const scheduler = startScheduler({
    schedules: SCHEDULES,
    timed: (schedule) => wantsTimer(ctx.options.schedules, schedule.name) && withHandler.has(schedule.name),
    overrides: ctx.options.scheduleRates,
    region: ctx.region,
    invoke: (schedule, event) => runtime.invoke(schedule.target, event),
    logger: ctx.logger,
  });
  ctx.cleanups.push(() => scheduler.stop());
  return { scheduler, withHandler };
}

/**
 * dynalite has no TTL: expired items are deleted here, as DynamoDB's TTL does in the cloud; then its LevelDB files are
 * compacted, so the state dir holds about the live items (not with another process's environment: it compacts its own).
 */
function startExpirySweep(ctx: StackContext, aws: AwsSide): void {
  const expiryDoc = makeDynamoDocumentClient({ region: ctx.region, dynamodbEndpoint: aws.dynamo.endpoint });
  const thread = aws.dynamo.thread;
  const sweeper = startExpirySweeper({
    doc: expiryDoc,
    tableName: aws.tableName,
    logger: ctx.logger,
    everySeconds: ctx.options.expirySweepSeconds,
    ...(thread ? { compact: () => thread.compact() } : {}),
  });
  ctx.cleanups.push(async () => {
    await sweeper.stop();
    expiryDoc.destroy();
  });
}

/**
 * Registers tmc with kcp and the clusters: webhooks, SyncTargets, a first health probe, and the pull clusters'
 * syncer kubeconfigs (returned by cluster name).
 */
async function bootstrapKcp(
  ctx: StackContext,
  started: {
    aws: AwsSide;
    kube: KubernetesSide;
    api: ApiServer;
    webhookToken: string;
    kcpKubeconfig: string;
    crdsInstalled: boolean;
    schedules: { scheduler: Scheduler; withHandler: Set<string> };
  },
): Promise<Record<string, string>> {
  const { aws, kube, kcpKubeconfig, crdsInstalled, schedules } = started;
  const { options, workspace, extraWorkspaces, logger } = ctx;
  const doc = makeDynamoDocumentClient({ region: ctx.region, dynamodbEndpoint: aws.dynamo.endpoint });
  ctx.cleanups.push(async () => doc.destroy());
  const pullClusterNames = new Set(kube.registrations.filter((r) => r.pull).map((r) => r.name));
  await registerStackWebhooks(ctx, started, doc, pullClusterNames);
  // After the webhooks, so that each SyncTarget's admission reaches placement and is mirrored into the table.
  if (crdsInstalled) {
    for (const ws of [workspace, ...extraWorkspaces])
      await registerClusters({ kcpKubeconfig, workspace: ws, clusters: kube.registrations, logger });
  }
  // Probe the SyncTargets just registered before the stack counts as started, so READY is filled when the banner
  // shows (the timer's first run may have listed kcp before they existed). runNow joins a run in progress: the
  // second call is one that started after the registrations.
  if (crdsInstalled && wantsTimer(options.schedules, 'health-probe') && schedules.withHandler.has('health-probe')) {
    await schedules.scheduler.runNow('health-probe');
    await schedules.scheduler.runNow('health-probe');
  }
  return writeSyncerKubeconfigs(ctx, started.api, doc, aws.tableName, pullClusterNames);
}

/**
 * tmc's webhooks in kcp and the push clusters. Each cluster's status webhook URL carries a credential of its own
 * (kept hashed in the table), as `tmc webhooks install --table` does: a managed cluster's calls, which carry no bearer
 * token, are authenticated by it.
 */
async function registerStackWebhooks(
  ctx: StackContext,
  {
    aws,
    kube,
    api,
    webhookToken,
    crdsInstalled,
  }: { aws: AwsSide; kube: KubernetesSide; api: ApiServer; webhookToken: string; crdsInstalled: boolean },
  doc: DynamoDBDocumentClient,
  pullClusterNames: ReadonlySet<string>,
): Promise<void> {
  const installed = await registerWebhooks(
    {
      url: api.url,
      token: webhookToken,
      workspace: ctx.workspace,
      kcpKubeconfig: kube.kcpKubeconfigPath,
      // A pull cluster gets no webhook from tmc: its syncer reports status through the virtual workspace.
      clusters: Object.entries(kube.clusterKubeconfigs)
        .filter(([name]) => !pullClusterNames.has(name))
        .map(([name, kubeconfig]) => ({ name, kubeconfig })),
      statusCredentials: new DynamoStatusCredentialStore(doc, aws.tableName),
    },
    ctx.logger,
  );
  if (installed.credentialsFor !== undefined) kube.simulation?.setWebhookCredentials(installed.credentialsFor);
  // The clusters' status webhook is installed once; each extra workspace needs only its own kcp webhooks.
  for (const extra of crdsInstalled ? ctx.extraWorkspaces : []) {
    await registerWebhooks(
      { url: api.url, token: webhookToken, workspace: extra, kcpKubeconfig: kube.kcpKubeconfigPath },
      ctx.logger,
    );
  }
}

/** Each pull cluster's syncer credential, kept hashed in the table like a status-webhook credential. */
async function writeSyncerKubeconfigs(
  { paths, workspace }: StackContext,
  api: ApiServer,
  doc: DynamoDBDocumentClient,
  tableName: string,
  pullClusterNames: ReadonlySet<string>,
): Promise<Record<string, string>> {
  const syncerKubeconfigs: Record<string, string> = {};
  const syncerCredentials = new DynamoStatusCredentialStore(doc, tableName, { kind: 'SYNCERCRED' });
  for (const name of pullClusterNames) {
    const token = await issueStatusCredential(syncerCredentials, syncerSubject(workspace, name));
    const path = join(paths.root, 'syncers', `${name}.kubeconfig`);
    writeKubeconfig(path, {
      name: `syncer-${name}`,
      server: `${api.url.replace(/\/+$/, '')}/syncers/${workspace}/${name}`,
      token,
    });
    syncerKubeconfigs[name] = path;
  }
  return syncerKubeconfigs;
}

/** Messages in every queue: visible, in flight and delayed. */
async function queuedMessages({ idleSqs, queues }: AwsSide): Promise<number> {
  const counts = await Promise.all(
    Object.values(queues).map(async (queue) => {
      const response = await idleSqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queue.url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      const a = response.Attributes ?? {};
      return (
        Number(a.ApproximateNumberOfMessages ?? 0) +
        Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
        Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
      );
    }),
  );
  return counts.reduce((sum, n) => sum + n, 0);
}

/** The stack's handle, returned once everything started. */
function stackHandle(
  ctx: StackContext,
  parts: {
    aws: AwsSide;
    kube: KubernetesSide;
    api: ApiServer;
    env: Record<string, string>;
    functions: StackFunctions;
    scheduler: Scheduler;
    webhookToken: string;
    syncerKubeconfigs: Record<string, string>;
    /** Whether a function, request, schedule or poller is running now. */
    busy: () => boolean;
  },
): LocalStack {
  const { aws, kube, api, env, functions, scheduler, webhookToken, busy } = parts;
  const { runtime } = functions;
  let stopped = false;
  return {
    apiUrl: api.url,
    workspace: ctx.workspace,
    paths: ctx.paths,
    kcpKubeconfig: kube.kcpKubeconfigPath,
    clusterKubeconfigs: kube.clusterKubeconfigs,
    syncerKubeconfigs: parts.syncerKubeconfigs,
    tableName: aws.tableName,
    queues: aws.queues,
    endpoints: { dynamodb: aws.dynamo.endpoint, sqs: aws.sqsServer.endpoint },
    emulators:
      aws.dynamo.thread && aws.sqsServer.thread
        ? { dynamodb: aws.dynamo.thread, sqs: aws.sqsServer.thread }
        : undefined,
    webhookToken,
    env,
    simulation: kube.simulation?.handle,
    sqs: aws.sqs,
    metrics: functions.metrics,
    threadedFunctions: () => runtime.startedThreads,
    heaps: async (options = {}): Promise<StackHeaps> => {
      const { threads, inProcessContainers } = await runtime.heaps(options);
      const dynamodb = aws.dynamo.thread;
      const sqs = aws.sqsServer.thread;
      if (options.collectGarbage) collectGarbage();
      return {
        main: threadHeapNow(),
        functionThreads: threads,
        inProcessContainers,
        ...(dynamodb && sqs
          ? { emulators: { dynamodb: await dynamodb.heap(options), sqs: await sqs.heap(options) } }
          : {}),
      };
    },
    invoke: (name, event) => runtime.invoke(name, event),
    runSchedule: (name) => scheduler.runNow(name),
    idle: async ({ timeoutMs = 30_000, pollMs = 20 } = {}): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      let quietChecks = 0;
      while (quietChecks < 2) {
        if (Date.now() > deadline) throw new Error(`The local stack did not become idle within ${timeoutMs} ms`);
        quietChecks = !busy() && (await queuedMessages(aws)) === 0 && !busy() ? quietChecks + 1 : 0;
        if (quietChecks < 2) await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    },
    stop: async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      await stopAll(ctx);
    },
  };
}

export { FunctionMissingError };
