import { z } from 'zod';
import type { KubeObject } from '../../lib/kube/object';

/**
 * The chaos suite's own client for the simulated kcp and clusters: plain HTTP with a timeout, so it reads them
 * directly (not through tmc) and a partitioned server costs a bounded wait. Its user agent keeps it apart from tmc's
 * requests in the simulator's request log and fault rules.
 */
export const CHAOS_USER_AGENT = 'tmc-chaos';

const ListSchema = z.object({
  items: z.array(
    z.looseObject({
      apiVersion: z.string().optional(),
      kind: z.string().optional(),
      metadata: z.looseObject({ name: z.string() }),
    }),
  ),
});
const ObjectSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({ name: z.string() }),
});

export class KubeHttpError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${method} ${path} answered ${status}: ${body.slice(0, 200)}`);
    this.name = 'KubeHttpError';
  }
}

/** A failure worth another try: a timeout, a refused or reset connection, 429 or a 5xx. */
function isTransient(err: unknown): boolean {
  if (err instanceof KubeHttpError) return err.status === 429 || err.status >= 500;
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'TypeError');
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a setup step until it succeeds or a non-transient error ends it; past `timeoutMs` the last error is thrown. */
export async function retryTransient<T>(what: string, attempt: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (!isTransient(err)) throw err;
      if (Date.now() > deadline) throw new Error(`${what} did not succeed within ${timeoutMs} ms`, { cause: err });
      await pause(1_000);
    }
  }
}

export interface Gvr {
  group: string;
  version: string;
  resource: string;
}

/** `/api/v1/namespaces/ns/configmaps[/name]` or `/apis/g/v/…`. */
export function resourcePath(gvr: Gvr, namespace?: string, name?: string): string {
  const base = gvr.group === '' ? `/api/${gvr.version}` : `/apis/${gvr.group}/${gvr.version}`;
  return `${base}${namespace !== undefined ? `/namespaces/${namespace}` : ''}/${gvr.resource}${name !== undefined ? `/${name}` : ''}`;
}

export class KubeHttp {
  private readonly base: string;

  /** `serverUrl`: a cluster's URL, or kcp's `<url>/clusters/<workspace>`. */
  constructor(
    serverUrl: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.base = serverUrl.replace(/\/+$/, '');
  }

  private async request(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; text: string }> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        'user-agent': CHAOS_USER_AGENT,
        ...(body === undefined ? {} : { 'content-type': contentType }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    return { status: response.status, text: await response.text() };
  }

  private async expectOk(method: string, path: string, body?: unknown, contentType?: string): Promise<string> {
    const { status, text } = await this.request(method, path, body, contentType);
    if (status < 200 || status >= 300) throw new KubeHttpError(method, path, status, text);
    return text;
  }

  /** Every object of a type (all namespaces when `namespace` is absent); throws on anything but a full answer. */
  async list(gvr: Gvr, options: { namespace?: string; labelSelector?: string } = {}): Promise<KubeObject[]> {
    const query = options.labelSelector ? `?labelSelector=${encodeURIComponent(options.labelSelector)}` : '';
    const text = await this.expectOk('GET', `${resourcePath(gvr, options.namespace)}${query}`);
    return ListSchema.parse(JSON.parse(text)).items as KubeObject[];
  }

  /** The object, or undefined on 404. */
  async get(gvr: Gvr, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    const path = resourcePath(gvr, namespace, name);
    const { status, text } = await this.request('GET', path);
    if (status === 404) return undefined;
    if (status !== 200) throw new KubeHttpError('GET', path, status, text);
    return ObjectSchema.parse(JSON.parse(text)) as KubeObject;
  }

  async create(gvr: Gvr, object: KubeObject): Promise<KubeObject> {
    return ObjectSchema.parse(
      JSON.parse(await this.expectOk('POST', resourcePath(gvr, object.metadata.namespace), object)),
    ) as KubeObject;
  }

  async mergePatch(
    gvr: Gvr,
    namespace: string | undefined,
    name: string,
    patch: Record<string, unknown>,
  ): Promise<void> {
    await this.expectOk('PATCH', resourcePath(gvr, namespace, name), patch, 'application/merge-patch+json');
  }

  /** Deletes; an object already gone is success. */
  async delete(gvr: Gvr, namespace: string | undefined, name: string): Promise<void> {
    const path = resourcePath(gvr, namespace, name);
    const { status, text } = await this.request('DELETE', path);
    if (status !== 404 && (status < 200 || status >= 300)) throw new KubeHttpError('DELETE', path, status, text);
  }
}
