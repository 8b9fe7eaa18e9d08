import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { ApiError } from '../kube-api/api-error';
import { handleResource, readBody, type HandlerContext, type ResourceRequest } from './api-handler';
import { jsonPatch, mergePatch, strategicMergePatch } from './patches';

/**
 * events.k8s.io/v1 Events, served as kube-apiserver serves them: the same objects as core/v1 Events (one storage, one
 * resourceVersion), converted on the way in and out (kube's pkg/apis/events/v1 conversion). So an Event tmc writes as
 * core/v1 is listed by `kubectl get events.events.k8s.io`, and one written through events.k8s.io by
 * `kubectl describe`. Tables pass through: kube prints both with the same columns.
 */
const CORE: Pick<ResourceRequest, 'group' | 'version' | 'resource'> = { group: '', version: 'v1', resource: 'events' };

type Json = Record<string, unknown>;

const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function defined(object: Json): Json {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined));
}

export function isEventsV1(r: Pick<ResourceRequest, 'group' | 'resource'>): boolean {
  return r.group === 'events.k8s.io' && r.resource === 'events';
}

/** A core/v1 Event as events.k8s.io/v1 shows it. */
export function toEventsV1(core: Json): Json {
  const series = isJson(core.series)
    ? defined({ count: core.series.count, lastObservedTime: core.series.lastObservedTime })
    : undefined;
  return defined({
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: core.metadata,
    eventTime: core.eventTime ?? null,
    series,
    reportingController: core.reportingComponent,
    reportingInstance: core.reportingInstance,
    action: core.action,
    reason: core.reason,
    regarding: core.involvedObject,
    related: core.related,
    note: core.message,
    type: core.type,
    deprecatedSource: core.source,
    deprecatedFirstTimestamp: core.firstTimestamp,
    deprecatedLastTimestamp: core.lastTimestamp,
    deprecatedCount: core.count,
  });
}

/** An events.k8s.io/v1 Event as core/v1 stores it. */
export function toCoreEvent(v1: Json): Json {
  return defined({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: v1.metadata,
    eventTime: v1.eventTime ?? undefined,
    series: v1.series,
    reportingComponent: v1.reportingController,
    reportingInstance: v1.reportingInstance,
    action: v1.action,
    reason: v1.reason,
    involvedObject: v1.regarding ?? {},
    related: v1.related,
    message: v1.note,
    type: v1.type,
    source: v1.deprecatedSource,
    firstTimestamp: v1.deprecatedFirstTimestamp,
    lastTimestamp: v1.deprecatedLastTimestamp,
    count: v1.deprecatedCount,
  });
}

/** events.k8s.io's field labels in core's names (kube's events/v1 field label conversion). */
function coreFieldSelector(text: string): string {
  return text
    .split(',')
    .map((part) =>
      part
        .replace(/^regarding\./, 'involvedObject.')
        .replace(/^reportingController(?=\s*!?=)/, 'reportingComponent')
        .replace(/^deprecatedSource(?=\s*!?=)/, 'source'),
    )
    .join(',');
}

function convertBody(body: unknown): unknown {
  if (!isJson(body)) return body;
  if (body.kind === 'Event') return toEventsV1(body);
  if (body.kind === 'EventList' && Array.isArray(body.items))
    return { ...body, apiVersion: 'events.k8s.io/v1', items: body.items.map((i) => (isJson(i) ? toEventsV1(i) : i)) };
  return body;
}

function convertText(text: string): string {
  try {
    return JSON.stringify(convertBody(JSON.parse(text)));
  } catch {
    return text; // not JSON (protobuf, an empty body): passed as it is
  }
}

/** A watch stream's line (`{"type":…,"object":…}\n`) with its Event converted. */
function convertWatchLine(line: string): string {
  try {
    const event: unknown = JSON.parse(line);
    if (isJson(event) && isJson(event.object))
      return `${JSON.stringify({ ...event, object: convertBody(event.object) })}\n`;
  } catch {
    // a partial or non-JSON chunk: unchanged
  }
  return line;
}

/** `res` as the core handler sees it: whole bodies and watch lines are converted before they leave. */
function convertingResponse(res: ServerResponse): ServerResponse {
  let head: { code: number; headers: Record<string, string | number | string[]> } | undefined;
  return new Proxy(res, {
    get(target, prop) {
      if (prop === 'writeHead')
        return (code: number, headers?: Record<string, string | number | string[]>) => {
          // Whole bodies get a new length; a stream (no length) is written at once.
          if (headers && 'Content-Length' in headers) head = { code, headers };
          else target.writeHead(code, headers);
          return target;
        };
      if (prop === 'write')
        return (chunk: unknown, ...rest: unknown[]) =>
          target.write(typeof chunk === 'string' ? convertWatchLine(chunk) : (chunk as Buffer), ...(rest as []));
      if (prop === 'end')
        return (chunk?: unknown) => {
          if (head === undefined) return target.end(chunk as Buffer | undefined);
          const text =
            typeof chunk === 'string'
              ? convertText(chunk)
              : Buffer.isBuffer(chunk)
                ? convertText(chunk.toString('utf8'))
                : '';
          const { 'Content-Length': _length, ...headers } = head.headers;
          target.writeHead(head.code, { ...headers, 'Content-Length': Buffer.byteLength(text) });
          return target.end(text);
        };
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A request for the core handler with `body` instead of what the client sent. */
function withBody(req: IncomingMessage, body: Json, method: string, contentType: string): IncomingMessage {
  const text = Buffer.from(JSON.stringify(body));
  return Object.assign(Readable.from([text]), {
    method,
    url: req.url,
    headers: { ...req.headers, 'content-type': contentType, 'content-length': String(text.length) },
  }) as unknown as IncomingMessage;
}

function parseBody(raw: Buffer, contentType: string): unknown {
  const text = raw.toString('utf8');
  try {
    return contentType.includes('yaml') ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw ApiError.badRequest(
      `the object provided is unrecognized: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** Serves an events.k8s.io/v1 request from core/v1 Events. */
export async function handleEventsV1(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  r: ResourceRequest,
  ctx: HandlerContext,
): Promise<void> {
  const core: ResourceRequest = { ...r, ...CORE };
  const coreUrl = new URL(url);
  const selector = url.searchParams.get('fieldSelector');
  if (selector) coreUrl.searchParams.set('fieldSelector', coreFieldSelector(selector));
  const out = convertingResponse(res);
  const method = req.method ?? 'GET';
  const contentType = (req.headers['content-type'] ?? 'application/json').split(';')[0].trim();
  if (method === 'POST' || method === 'PUT' || (method === 'PATCH' && contentType === 'application/apply-patch+yaml')) {
    const body = parseBody(await readBody(req), contentType);
    if (!isJson(body)) throw ApiError.badRequest('the object provided is unrecognized (must be of type Event)');
    const coreBody = toCoreEvent(body);
    return handleResource(
      withBody(req, coreBody, method, method === 'PATCH' ? contentType : 'application/json'),
      out,
      coreUrl,
      core,
      ctx,
    );
  }
  if (method === 'PATCH' && r.name) {
    // Patches are written against the events.k8s.io shape: applied to the converted object, stored as an update.
    const patch = parseBody(await readBody(req), contentType);
    const current = ctx.space.get(ctx.space.info(core), r.namespace, r.name);
    if (!current) throw ApiError.notFound(ctx.space.info(r), r.name);
    const shown = toEventsV1(current as unknown as Json);
    const patched =
      contentType === 'application/json-patch+json'
        ? jsonPatch(shown, patch)
        : contentType === 'application/strategic-merge-patch+json'
          ? strategicMergePatch(shown, patch)
          : mergePatch(shown, patch);
    if (!isJson(patched)) throw ApiError.badRequest('the patch did not give an Event');
    const next = toCoreEvent(patched);
    const pinned =
      isJson(isJson(patch) ? patch.metadata : undefined) &&
      typeof (patch as { metadata: Json }).metadata.resourceVersion === 'string';
    if (!pinned && isJson(next.metadata))
      next.metadata = { ...next.metadata, resourceVersion: current.metadata.resourceVersion };
    return handleResource(withBody(req, next, 'PUT', 'application/json'), out, coreUrl, core, ctx);
  }
  return handleResource(req, out, coreUrl, core, ctx);
}
