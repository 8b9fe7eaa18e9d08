import type { KubeConfig } from '@kubernetes/client-node';
import pLimit, { type LimitFunction } from 'p-limit';
import { z } from 'zod';
import { FIELD_MANAGER } from '../../api/labels';
import { callUnderDeadline, currentDeadline } from '../../errors/deadline';
import type { KubeClient, KubeObject, ResourceName, ResourceType } from '../../ports/kube-client';
import { translateHttpError, translateNetworkError, type KubeErrorContext, type KubeStatusBody } from './errors';
import { KubeHttpTransport, type KubeHttpRequest, type KubeHttpResponse } from './http-transport';

/** Responses are outside data: only the shape tmc relies on is checked, the rest passes through. */
const KubeObjectResponse = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({ name: z.string().optional(), namespace: z.string().optional() }),
});
const KubeListResponse = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z.looseObject({ continue: z.string().optional() }).optional(),
  items: z.array(z.looseObject({ metadata: z.looseObject({}) })).nullish(),
});
const StatusBodySchema = z.looseObject({
  message: z.string().optional(),
  reason: z.string().optional(),
  details: z
    .looseObject({
      causes: z
        .array(
          z.looseObject({ type: z.string().optional(), field: z.string().optional(), message: z.string().optional() }),
        )
        .optional(),
    })
    .optional(),
});
const ApiResourceListSchema = z.looseObject({
  groupVersion: z.string(),
  resources: z.array(
    z.looseObject({
      name: z.string(),
      kind: z.string(),
      namespaced: z.boolean(),
      verbs: z.array(z.string()).optional(),
    }),
  ),
});
const ApiGroupListSchema = z.looseObject({
  groups: z.array(
    z.looseObject({
      name: z.string(),
      preferredVersion: z.looseObject({ version: z.string() }).optional(),
      versions: z.array(z.looseObject({ version: z.string() })),
    }),
  ),
});

export interface KubeClusterClientOptions {
  /** Requests in flight to this endpoint from this container; protects the API server from bursts. */
  maxConcurrency?: number;
  /** A bearer token asked for on every request (EKS: a cached token, re-signed before it expires). */
  bearerToken?: () => Promise<string>;
  requestTimeoutMs?: number;
  readyTimeoutMs?: number;
  /** How long discovery is trusted before a miss triggers a refresh. */
  discoveryTtlMs?: number;
  /** Objects per LIST page (`limit`); undefined asks for everything at once. Pages are always followed to the end. */
  listPageSize?: number;
  /** Called when the server answers 401: the connector reads the credentials again before the next request. */
  onUnauthorized?: () => void;
}

type TypeRef = Pick<ResourceType, 'group' | 'version' | 'resource'>;

/** `/api/v1` or `/apis/apps/v1`. */
function groupVersionPath(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
}

/** The collection path of a resource, in a namespace when one is given. */
export function collectionPath(t: TypeRef, namespace?: string): string {
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${groupVersionPath(t)}${ns}/${t.resource}`;
}

export function objectPath(n: ResourceName): string {
  return `${collectionPath(n, n.namespace)}/${encodeURIComponent(n.name)}`;
}

/** `apps/v1/deployments default/web`: how errors name the object when its kind is not known. */
function describeName(t: TypeRef, namespace: string | undefined, name: string | undefined): string {
  const gvr = t.group ? `${t.group}/${t.version}/${t.resource}` : `${t.version}/${t.resource}`;
  if (!name) return namespace ? `${gvr} in ${namespace}` : gvr;
  return namespace ? `${gvr} ${namespace}/${name}` : `${gvr} ${name}`;
}

/**
 * A KubeClient for one endpoint (a kcp logical cluster or a physical cluster) over raw HTTP with one keep-alive pool,
 * a per-endpoint concurrency limit, and errors translated into lib/errors. Writes are server-side apply with tmc's
 * field manager; merge patches are for labels, annotations, finalizers and status.
 */
export class KubeClusterClient implements KubeClient {
  private readonly transport: KubeHttpTransport;
  private readonly limit: LimitFunction;
  private readonly requestTimeoutMs: number;
  private readonly readyTimeoutMs: number;
  private readonly discoveryTtlMs: number;
  private readonly listPageSize: number | undefined;
  private discovery: { at: number; resources: Promise<ResourceType[]> } | undefined;
  private readonly onUnauthorized: (() => void) | undefined;
  private inFlight = 0;
  private retired = false;

  constructor(
    readonly target: string,
    config: KubeConfig,
    options: KubeClusterClientOptions = {},
  ) {
    const maxConcurrency = options.maxConcurrency ?? 16;
    this.transport = new KubeHttpTransport(config, maxConcurrency, options.bearerToken);
    this.limit = pLimit(maxConcurrency);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.readyTimeoutMs = options.readyTimeoutMs ?? 2_000;
    this.discoveryTtlMs = options.discoveryTtlMs ?? 5 * 60_000;
    this.listPageSize = options.listPageSize;
    this.onUnauthorized = options.onUnauthorized;
  }

  close(): void {
    this.transport.close();
  }

  /** Closes once the requests in flight are done (a client replaced by one with refreshed credentials). */
  closeWhenIdle(): void {
    this.retired = true;
    if (this.inFlight === 0) this.close();
  }

  async get(name: ResourceName): Promise<KubeObject | undefined> {
    const ctx = this.ctx(describeName(name, name.namespace, name.name));
    const res = await this.send({ method: 'GET', path: objectPath(name) }, ctx);
    if (res.statusCode === 404) return undefined;
    return this.objectOf(this.ok(res, ctx), ctx);
  }

  /**
   * Every object of the type. An answer with `metadata.continue` is one page of several (the server may page even
   * when no `limit` was asked): the rest is read until the last page, since a page taken for the whole list would make
   * every object past it look deleted. A failed page (410 Expired included) fails the list.
   */
  async list(type: TypeRef, options: { namespace?: string; labelSelector?: string } = {}): Promise<KubeObject[]> {
    const ctx = this.ctx(describeName(type, options.namespace, undefined));
    const objects: KubeObject[] = [];
    let next: string | undefined;
    do {
      const params = [
        ...(options.labelSelector ? [`labelSelector=${encodeURIComponent(options.labelSelector)}`] : []),
        ...(this.listPageSize ? [`limit=${this.listPageSize}`] : []),
        ...(next ? [`continue=${encodeURIComponent(next)}`] : []),
      ];
      const query = params.length ? `?${params.join('&')}` : '';
      const res = this.ok(
        await this.send({ method: 'GET', path: `${collectionPath(type, options.namespace)}${query}` }, ctx),
        ctx,
      );
      const parsed = KubeListResponse.safeParse(res.json);
      if (!parsed.success) throw translateHttpError(502, { message: 'malformed list response' }, undefined, ctx);
      // List items omit apiVersion/kind; restore them from the list so callers get whole objects.
      const apiVersion = parsed.data.apiVersion ?? (type.group ? `${type.group}/${type.version}` : type.version);
      const kind = (parsed.data.kind ?? '').replace(/List$/, '');
      for (const item of parsed.data.items ?? []) objects.push({ apiVersion, kind, ...item } as KubeObject);
      next = parsed.data.metadata?.continue || undefined;
    } while (next);
    return objects;
  }

  async apply(
    type: Omit<ResourceType, 'namespaced'>,
    object: KubeObject,
    options: { force?: boolean; resourceVersion?: string } = {},
  ): Promise<KubeObject> {
    const { namespace, name } = object.metadata;
    const ctx = { ...this.ctx(describeName(type, namespace, name)), apply: true };
    if (!name) throw translateHttpError(422, { message: 'metadata.name is required for apply' }, undefined, ctx);
    const query = `?fieldManager=${encodeURIComponent(FIELD_MANAGER)}&force=${options.force ? 'true' : 'false'}`;
    // managedFields and resourceVersion in an apply body would make the server treat it as a conditional update:
    // only the caller's explicit resourceVersion does.
    const { managedFields: _mf, resourceVersion: _rv, ...metadata } = object.metadata;
    const body = {
      ...object,
      metadata: options.resourceVersion ? { ...metadata, resourceVersion: options.resourceVersion } : metadata,
    };
    const res = await this.send(
      {
        method: 'PATCH',
        path: `${objectPath({ ...type, namespace, name })}${query}`,
        body,
        contentType: 'application/apply-patch+yaml',
      },
      ctx,
    );
    return this.objectOf(this.ok(res, ctx), ctx);
  }

  async mergePatch(name: ResourceName, patch: Record<string, unknown>): Promise<KubeObject> {
    const ctx = this.ctx(describeName(name, name.namespace, name.name));
    const res = await this.send(
      { method: 'PATCH', path: objectPath(name), body: patch, contentType: 'application/merge-patch+json' },
      ctx,
    );
    return this.objectOf(this.ok(res, ctx), ctx);
  }

  async patchStatus(
    name: ResourceName,
    status: Record<string, unknown>,
    options: { resourceVersion?: string } = {},
  ): Promise<KubeObject> {
    const ctx = this.ctx(`${describeName(name, name.namespace, name.name)} status`);
    // A resourceVersion in the patch body is kube-apiserver's precondition: 409 Conflict when the object moved on.
    const body = options.resourceVersion
      ? { metadata: { resourceVersion: options.resourceVersion }, status }
      : { status };
    const res = await this.send(
      { method: 'PATCH', path: `${objectPath(name)}/status`, body, contentType: 'application/merge-patch+json' },
      ctx,
    );
    return this.objectOf(this.ok(res, ctx), ctx);
  }

  async delete(name: ResourceName, options: { resourceVersion?: string } = {}): Promise<'deleted' | 'absent'> {
    const ctx = this.ctx(describeName(name, name.namespace, name.name));
    const preconditions = options.resourceVersion
      ? { preconditions: { resourceVersion: options.resourceVersion } }
      : {};
    const res = await this.send(
      { method: 'DELETE', path: objectPath(name), body: { propagationPolicy: 'Background', ...preconditions } },
      ctx,
    );
    if (res.statusCode === 404) return 'absent';
    this.ok(res, ctx);
    return 'deleted';
  }

  /** Served resource types (preferred version of every group), cached for discoveryTtlMs; `refresh` at most every 2 s. */
  async resources(options: { refresh?: boolean } = {}): Promise<ResourceType[]> {
    const age = this.discovery ? Date.now() - this.discovery.at : Infinity;
    if (this.discovery && age <= this.discoveryTtlMs && !(options.refresh === true && age > 2000))
      return this.discovery.resources;
    const resources = this.discover();
    this.discovery = { at: Date.now(), resources };
    // A failed discovery must not be cached.
    resources.catch(() => {
      if (this.discovery?.resources === resources) this.discovery = undefined;
    });
    return resources;
  }

  /**
   * The served type for a group/version/resource (or kind), refreshing discovery once on a miss: a CRD installed
   * after the last discovery is found without waiting for the TTL.
   */
  async findResource(query: {
    group: string;
    version?: string;
    resource?: string;
    kind?: string;
  }): Promise<ResourceType | undefined> {
    const match = (r: ResourceType): boolean =>
      r.group === query.group &&
      (query.version === undefined || r.version === query.version) &&
      (query.resource === undefined || r.resource === query.resource) &&
      (query.kind === undefined || r.kind === query.kind);
    const found = (await this.resources()).find(match);
    if (found) return found;
    this.discovery = undefined;
    return (await this.resources()).find(match);
  }

  async ready(): Promise<{ ok: boolean; latencyMs: number; detail?: string }> {
    const started = Date.now();
    try {
      const res = await this.transport.request({ method: 'GET', path: '/readyz', timeoutMs: this.readyTimeoutMs });
      const latencyMs = Date.now() - started;
      return res.statusCode === 200
        ? { ok: true, latencyMs }
        : { ok: false, latencyMs, detail: `readyz answered ${res.statusCode}` };
    } catch (err) {
      const e = translateNetworkError(err, this.ctx('/readyz'));
      return { ok: false, latencyMs: Date.now() - started, detail: e.message };
    }
  }

  private async discover(): Promise<ResourceType[]> {
    const ctx = this.ctx('discovery');
    const out: ResourceType[] = [];
    const readGroupVersion = async (group: string, version: string): Promise<void> => {
      const res = await this.send({ method: 'GET', path: groupVersionPath({ group, version }) }, ctx);
      if (res.statusCode === 404 || res.statusCode === 503) return; // an aggregated API that is down: skip it, not fail all
      const parsed = ApiResourceListSchema.safeParse(this.ok(res, ctx).json);
      if (!parsed.success) return;
      for (const r of parsed.data.resources) {
        if (r.name.includes('/')) continue; // subresources
        out.push({
          group,
          version,
          resource: r.name,
          kind: r.kind,
          namespaced: r.namespaced,
          ...(r.verbs === undefined ? {} : { verbs: r.verbs }),
        });
      }
    };
    const groupsRes = this.ok(await this.send({ method: 'GET', path: '/apis' }, ctx), ctx);
    const groups = ApiGroupListSchema.safeParse(groupsRes.json);
    await Promise.all([
      readGroupVersion('', 'v1'),
      ...(groups.success ? groups.data.groups : []).map((g) =>
        readGroupVersion(g.name, g.preferredVersion?.version ?? g.versions[0]?.version ?? 'v1'),
      ),
    ]);
    return out;
  }

  private ctx(object: string): KubeErrorContext {
    return { target: this.target, object };
  }

  /**
   * One request, under the invocation's deadline (captured here: the concurrency queue may run it in another async
   * context). A request cut off by the deadline is a DeadlineExceededError, not an unreachable cluster: the cluster
   * may only be slow, and its circuit and health are left alone.
   */
  private async send(
    req: Omit<KubeHttpRequest, 'timeoutMs' | 'signal'>,
    ctx: KubeErrorContext,
  ): Promise<KubeHttpResponse> {
    const deadline = currentDeadline();
    this.inFlight += 1;
    try {
      const res = await this.limit(() =>
        callUnderDeadline(deadline, `${ctx.object} on ${ctx.target}`, async (signal) => {
          try {
            return await this.transport.request({ ...req, timeoutMs: this.requestTimeoutMs, signal });
          } catch (err) {
            if (signal?.aborted) throw err;
            throw translateNetworkError(err, ctx);
          }
        }),
      );
      if (res.statusCode === 401) this.onUnauthorized?.();
      return res;
    } finally {
      this.inFlight -= 1;
      if (this.retired && this.inFlight === 0) this.close();
    }
  }

  /** Throws the translated error for any non-2xx answer. */
  private ok(res: KubeHttpResponse, ctx: KubeErrorContext): KubeHttpResponse {
    if (res.statusCode >= 200 && res.statusCode < 300) return res;
    const status = StatusBodySchema.safeParse(res.json);
    const body: KubeStatusBody | undefined = status.success ? status.data : undefined;
    const retryAfter = res.headers['retry-after'];
    throw translateHttpError(res.statusCode, body, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, ctx);
  }

  private objectOf(res: KubeHttpResponse, ctx: KubeErrorContext): KubeObject {
    const parsed = KubeObjectResponse.safeParse(res.json);
    if (!parsed.success)
      throw translateHttpError(502, { message: 'the response is not a Kubernetes object' }, undefined, ctx);
    return parsed.data as KubeObject;
  }
}
