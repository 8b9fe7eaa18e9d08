/**
 * The one definition of tmc's tables, queues, functions, routes and schedules. The CDK stack (infra/) and the local
 * stack (lib/local/) both build from it, so the cloud and a laptop cannot drift apart.
 */

export type FunctionName =
  | 'ingress'
  | 'placement'
  | 'sync-apply'
  | 'status-up'
  | 'health-probe'
  | 'recovery-sweep'
  | 'metrics-rollup'
  | 'api'
  | 'virtual-workspace'
  | 'authorizer'
  | 'syncer-feed'
  | 'syncer-feed-authorizer';

export interface FunctionDefinition {
  /** Folder under functions/ holding handler.ts with a named export `handler`. */
  name: FunctionName;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
}

export const FUNCTIONS: Record<FunctionName, FunctionDefinition> = {
  ingress: {
    name: 'ingress',
    description: 'Webhook ingress: admission, watch events and cluster status',
    memoryMb: 512,
    timeoutSeconds: 10,
  },
  // placement and sync-apply wait on requests most of an invocation, and waits bill in proportion to memory: the least
  // that keeps a cold start's init within 300 ms at its share of a vCPU (docs/bench.md, "Memory sizing").
  placement: { name: 'placement', description: 'Places objects on SyncTargets', memoryMb: 896, timeoutSeconds: 60 },
  'sync-apply': {
    name: 'sync-apply',
    description: 'Applies placed objects to physical clusters',
    memoryMb: 896,
    timeoutSeconds: 60,
  },
  'status-up': {
    name: 'status-up',
    description: 'Brings downstream status back into kcp',
    memoryMb: 512,
    timeoutSeconds: 60,
  },
  'health-probe': {
    name: 'health-probe',
    description: 'Probes every SyncTarget and records its health',
    memoryMb: 512,
    timeoutSeconds: 60,
  },
  // Shorter than its schedule's rate, so two sweeps never run at once (SCHEDULES `exclusive`); each run's work is
  // bounded and resumes from cursors (docs/recovery.md), so a run the timeout cuts short is continued by the next.
  'recovery-sweep': {
    name: 'recovery-sweep',
    description: 'Failover, stuck syncs, drift, orphans and DLQ redrive',
    memoryMb: 1024,
    timeoutSeconds: 55,
  },
  'metrics-rollup': {
    name: 'metrics-rollup',
    description: 'Computes stateful gauges and pushes metrics',
    memoryMb: 512,
    timeoutSeconds: 60,
  },
  api: {
    name: 'api',
    description: 'Health API and the read-only virtual workspace',
    memoryMb: 512,
    timeoutSeconds: 10,
  },
  'virtual-workspace': {
    name: 'virtual-workspace',
    description: "The virtual workspace's syncer view: pull-mode SyncTargets' work, state and status",
    memoryMb: 512,
    timeoutSeconds: 10,
  },
  // Cloud only: API Gateway calls it before routing. Locally ingress and api check the same tokens themselves.
  authorizer: {
    name: 'authorizer',
    description: 'Checks webhook bearer tokens for the HTTP API',
    memoryMb: 256,
    timeoutSeconds: 5,
  },
  // The pull-mode change feed (SYNCER_FEED): a WebSocket API in the cloud, lib/local/syncer-feed-server.ts locally.
  'syncer-feed': {
    name: 'syncer-feed',
    description: "The syncers' change feed: records and forgets WebSocket connections, answers keepalives",
    memoryMb: 256,
    timeoutSeconds: 10,
  },
  'syncer-feed-authorizer': {
    name: 'syncer-feed-authorizer',
    description: "Checks a syncer's SyncTarget credential when it connects to the change feed",
    memoryMb: 256,
    timeoutSeconds: 5,
  },
};

/**
 * Single-table design (see docs/state.md). Partition key `pk`, sort key `sk`; one GSI `gsi1` (`gsi1pk`, `gsi1sk`)
 * for "everything on a cluster" and "all clusters", projecting every attribute (its queries read whole items: held
 * admissions, health, sync records); TTL on `expiresAt` (epoch seconds). DynamoDB's TTL deletes lazily
 * (dynalite not at all: the local stack sweeps, lib/local/expiry-sweep.ts), so readers filter `expiresAt > now`.
 */
export const TABLE = {
  id: 'State',
  /** Base name; the stage is prefixed in the cloud (`tmc-prod-state`), locally it is used as is. */
  baseName: 'tmc-state',
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  indexes: [{ name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', projection: 'ALL' }],
} as const;

export type QueueName = 'placement' | 'sync' | 'status';

export interface QueueDefinition {
  name: QueueName;
  consumer: FunctionName;
  /** Lambda's rule: the queue's visibility timeout is at least six times the consumer's timeout. */
  visibilityTimeoutSeconds: number;
  /** Deliveries before SQS moves a message to the queue's DLQ. */
  maxReceiveCount: number;
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  /** Event source mapping's maximum concurrency (2..1000): protects clusters and the table from bursts. */
  maxConcurrency: number;
  retentionSeconds: number;
  dlqRetentionSeconds: number;
}

const FOURTEEN_DAYS = 14 * 24 * 3600;

function queue(name: QueueName, consumer: FunctionName, batchSize: number, maxConcurrency: number): QueueDefinition {
  return {
    name,
    consumer,
    visibilityTimeoutSeconds: FUNCTIONS[consumer].timeoutSeconds * 6,
    maxReceiveCount: 5,
    batchSize,
    maximumBatchingWindowSeconds: 0,
    maxConcurrency,
    retentionSeconds: 4 * 24 * 3600,
    dlqRetentionSeconds: FOURTEEN_DAYS,
  };
}

export const QUEUES: Record<QueueName, QueueDefinition> = {
  placement: queue('placement', 'placement', 10, 10),
  sync: queue('sync', 'sync-apply', 10, 20),
  status: queue('status', 'status-up', 10, 10),
};

export interface ScheduleDefinition {
  name: string;
  target: FunctionName;
  /** EventBridge allows one minute at the finest; the local stack may be told to run faster (tests). */
  rateSeconds: number;
  /**
   * Runs never overlap: the target's timeout is shorter than the rate (EventBridge's finest is 60 s, and a stage may
   * only slow a schedule down), so a run has ended before the next tick. The CDK stack refuses a rate that breaks this.
   */
  exclusive?: boolean;
}

export const SCHEDULES: ScheduleDefinition[] = [
  { name: 'health-probe', target: 'health-probe', rateSeconds: 60 },
  { name: 'recovery-sweep', target: 'recovery-sweep', rateSeconds: 60, exclusive: true },
  { name: 'metrics-rollup', target: 'metrics-rollup', rateSeconds: 60 },
  { name: 'status-backstop', target: 'status-up', rateSeconds: 60 },
];

export interface RouteDefinition {
  /** `ANY`: every method reaches the target (which refuses what it does not serve with a Kubernetes Status). */
  method: 'GET' | 'POST' | 'ANY';
  path: string; // API Gateway HTTP API route syntax: `/webhooks/status/{cluster}`
  target: FunctionName;
  /** Authenticated routes check a bearer token (webhook tokens in Secrets Manager in the cloud). */
  authenticated: boolean;
  /** The target itself checks a per-SyncTarget bearer credential (the syncers' virtual workspace); no authorizer at the edge. */
  syncerCredential?: true;
  /**
   * The target itself checks a per-cluster credential in the path (`{credential}`), for callers that cannot send an
   * Authorization header (managed clusters' status webhooks). Such a route has no authorizer at the edge.
   */
  pathCredential?: true;
}

export const ROUTES: RouteDefinition[] = [
  // kube-apiserver and kcp refuse webhook URLs with a query, so the workspace travels in the path.
  { method: 'POST', path: '/webhooks/admission/{workspace}', target: 'ingress', authenticated: true },
  { method: 'POST', path: '/webhooks/admission', target: 'ingress', authenticated: true },
  { method: 'POST', path: '/webhooks/events', target: 'ingress', authenticated: true },
  { method: 'POST', path: '/webhooks/status/{cluster}', target: 'ingress', authenticated: true },
  {
    method: 'POST',
    path: '/webhooks/status/{cluster}/{credential}',
    target: 'ingress',
    authenticated: false,
    pathCredential: true,
  },
  { method: 'GET', path: '/healthz', target: 'api', authenticated: false },
  // The syncer protocol (docs/virtual-workspace.md); a workspace path (`root:org:ws`) is one path segment.
  {
    method: 'GET',
    path: '/syncers/{workspace}/{cluster}',
    target: 'virtual-workspace',
    authenticated: false,
    syncerCredential: true,
  },
  {
    method: 'GET',
    path: '/syncers/{workspace}/{cluster}/{operation}',
    target: 'virtual-workspace',
    authenticated: false,
    syncerCredential: true,
  },
  {
    method: 'POST',
    path: '/syncers/{workspace}/{cluster}/{operation}',
    target: 'virtual-workspace',
    authenticated: false,
    syncerCredential: true,
  },
  { method: 'GET', path: '/health', target: 'api', authenticated: true },
  { method: 'GET', path: '/health/clusters/{name}', target: 'api', authenticated: true },
  { method: 'GET', path: '/metrics', target: 'api', authenticated: true },
  // The user's aggregated view: a read-only Kubernetes API (kubectl); writes reach it to be refused with a Status.
  { method: 'ANY', path: '/services/aggregated/{proxy+}', target: 'api', authenticated: true },
];

/** Environment variable names by which the composition root finds each resource. */
export const ENV = {
  tableName: 'TMC_TABLE_NAME',
  queueUrl: (name: QueueName): string => `TMC_${name.toUpperCase()}_QUEUE_URL`,
  dlqUrl: (name: QueueName): string => `TMC_${name.toUpperCase()}_DLQ_URL`,
  dynamodbEndpoint: 'TMC_DYNAMODB_ENDPOINT', // local stack only
  sqsEndpoint: 'TMC_SQS_ENDPOINT', // local stack only
  kcpKubeconfig: 'TMC_KCP_KUBECONFIG', // path (local) — in the cloud TMC_KCP_KUBECONFIG_SECRET_ARN
  kcpKubeconfigSecretArn: 'TMC_KCP_KUBECONFIG_SECRET_ARN',
  webhookTokens: 'TMC_WEBHOOK_TOKENS', // comma-separated, local stack only; in the cloud TMC_WEBHOOK_TOKENS_SECRET_ARN
  webhookTokensSecretArn: 'TMC_WEBHOOK_TOKENS_SECRET_ARN',
  contentKeyFile: 'TMC_CONTENT_KEY_FILE', // local stack only; in the cloud TMC_CONTENT_KEY_SECRET_ARN
  contentKeySecretArn: 'TMC_CONTENT_KEY_SECRET_ARN',
  stage: 'TMC_STAGE',
  /** CloudWatch namespace of the EMF metrics (lib/runtime/metrics.ts; `tmc` when unset). */
  metricsNamespace: 'TMC_METRICS_NAMESPACE',
  /** Comma-separated kcp workspace paths whose SyncTargets tmc serves (health-probe, recovery-sweep). */
  workspaces: 'TMC_WORKSPACES',
} as const;

/**
 * What each function touches. The CDK stack grants exactly this (table actions, queues, secrets) and sets exactly the
 * variables for it, so a function given less than its composition root's `loadConfig` needs fails a unit test
 * (test/unit/infra), not a deployment.
 */
export interface FunctionAccess {
  table: 'none' | 'read' | 'read-write';
  /** Writes its own component-health item (`COMPONENT#<fn>`) although it only reads the table otherwise. */
  recordsOwnHealth: boolean;
  /** Queues it sends to (the queue it consumes from is granted by its event source mapping). */
  sends: readonly QueueName[];
  /** Queues whose depth it reads (GetQueueAttributes), queue and DLQ. */
  inspects: readonly QueueName[];
  /** DLQs it drains back into their queues (recovery's redrive). */
  redrives: readonly QueueName[];
  /** Reads kcp's kubeconfig (secret TMC_KCP_KUBECONFIG_SECRET_ARN). */
  kcp: boolean;
  /** Reads SyncTargets' `credentials.secretsManagerArn` secrets (a name prefix in the cloud). */
  clusterCredentials: boolean;
  /** Reads the webhook token secret. */
  webhookTokens: boolean;
  /** Reads the key Secret content hashes are made with (TMC_CONTENT_KEY_SECRET_ARN): whoever stores those hashes. */
  contentKey: boolean;
  /**
   * Pushes Prometheus remote-write (REMOTE_WRITE_ENV in lib/metrics/remote-write-config.ts): every function that
   * records metrics, from its own container (lib/metrics/pushing-metrics.ts).
   */
  remoteWrite: boolean;
  /** Posts to syncers' change-feed connections (`execute-api:ManageConnections` on SYNCER_FEED's API). */
  feedConnections: boolean;
}

/**
 * The DynamoDB actions behind FunctionAccess.table: every item operation lib/adapters issues (the least-privilege test
 * derives the list from the code's commands), nothing more; no Scan, no transactions.
 */
export const TABLE_ACTIONS = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
  write: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
} as const satisfies Record<'read' | 'write', readonly string[]>;

const NO_ACCESS: FunctionAccess = {
  table: 'none',
  recordsOwnHealth: false,
  sends: [],
  inspects: [],
  redrives: [],
  kcp: false,
  clusterCredentials: false,
  webhookTokens: false,
  contentKey: false,
  remoteWrite: false,
  feedConnections: false,
};

export const FUNCTION_ACCESS: Record<FunctionName, FunctionAccess> = {
  ingress: {
    ...NO_ACCESS,
    table: 'read-write',
    sends: ['placement', 'status'],
    webhookTokens: true,
    remoteWrite: true,
  },
  placement: {
    ...NO_ACCESS,
    table: 'read-write',
    sends: ['placement', 'sync'],
    kcp: true,
    clusterCredentials: true,
    contentKey: true,
    remoteWrite: true,
  },
  // placement: an unreachable cluster seen while syncing feeds its health at once, and the Unhealthy transition asks placement.
  'sync-apply': {
    ...NO_ACCESS,
    table: 'read-write',
    sends: ['sync', 'placement', 'status'],
    kcp: true,
    clusterCredentials: true,
    contentKey: true,
    remoteWrite: true,
    feedConnections: true,
  },
  'status-up': {
    ...NO_ACCESS,
    table: 'read-write',
    sends: ['status'],
    kcp: true,
    clusterCredentials: true,
    remoteWrite: true,
  },
  'health-probe': {
    ...NO_ACCESS,
    table: 'read-write',
    sends: ['placement'],
    kcp: true,
    clusterCredentials: true,
    remoteWrite: true,
  },
  'recovery-sweep': {
    ...NO_ACCESS,
    table: 'read-write',
    sends: ['placement', 'sync', 'status'],
    redrives: ['placement', 'sync', 'status'],
    // The quiet gate's depths (lib/recovery/quiet-gate.ts).
    inspects: ['placement', 'sync', 'status'],
    kcp: true,
    clusterCredentials: true,
    contentKey: true,
    remoteWrite: true,
  },
  'metrics-rollup': {
    ...NO_ACCESS,
    table: 'read',
    recordsOwnHealth: true,
    inspects: ['placement', 'sync', 'status'],
    remoteWrite: true,
  },
  api: { ...NO_ACCESS, table: 'read', webhookTokens: true },
  // Reads kcp for the syncer (never a cluster: it has no cluster credentials), records its sync items and heartbeats.
  'virtual-workspace': { ...NO_ACCESS, table: 'read-write', sends: ['status', 'placement'], kcp: true },
  authorizer: { ...NO_ACCESS, webhookTokens: true },
  // Connection items (SYNCERCONN#…); the authorizer reads the syncers' credential digests (SYNCERCRED#…).
  'syncer-feed': { ...NO_ACCESS, table: 'read-write' },
  'syncer-feed-authorizer': { ...NO_ACCESS, table: 'read' },
};

/** The HTTP API's Lambda authorizer (cloud): authenticated ROUTES go through it; results cached per token. */
export const AUTHORIZER = {
  function: 'authorizer',
  /** Equal to the token cache of lib/auth/token-source.ts, so a removed token stops working within the same minute. */
  resultsCacheTtlSeconds: 60,
} as const satisfies { function: FunctionName; resultsCacheTtlSeconds: number };

/**
 * The pull-mode change feed (docs/virtual-workspace.md): an API Gateway WebSocket API in the cloud (infra/syncer-feed.ts)
 * and lib/local/syncer-feed-server.ts on the local stack, both routing to the same functions. A syncer connects to
 * `<url>?workspace=<ws>&syncTarget=<name>` with its SyncTarget's bearer credential; the authorizer checks it on
 * `$connect`, whose context (workspace, SyncTarget) API Gateway hands to every later route of the connection.
 */
export const SYNCER_FEED = {
  /** The WebSocket API's one stage: the last segment of its URL and of its @connections endpoint. */
  stageName: 'feed',
  /** The function behind `$connect`, `$disconnect` and `$default` (the syncer's keepalives). */
  function: 'syncer-feed',
  authorizer: 'syncer-feed-authorizer',
  routes: ['$connect', '$disconnect', '$default'],
  /** Query parameters naming the SyncTarget (WebSocket APIs have one fixed path); required by the authorizer. */
  query: { workspace: 'workspace', syncTarget: 'syncTarget' },
  /**
   * API Gateway closes a connection after 2 hours, so a connection item expires after that (DynamoDB TTL) even when
   * its `$disconnect` never ran; a post to one that is gone deletes it sooner.
   */
  connectionTtlSeconds: 2 * 3600 + 600,
  /** API Gateway closes a connection idle for 10 minutes: the syncer sends a keepalive well within that. */
  keepaliveSeconds: 300,
  /** API Gateway's limit on one WebSocket frame (PostToConnection's Data). */
  maxFrameBytes: 128 * 1024,
  /** Variables: where syncers connect (virtual-workspace answers it), and the @connections endpoint (sync-apply). */
  env: { url: 'TMC_SYNCER_FEED_URL', endpoint: 'TMC_SYNCER_FEED_ENDPOINT' },
} as const satisfies {
  stageName: string;
  function: FunctionName;
  authorizer: FunctionName;
  routes: readonly string[];
  query: Record<string, string>;
  connectionTtlSeconds: number;
  keepaliveSeconds: number;
  maxFrameBytes: number;
  env: Record<string, string>;
};

/**
 * Functions a schedule invokes are deployed without active X-Ray tracing (PassThrough): with Active, Lambda samples
 * every run of a once-a-minute schedule, each a billed trace that belongs to no kcp change. A schedule's event carries
 * no trace header, and Lambda's own sampling cannot be configured (no X-Ray sampling rule applies to it). This covers
 * status-up, the status queue's consumer too: a status report's X-Ray trace then ends at its SendMessage to the status
 * queue (docs/deploy.md "Idle cost"); `tmc trace`, logs, metrics and alarms are unchanged.
 */
export function activelyTraced(name: FunctionName): boolean {
  return !SCHEDULES.some((s) => s.target === name);
}
