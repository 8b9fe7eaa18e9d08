/**
 * The error taxonomy every function shares. The `category` decides the strategy (never the message text):
 * retry with backoff, refetch and retry, give up and record, or open the cluster's circuit.
 */

export type ErrorCategory =
  | 'resource-not-found'
  | 'resource-conflict'
  | 'resource-validation'
  | 'resource-permission'
  | 'cluster-unreachable'
  | 'cluster-unavailable'
  | 'cluster-authentication'
  | 'cluster-configuration'
  | 'cluster-credentials-unavailable'
  | 'cluster-throttled'
  | 'sync-failure'
  | 'sync-conflict'
  | 'sync-timeout'
  | 'invocation-deadline'
  | 'projection'
  | 'stale'
  | 'network'
  | 'configuration'
  | 'internal';

export type Severity = 'info' | 'warning' | 'error' | 'critical';

/** What a consumer does with a failed message. */
export type Strategy =
  | 'retry-backoff' // transient: back off (honouring Retry-After) and try again
  | 'refetch-retry' // optimistic concurrency lost: read the newest state and try again at once
  | 'record-stop' // will not succeed by retrying: record the reason where the user sees it, drop the message
  | 'open-circuit' // the cluster is gone: defer its work and let the health system probe it
  | 'ignore'; // nothing to do (stale or duplicate message)

interface CategoryRule {
  severity: Severity;
  retryable: boolean;
  strategy: Strategy;
  hint: string;
}

export const CATEGORY_RULES: Record<ErrorCategory, CategoryRule> = {
  'resource-not-found': {
    severity: 'info',
    retryable: false,
    strategy: 'record-stop',
    hint: 'The object no longer exists; nothing to do unless it is recreated',
  },
  'resource-conflict': {
    severity: 'info',
    retryable: true,
    strategy: 'refetch-retry',
    hint: 'Another writer changed the object; tmc re-reads and retries',
  },
  'resource-validation': {
    severity: 'error',
    retryable: false,
    strategy: 'record-stop',
    hint: 'Fix the object so the target API server accepts it; the message names the field',
  },
  'resource-permission': {
    severity: 'error',
    retryable: false,
    strategy: 'record-stop',
    hint: "Grant tmc's identity the missing permission on the cluster, then update the SyncTarget",
  },
  'cluster-unreachable': {
    severity: 'error',
    retryable: true,
    strategy: 'open-circuit',
    hint: "Check the cluster's endpoint and network path; tmc fails work over after the SyncTarget's evictAfter",
  },
  'cluster-unavailable': {
    severity: 'warning',
    retryable: true,
    strategy: 'retry-backoff',
    hint: 'The API server answered 5xx; tmc backs off and retries',
  },
  'cluster-authentication': {
    severity: 'error',
    retryable: false,
    strategy: 'record-stop',
    hint: "Renew the SyncTarget's credentials; tmc retries when they change",
  },
  'cluster-configuration': {
    severity: 'error',
    retryable: false,
    strategy: 'record-stop',
    hint: "Fix the SyncTarget's workloadCluster settings (endpoint, credentials reference)",
  },
  'cluster-credentials-unavailable': {
    severity: 'warning',
    retryable: true,
    strategy: 'retry-backoff',
    hint: "kcp did not return the SyncTarget's credentials Secret; tmc retries (a 404 may be an API hiccup). If it is really gone, create it",
  },
  'cluster-throttled': {
    severity: 'warning',
    retryable: true,
    strategy: 'retry-backoff',
    hint: 'The cluster asked tmc to slow down (429); tmc honours Retry-After',
  },
  'sync-failure': {
    severity: 'error',
    retryable: true,
    strategy: 'retry-backoff',
    hint: 'Applying to the cluster failed; tmc retries with backoff and records the reason on the object',
  },
  'sync-conflict': {
    severity: 'warning',
    retryable: false,
    strategy: 'record-stop',
    hint: 'An object tmc does not own is in the way on the cluster; delete or rename it, or label it as tmc-managed',
  },
  'sync-timeout': {
    severity: 'warning',
    retryable: true,
    strategy: 'retry-backoff',
    hint: 'The cluster did not answer in time; tmc retries',
  },
  'invocation-deadline': {
    severity: 'warning',
    retryable: true,
    strategy: 'retry-backoff',
    hint: "The function's time ran out before the call answered; tmc retries. If it repeats, check the endpoint's latency or raise the function's timeout",
  },
  projection: {
    severity: 'warning',
    retryable: true,
    strategy: 'retry-backoff',
    hint: 'The virtual workspace view could not be built; retry the request',
  },
  stale: { severity: 'info', retryable: false, strategy: 'ignore', hint: 'A newer version was already processed' },
  network: {
    severity: 'warning',
    retryable: true,
    strategy: 'retry-backoff',
    hint: 'A network error; tmc retries with backoff',
  },
  configuration: {
    severity: 'critical',
    retryable: false,
    strategy: 'record-stop',
    hint: "Fix tmc's configuration (environment, stack context) and redeploy",
  },
  internal: {
    severity: 'error',
    retryable: true,
    strategy: 'retry-backoff',
    hint: 'An unexpected error in tmc; it is retried, and lands in the DLQ with its reason if it persists',
  },
};

export interface TmcErrorOptions {
  cause?: unknown;
  /** The SyncTarget involved, when there is one. */
  cluster?: string;
  /** `Deployment default/web` or similar. */
  object?: string;
  /** Seconds the server asked us to wait (Retry-After). */
  retryAfterSeconds?: number;
  /** HTTP status of the failed call, when there was one. */
  statusCode?: number;
}

export class TmcError extends Error {
  readonly category: ErrorCategory;
  readonly cluster?: string;
  readonly object?: string;
  readonly retryAfterSeconds?: number;
  readonly statusCode?: number;

  constructor(category: ErrorCategory, message: string, options: TmcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TmcError';
    this.category = category;
    this.cluster = options.cluster;
    this.object = options.object;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.statusCode = options.statusCode;
  }

  get severity(): Severity {
    return CATEGORY_RULES[this.category].severity;
  }
  get retryable(): boolean {
    return CATEGORY_RULES[this.category].retryable;
  }
  get strategy(): Strategy {
    return CATEGORY_RULES[this.category].strategy;
  }
  get hint(): string {
    return CATEGORY_RULES[this.category].hint;
  }

  /** A log- and status-safe summary: never includes request bodies or credentials. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      category: this.category,
      message: this.message,
      cluster: this.cluster,
      object: this.object,
      statusCode: this.statusCode,
      retryAfterSeconds: this.retryAfterSeconds,
      hint: this.hint,
    };
  }
}

function subclass(category: ErrorCategory, name: string): new (message: string, options?: TmcErrorOptions) => TmcError {
  return class extends TmcError {
    constructor(message: string, options?: TmcErrorOptions) {
      super(category, message, options);
      this.name = name;
    }
  };
}

export const NotFoundError = subclass('resource-not-found', 'NotFoundError');
export const ConflictError = subclass('resource-conflict', 'ConflictError');
export const ValidationError = subclass('resource-validation', 'ValidationError');
export const PermissionError = subclass('resource-permission', 'PermissionError');
export const ClusterUnreachableError = subclass('cluster-unreachable', 'ClusterUnreachableError');
export const ClusterUnavailableError = subclass('cluster-unavailable', 'ClusterUnavailableError');
export const ClusterAuthenticationError = subclass('cluster-authentication', 'ClusterAuthenticationError');
export const ClusterConfigurationError = subclass('cluster-configuration', 'ClusterConfigurationError');
/** The SyncTarget's credentials Secret was not found: retried, since a 404 from an API hiccup is not evidence it is gone. */
export const ClusterCredentialsUnavailableError = subclass(
  'cluster-credentials-unavailable',
  'ClusterCredentialsUnavailableError',
);
export const ClusterThrottledError = subclass('cluster-throttled', 'ClusterThrottledError');
export const SyncConflictError = subclass('sync-conflict', 'SyncConflictError');
export const SyncTimeoutError = subclass('sync-timeout', 'SyncTimeoutError');
/** An outbound call was cut off at the invocation's deadline (lib/errors/deadline.ts), before Lambda's own timeout. */
export const DeadlineExceededError = subclass('invocation-deadline', 'DeadlineExceededError');
/** A conditional write lost to a newer generation or version: the message is stale, not a failure. */
export const StaleGenerationError = subclass('stale', 'StaleGenerationError');
export const NetworkError = subclass('network', 'NetworkError');
export const ConfigurationError = subclass('configuration', 'ConfigurationError');
export const InternalError = subclass('internal', 'InternalError');

/** Anything thrown, as a TmcError: unknown errors are internal (retried, then DLQ'd with their reason). */
export function asTmcError(err: unknown): TmcError {
  if (err instanceof TmcError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = connectionErrorCode(err);
  if (code === undefined) {
    // The AWS SDK's connect and socket-idle timeouts (@smithy/node-http-handler) carry no code, only their name.
    if (err instanceof Error && err.name === 'TimeoutError') return new NetworkError(message, { cause: err });
    return new InternalError(message, { cause: err });
  }
  // A name that does not resolve is usually a mistyped endpoint, not a passing failure: say where to look.
  if (code === 'ENOTFOUND')
    return new NetworkError(
      `${message}: the host name does not resolve; check the endpoint tmc is configured with (tmc retries meanwhile)`,
      { cause: err },
    );
  return new NetworkError(message, { cause: err });
}

/**
 * Node's and undici's codes for a connection refused, reset, timed out or never made (DNS, routing): a dependency not
 * answering, not a bug in tmc. asTmcError reads them as a NetworkError, the kube adapter as a cluster unreachable
 * (lib/adapters/kube/errors.ts). Not ABORT_ERR: Node raises it for every aborted signal, so for a deliberate stop or
 * the invocation's deadline as much as for a dropped connection; those are told apart where the signal is known.
 */
export const CONNECTION_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The {@link CONNECTION_ERROR_CODES} code an error (or an error it wraps, as the AWS SDK's do) carries. */
export function connectionErrorCode(err: unknown, depth = 0): string | undefined {
  if (typeof err !== 'object' || err === null || depth > 3) return undefined;
  const code = 'code' in err ? err.code : undefined;
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return code;
  return 'cause' in err ? connectionErrorCode(err.cause, depth + 1) : undefined;
}

/** The `cluster` a kcp client's errors name: kcp is tmc's source of truth, not a SyncTarget. */
export function kcpTarget(workspace: string): string {
  return `kcp:${workspace}`;
}

const CLUSTER_SIDE: ReadonlySet<ErrorCategory> = new Set([
  'cluster-unreachable',
  'cluster-unavailable',
  'cluster-authentication',
  'cluster-credentials-unavailable',
  'cluster-throttled',
]);

/** Whether a physical cluster (not kcp) failed to answer: that cluster's health, which health-probe judges. */
export function failedOnCluster(err: TmcError): boolean {
  return CLUSTER_SIDE.has(err.category) && err.cluster !== undefined && !err.cluster.startsWith(kcpTarget(''));
}
