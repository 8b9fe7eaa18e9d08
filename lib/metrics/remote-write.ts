import { pushTimeseries } from 'prometheus-remote-write';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { callUnderDeadline, currentDeadline } from '../errors/deadline';

/**
 * Prometheus remote-write (protobuf + snappy, via prometheus-remote-write). Targets: Amazon Managed Prometheus with
 * SigV4, or any remote-write endpoint with bearer or basic auth. Samples carry the timestamp of the collection, so a
 * retried push sends identical samples, which Prometheus de-duplicates: a retry never double-counts.
 */

export const RemoteWriteTargetSchema = z.object({
  url: z.url(),
  auth: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('none') }),
      z.object({ type: z.literal('bearer'), token: z.string().min(1) }),
      z.object({ type: z.literal('basic'), username: z.string(), password: z.string() }),
      z.object({ type: z.literal('sigv4'), region: z.string().min(1), service: z.string().default('aps') }),
    ])
    .default({ type: 'none' }),
});
export type RemoteWriteTarget = z.infer<typeof RemoteWriteTargetSchema>;

export interface Timeseries {
  labels: { __name__: string; [label: string]: string };
  samples: Array<{ value: number; timestamp: number }>;
}

type FetchInit = { method: string; headers: Record<string, string>; body: ArrayBufferLike; timeout?: number };
/** The fetch prometheus-remote-write calls; a SigV4 target's is signed by lib/adapters/prometheus/sigv4-fetch. */
export type RemoteWriteFetch = (
  url: string,
  init?: FetchInit,
) => Promise<{ status: number; statusText: string; text: () => Promise<string> }>;

/** Every series in a prom-client registry as remote-write timeseries stamped with one collection time. */
export async function collectTimeseries(registry: Registry, timestamp = Date.now()): Promise<Timeseries[]> {
  const out: Timeseries[] = [];
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const v of metric.values) {
      // Histogram values name their own series (`x_bucket`, `x_sum`, `x_count`); prom-client's type omits it.
      const name = 'metricName' in v && typeof v.metricName === 'string' ? v.metricName : metric.name;
      const labels: Timeseries['labels'] = { __name__: name };
      for (const [k, val] of Object.entries(v.labels)) if (val !== undefined) labels[k] = String(val);
      out.push({ labels, samples: [{ value: v.value, timestamp }] });
    }
  }
  return out;
}

/** Node's fetch with a timeout and the invocation's deadline, in the shape prometheus-remote-write calls. */
export function nativeFetch(): RemoteWriteFetch {
  return async (url, init) =>
    callUnderDeadline(
      currentDeadline(),
      'A remote-write push',
      async (signal) => {
        const res = await fetch(url, {
          method: init?.method,
          headers: init?.headers,
          body: init ? new Uint8Array(init.body) : undefined,
          signal,
        });
        return { status: res.status, statusText: res.statusText, text: () => res.text() };
      },
      AbortSignal.timeout(init?.timeout ?? 10_000),
    );
}

/**
 * What the remote-write 1.0 spec requires of every push (Prometheus itself accepts pushes without some of them;
 * other receivers, and the spec's conformance checks, do not).
 */
export const REMOTE_WRITE_HEADERS = {
  'Content-Encoding': 'snappy',
  'Content-Type': 'application/x-protobuf',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
  'User-Agent': 'tmc',
} as const;

export class RemoteWritePublisher {
  private readonly fetchImpl: RemoteWriteFetch;
  private readonly headers: Record<string, string>;

  /** A `sigv4` target needs `signedFetch` (lib/adapters/prometheus/sigv4-fetch): an unsigned push would be refused. */
  constructor(
    private readonly target: RemoteWriteTarget,
    private readonly options: { attempts?: number; baseDelayMs?: number; signedFetch?: RemoteWriteFetch } = {},
  ) {
    const auth = target.auth;
    if (auth.type === 'sigv4' && options.signedFetch === undefined) {
      throw new Error(`Remote-write to ${new URL(target.url).host} uses SigV4: pass a signing fetch (sigv4Fetch)`);
    }
    this.fetchImpl = auth.type === 'sigv4' && options.signedFetch !== undefined ? options.signedFetch : nativeFetch();
    this.headers = {
      ...REMOTE_WRITE_HEADERS,
      ...(auth.type === 'bearer' ? { Authorization: `Bearer ${auth.token}` } : {}),
    };
  }

  /** Pushes the series; retries 5xx, 429 and network errors with backoff; throws with the endpoint's answer otherwise. */
  async push(series: Timeseries[]): Promise<void> {
    if (series.length === 0) return;
    const attempts = this.options.attempts ?? 3;
    const auth =
      this.target.auth.type === 'basic'
        ? { username: this.target.auth.username, password: this.target.auth.password }
        : undefined;
    let lastError = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const result = await pushTimeseries(series, {
          url: this.target.url,
          fetch: this.fetchImpl,
          headers: this.headers,
          auth,
          timeout: 10_000,
        });
        if (result.status >= 200 && result.status < 300) return;
        lastError = `${result.status} ${result.statusText}${result.errorMessage ? `: ${result.errorMessage}` : ''}`;
        if (result.status < 500 && result.status !== 429) break;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
      }
      if (attempt < attempts)
        await new Promise((r) => setTimeout(r, (this.options.baseDelayMs ?? 200) * 2 ** (attempt - 1)));
    }
    throw new Error(
      `Remote-write to ${new URL(this.target.url).host} failed: ${lastError}. Check the endpoint URL and credentials`,
    );
  }
}
