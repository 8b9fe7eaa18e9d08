import pLimit from 'p-limit';
import type { KubeObject } from '../../lib/kube/object';

/**
 * Writes the benchmark's objects to kcp over its HTTP API, as a controller or `kubectl` would, with bounded
 * concurrency (one `kubectl` process per object would measure kubectl's start-up, not tmc). fetch keeps
 * connections alive, so the figures carry one round trip per write, not a TCP handshake.
 */

export const BENCH_USER_AGENT = 'tmc-bench';

export interface KcpWriter {
  /** POST to a collection path (`/api/v1/namespaces/bench/configmaps`). */
  create(collectionPath: string, object: KubeObject): Promise<void>;
  /** JSON merge patch of one object. */
  mergePatch(objectPath: string, patch: Record<string, unknown>): Promise<void>;
  /** DELETE of one object; one already gone (404) counts as deleted. */
  delete(objectPath: string): Promise<void>;
}

export class KcpWriteError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(
      `kcp answered ${status} to a write of ${path}: ${body.slice(0, 300)}. Check the local stack's log (TMC_TEST_LOG=debug)`,
    );
    this.name = 'KcpWriteError';
  }
}

/** `serverUrl` is the workspace's URL (`http://127.0.0.1:P/clusters/root:default`). */
export function kcpWriter(serverUrl: string, token?: string): KcpWriter {
  const base = serverUrl.replace(/\/+$/, '');
  const headers = (contentType: string): Record<string, string> => ({
    'content-type': contentType,
    accept: 'application/json',
    'user-agent': BENCH_USER_AGENT,
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  });
  const send = async (method: string, path: string, contentType: string, body: unknown): Promise<void> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: headers(contentType),
      body: JSON.stringify(body),
    });
    const text = await response.text();
    // 409 on create: a previous run's object (the bench namespace is fresh, so this means a retry of ours).
    if (
      !response.ok &&
      !(method === 'POST' && response.status === 409) &&
      !(method === 'DELETE' && response.status === 404)
    )
      throw new KcpWriteError(path, response.status, text);
  };
  return {
    create: (collectionPath, object) => send('POST', collectionPath, 'application/json', object),
    mergePatch: (objectPath, patch) => send('PATCH', objectPath, 'application/merge-patch+json', patch),
    delete: (objectPath) => send('DELETE', objectPath, 'application/json', {}),
  };
}

/** Runs `work(i)` for i in [0, count) with at most `concurrency` in flight; `onDone` after each. */
export async function forEachBounded(
  count: number,
  concurrency: number,
  work: (i: number) => Promise<void>,
  onDone?: (done: number) => void,
): Promise<void> {
  const limit = pLimit(concurrency);
  let done = 0;
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      limit(async () => {
        await work(i);
        done += 1;
        onDone?.(done);
      }),
    ),
  );
}

/**
 * Runs `work(i)` for i in [0, count) one at a time, the i-th starting no earlier than `i × intervalMs` after the first:
 * a steady offered load, so what the latency phase measures is the path, not a queue. The wait is the schedule
 * itself (a load generator's pacing), not a stand-in for work. A write that takes longer than the interval delays
 * the next one; the schedule does not bunch writes up to catch up.
 */
export async function forEachPaced(
  count: number,
  intervalMs: number,
  work: (i: number) => Promise<void>,
): Promise<void> {
  let next = performance.now();
  for (let i = 0; i < count; i++) {
    const wait = next - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    next = Math.max(next, performance.now()) + intervalMs;
    await work(i);
  }
}
