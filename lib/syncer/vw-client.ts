import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { translateHttpError, translateNetworkError, type KubeStatusBody } from '../adapters/kube/errors';
import { ConfigurationError, type TmcError } from '../errors/tmc-error';

/** What the syncer's `--kcp-kubeconfig` must hold: the virtual workspace URL of its SyncTarget and a bearer token. */
const VwKubeconfigSchema = z.object({
  'current-context': z.string().optional(),
  clusters: z.array(z.object({ name: z.string(), cluster: z.object({ server: z.string().url() }) })).min(1),
  users: z.array(z.object({ name: z.string(), user: z.object({ token: z.string().min(1) }) })).min(1),
  contexts: z
    .array(z.object({ name: z.string(), context: z.object({ cluster: z.string(), user: z.string() }) }))
    .optional(),
});

export interface VwEndpoint {
  /** `<api>/syncers/<workspace>/<SyncTarget>`: every request of the protocol is below it. */
  server: string;
  token: string;
}

/** Reads a syncer kubeconfig (`tmc syncer kubeconfig`, `.tmc/syncers/<name>.kubeconfig`); the message never holds the token. */
export async function loadVwEndpoint(path: string): Promise<VwEndpoint> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigurationError(`--kcp-kubeconfig ${path} could not be read`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch {
    throw new ConfigurationError(`--kcp-kubeconfig ${path} is not YAML`);
  }
  const parsed = VwKubeconfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigurationError(
      `--kcp-kubeconfig ${path} is unusable: it needs a cluster server and a user token (${parsed.error.issues.map((i) => i.path.join('.')).join(', ')})`,
    );
  }
  const file = parsed.data;
  const context = file.contexts?.find((c) => c.name === file['current-context']) ?? file.contexts?.[0];
  const cluster = file.clusters.find((c) => c.name === context?.context.cluster) ?? file.clusters[0];
  const user = file.users.find((u) => u.name === context?.context.user) ?? file.users[0];
  return { server: cluster.cluster.server.replace(/\/+$/, ''), token: user.user.token };
}

export interface VwClientOptions {
  /** Attempts per request on 429, 5xx and network errors, with exponential backoff between them. */
  attempts?: number;
  baseDelayMs?: number;
  /** Client-side rate limit (`--qps`/`--burst`): a token bucket shared by every request. */
  qps?: number;
  burst?: number;
  onRequest?: (operation: string, statusCode: number | undefined) => void;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Reads the credentials again (the `--kcp-kubeconfig` file): asked on a 401, and when it gives another token the
   * request is sent once more with it, so a rotated kubeconfig is used even before its file watch fires.
   */
  reload?: () => Promise<VwEndpoint>;
}

const RETRYABLE = new Set(['cluster-throttled', 'cluster-unavailable', 'cluster-unreachable', 'sync-timeout']);

/**
 * The syncer's side of the protocol (lib/vw/syncer-api.ts): JSON requests with the SyncTarget's bearer credential.
 * 429, 5xx and network failures are retried with backoff (honouring Retry-After), then thrown as tmc errors, so the
 * caller's own retry takes over; a 404 is returned to the caller, who decides what absence means.
 */
export class VwClient {
  private tokens: number;
  private last = Date.now();
  private current: VwEndpoint;

  constructor(
    endpoint: VwEndpoint,
    private readonly options: VwClientOptions = {},
  ) {
    this.current = endpoint;
    this.tokens = options.burst ?? 20;
  }

  /** The server and credential every request uses from now on. */
  get endpoint(): VwEndpoint {
    return this.current;
  }

  /** Switches to new credentials (a rotated kubeconfig); requests in flight finish with the old ones. */
  setEndpoint(endpoint: VwEndpoint): void {
    this.current = endpoint;
  }

  /** Re-reads the credentials; true when they changed (then the caller retries with them). */
  private async reloaded(): Promise<boolean> {
    if (!this.options.reload) return false;
    try {
      const next = await this.options.reload();
      if (next.token === this.current.token && next.server === this.current.server) return false;
      this.current = next;
      return true;
    } catch {
      // An unreadable file (mid-rewrite) changes nothing: the 401 stands and the caller retries later.
      return false;
    }
  }

  private async throttle(): Promise<void> {
    const qps = this.options.qps ?? 20;
    const burst = this.options.burst ?? 20;
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(burst, this.tokens + ((now - this.last) / 1000) * qps);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await (this.options.sleep ?? delay)(Math.ceil(((1 - this.tokens) / qps) * 1000));
    }
  }

  /** `undefined` for a 404; the parsed JSON body otherwise. */
  async request(
    method: 'GET' | 'POST',
    operation: string,
    body?: unknown,
    query?: Record<string, string>,
  ): Promise<unknown> {
    const attempts = this.options.attempts ?? 5;
    const search = query && Object.keys(query).length > 0 ? `?${new URLSearchParams(query).toString()}` : '';
    const ctx = { target: 'virtual workspace', object: operation === '' ? 'SyncTarget' : operation };
    let reloadedOnce = false;
    for (let attempt = 1; ; attempt += 1) {
      await this.throttle();
      const url = `${this.current.server}${operation === '' ? '' : `/${operation}`}${search}`;
      let error: TmcError;
      try {
        const response = await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${this.current.token}`,
            'content-type': 'application/json',
            accept: 'application/json',
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(30_000),
        });
        this.options.onRequest?.(operation, response.status);
        const text = await response.text();
        if (response.ok) return text === '' ? {} : JSON.parse(text);
        if (response.status === 404) return undefined;
        if (response.status === 401 && !reloadedOnce) {
          reloadedOnce = true;
          if (await this.reloaded()) continue;
        }
        const status = z
          .looseObject({ message: z.string().optional(), reason: z.string().optional() })
          .safeParse(safeJson(text));
        const statusBody: KubeStatusBody | undefined = status.success
          ? { message: status.data.message, reason: status.data.reason }
          : undefined;
        error = translateHttpError(response.status, statusBody, response.headers.get('retry-after') ?? undefined, ctx);
      } catch (err) {
        this.options.onRequest?.(operation, undefined);
        error = translateNetworkError(err, ctx);
      }
      if (!RETRYABLE.has(error.category) || attempt >= attempts) throw error;
      const retryAfterMs = (error.retryAfterSeconds ?? 0) * 1000;
      const backoff = Math.min(30_000, (this.options.baseDelayMs ?? 250) * 2 ** (attempt - 1));
      await (this.options.sleep ?? delay)(
        Math.max(retryAfterMs, Math.floor(backoff / 2 + Math.random() * (backoff / 2))),
      );
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
