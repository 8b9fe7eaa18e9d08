import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ApiError } from '../kube-api/api-error';
import type { SimUser, TokenAuthenticator } from './authentication';
import { answerAccessReview, isAccessReview } from './access-review';
import { bindPod } from './pod-binding';
import { checkApplyFields, checkFields, fieldValidationOf } from './field-validation';
import { applyDefaults } from './defaults';
import type { KubeObject } from '../kube/object';
import type { AdmissionDispatcher, AdmissionOperation } from './contracts';
import type { ObjectSpace } from './object-space';
import { jsonPatch, mergePatch, strategicMergePatch } from './patches';
import { apiVersionOf, gvrId, type ResourceInfo } from '../kube-api/resource-info';
import { parseFieldSelector } from '../kube-api/field-selector';
import { parseLabelSelector } from '../kube-api/label-selector';
import { recordUpdate, serverSideApply } from './server-side-apply';
import { toTable, wantsTable } from '../kube-api/table';
import { validateObject } from './validation';
import {
  bookmarkObject,
  resourceVersionExpired,
  WATCH_RESPONSE_HEADERS,
  watchEventLine,
  type WatchStreamEventType,
} from '../kube-api/watch-event';

/** The parts of a resource request's path. */
export interface ResourceRequest {
  group: string;
  version: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface HandlerContext {
  space: ObjectSpace;
  admission: AdmissionDispatcher;
  currentRv: () => number;
  /** Records the verb for the request log once it is known. */
  setVerb: (verb: string) => void;
  /** Watch: all spaces this request covers (one, or every logical cluster for `/clusters/*`). */
  watchSpaces: ObjectSpace[];
  /** Who sent the request (its bearer token's user, or whom it impersonates): admission's `request.userInfo`. */
  user: SimUser;
  /** Whether RBAC decides for `user` (an issued ServiceAccount token or an impersonated user): access reviews ask. */
  rbacSubject: boolean;
  authenticator: Pick<TokenAuthenticator, 'userOfToken' | 'isAdmin'>;
  /**
   * A fault rule's answer to a list or watch: `empty` a complete, successful list with no items (a watch that stays
   * open and sends nothing); `expired` a watch that ends with 410 Expired at once.
   */
  fault?: 'empty' | 'expired';
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 3 * 1024 * 1024)
      throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function isProtobufBody(raw: Buffer, contentType: string | undefined): boolean {
  return (
    Boolean(contentType?.includes('protobuf')) ||
    (raw.length > 4 && raw.subarray(0, 4).toString('latin1') === 'k8s\u0000')
  );
}

/**
 * A create, update or delete body: JSON or YAML, or protobuf from client-go's typed clients (kubectl's `create
 * namespace|configmap|deployment…` generators). The protobuf decoder and its schema load on the first protobuf body.
 */
async function parseWriteBody(raw: Buffer, contentType: string | undefined, kind?: string): Promise<unknown> {
  if (!isProtobufBody(raw, contentType)) return parseObjectBody(raw, contentType, kind);
  const { decodeProtobufObject } = await import('./protobuf/decode');
  return decodeProtobufObject(raw);
}

/**
 * kube-apiserver's summary of an undecodable body in its 400 (summarizeData): JSON-looking bodies as text, anything
 * else as hex, 30 bytes at most.
 */
function summarizeBody(raw: Buffer): string {
  if (raw.length === 0) return '<empty>';
  const head = raw.subarray(0, 30);
  const shown = raw[0] === 0x7b ? head.toString('utf8') : head.toString('hex');
  return raw.length > 30 ? `${shown} ...` : shown;
}

function parseObjectBody(raw: Buffer, contentType: string | undefined, kind?: string): unknown {
  // Patches are JSON or YAML only, as with kube-apiserver: it accepts no protobuf patch type.
  if (isProtobufBody(raw, contentType)) {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
    );
  }
  const text = raw.toString('utf8');
  if (text.trim() === '')
    throw ApiError.badRequest(
      'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml',
    );
  const yaml = Boolean(contentType?.includes('yaml'));
  // A YAML body that is JSON (client-go and @kubernetes/client-node send every server-side apply as JSON under
  // application/apply-patch+yaml) means the same to JSON.parse, which is many times faster than the YAML parser (that
  // parse was ~1 s of a 100×3 benchmark's main thread). Anything JSON.parse refuses goes to the YAML parser, so its
  // answers and error messages are unchanged (a repeated key, which the YAML parser refuses, is last-wins here, as in
  // a JSON body).
  if (yaml && looksLikeJsonObject(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // not JSON after all: YAML flow style, comments, … — parsed as YAML below
    }
  }
  try {
    return yaml ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const cause = yaml
      ? `error converting YAML to JSON: yaml: ${detail}`
      : `couldn't get version/kind; json parse error: ${detail}`;
    // A create or update body names the type the URL expects, as kube-apiserver's transformDecodeError does.
    if (kind)
      throw ApiError.badRequest(
        `the object provided is unrecognized (must be of type ${kind}): ${cause} (${summarizeBody(raw)})`,
      );
    throw ApiError.badRequest(`the object provided is unrecognized: ${cause}`);
  }
}

function looksLikeJsonObject(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return c === 0x7b;
  }
  return false;
}

/** The Go package of a group's internal types, as scheme conversion errors name them (`core.ConfigMap`). */
function internalPackage(group: string): string {
  return group === '' ? 'core' : group.split('.')[0];
}

/**
 * A decoded body as an object of the URL's type. Create and update bodies may leave out apiVersion and kind (the URL
 * supplies them, as kube-apiserver's decoder defaults them); a body naming another type is refused the way
 * kube-apiserver refuses it. `apply`: a server-side apply patch, which must name its apiVersion and kind.
 */
function asObject(
  body: unknown,
  info: ResourceInfo,
  r: ResourceRequest,
  mode: 'write' | 'apply' | 'patched',
): KubeObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw ApiError.badRequest('the object provided is unrecognized: expected a JSON object');
  const obj = body as Record<string, unknown>;
  const expected = apiVersionOf(info);
  const metadata =
    typeof obj.metadata === 'object' && obj.metadata !== null ? { ...(obj.metadata as Record<string, unknown>) } : {};
  if (mode === 'apply') {
    if (!obj.apiVersion) throw ApiError.badRequest('apiVersion must be set in apply patch');
    if (!obj.kind) throw ApiError.badRequest('kind must be set in apply patch');
    if (obj.apiVersion !== expected)
      throw ApiError.badRequest(
        `Incorrect version specified in apply patch. Specified patch version: ${String(obj.apiVersion)}, expected: ${expected}`,
      );
  }
  if (obj.kind !== undefined && obj.kind !== info.kind) {
    const kind = String(obj.kind);
    if (info.custom) {
      throw ApiError.invalid(
        kind,
        String(metadata.name ?? ''),
        [{ field: 'kind', message: `Invalid value: ${JSON.stringify(kind)}: must be ${info.kind}` }],
        info.group,
      );
    }
    const version =
      typeof obj.apiVersion === 'string' && obj.apiVersion
        ? obj.apiVersion.slice(obj.apiVersion.indexOf('/') + 1)
        : info.version;
    throw ApiError.badRequest(
      `${kind} in version "${version}" cannot be handled as a ${info.kind}: converting (${version}.${kind}) to (${internalPackage(info.group)}.${info.kind}): unknown conversion`,
    );
  }
  if (obj.apiVersion !== undefined && obj.apiVersion !== expected) {
    throw ApiError.badRequest(
      `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expected})`,
    );
  }
  if (r.namespace && metadata.namespace && metadata.namespace !== r.namespace && info.namespaced) {
    throw ApiError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  if (info.namespaced && r.namespace) metadata.namespace = r.namespace;
  return { ...obj, apiVersion: expected, kind: info.kind, metadata } as KubeObject;
}

function managerFrom(url: URL, req: IncomingMessage): string {
  const explicit = url.searchParams.get('fieldManager');
  if (explicit) return explicit;
  const ua = req.headers['user-agent'] ?? 'unknown';
  return ua.split('/')[0] || 'unknown';
}

function listKind(info: ResourceInfo): string {
  return `${info.kind}List`;
}

function encodeContinue(offset: number, rv: number): string {
  return Buffer.from(JSON.stringify({ o: offset, rv })).toString('base64url');
}

function decodeContinue(token: string): { o: number; rv: number } {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o: number; rv: number };
    if (typeof v.o === 'number') return v;
  } catch {
    // fall through
  }
  throw ApiError.badRequest('continue key is not valid: illegal base64 data');
}

/** Serves one resource request against an object space, with the semantics of kube-apiserver. */
export async function handleResource(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  r: ResourceRequest,
  ctx: HandlerContext,
): Promise<void> {
  const space = ctx.space;
  const info = space.info({ group: r.group, version: r.version, resource: r.resource });
  if (info.namespaced === false && r.namespace) throw ApiError.notFoundResource(info);
  const extra = r.subresource ? info.subresources?.find((s) => s.name === r.subresource) : undefined;
  if (
    r.subresource &&
    !extra &&
    !(
      (r.subresource === 'status' && info.hasStatus) ||
      (r.subresource === 'scale' && info.hasScale) ||
      (r.subresource === 'finalize' && info.resource === 'namespaces')
    )
  ) {
    throw ApiError.notFoundResource(info);
  }
  const method = req.method ?? 'GET';
  const dryRun = url.searchParams.getAll('dryRun').includes('All');
  // A create-only resource or subresource (a review, a Binding): anything else is 405, as kube-apiserver answers.
  const verbs = extra ? extra.verbs : info.verbs;
  if (verbs && !(method === 'POST' && verbs.includes('create')))
    throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  if (info.resource === 'bindings' || (info.resource === 'pods' && r.subresource === 'binding')) {
    ctx.setVerb('create');
    const binding = asObject(
      await parseWriteBody(await readBody(req), req.headers['content-type'], 'Binding'),
      { ...info, resource: 'bindings', kind: 'Binding' },
      { ...r, name: undefined },
      'write',
    );
    return send(res, 201, bindPod(space, r.namespace ?? '', binding, r.subresource ? r.name : undefined));
  }

  if (method === 'GET' && !r.name) {
    if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
      ctx.setVerb('watch');
      return watch(req, res, url, info, r, ctx);
    }
    ctx.setVerb('list');
    return list(req, res, url, info, r, ctx);
  }
  if (method === 'GET') {
    ctx.setVerb('get');
    const obj = space.get(info, r.namespace, r.name!);
    if (!obj) throw ApiError.notFound(info, r.name!);
    if (r.subresource === 'scale') return send(res, 200, toScale(obj));
    if (wantsTable(req.headers.accept)) return send(res, 200, toTable(info, [obj], String(ctx.currentRv())));
    return send(res, 200, obj);
  }
  if (method === 'POST' && !r.name) {
    ctx.setVerb('create');
    const obj = asObject(
      await parseWriteBody(await readBody(req), req.headers['content-type'], info.kind),
      info,
      r,
      'write',
    );
    if (isAccessReview(info))
      return send(
        res,
        201,
        answerAccessReview(
          info,
          obj,
          { space, user: ctx.user, rbacSubject: ctx.rbacSubject, authenticator: ctx.authenticator },
          info.namespaced ? r.namespace : undefined,
        ),
      );
    checkFields(info, obj, fieldValidationOf(url), res);
    if (!obj.metadata.name && typeof obj.metadata.generateName === 'string') {
      obj.metadata.name = `${obj.metadata.generateName}${Math.random().toString(36).slice(2, 7)}`;
    }
    delete obj.metadata.resourceVersion;
    delete obj.metadata.uid;
    if (info.hasStatus && info.resource !== 'customresourcedefinitions' && info.resource !== 'namespaces')
      delete obj.status;
    if (info.resource === 'namespaces') {
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name ?? '' };
      obj.status = { phase: 'Active' };
    }
    applyDefaults(info, obj, { allocateClusterIp: space.allocateClusterIp });
    validateObject(info, obj);
    space.checkNamespace(info, obj.metadata.namespace);
    if (space.get(info, obj.metadata.namespace, obj.metadata.name!))
      throw ApiError.alreadyExists(info, obj.metadata.name!);
    const withFields = recordUpdate(undefined, obj, managerFrom(url, req));
    const admitted = await admit(ctx, 'CREATE', info, r, withFields, undefined, dryRun);
    if (dryRun) return send(res, 201, admitted);
    if (space.get(info, admitted.metadata.namespace, admitted.metadata.name!))
      throw ApiError.alreadyExists(info, admitted.metadata.name!);
    return send(res, 201, space.insert(info, admitted));
  }
  if (method === 'PUT' && r.name) {
    ctx.setVerb('update');
    const body = asObject(
      await parseWriteBody(await readBody(req), req.headers['content-type'], info.kind),
      info,
      r,
      'write',
    );
    const current = space.get(info, r.namespace, r.name);
    if (!current) throw ApiError.notFound(info, r.name);
    if (r.subresource === 'scale') return updateScale(res, info, r, current, body, ctx, dryRun, req, url);
    checkFields(info, body, fieldValidationOf(url), res);
    if (body.metadata.resourceVersion && body.metadata.resourceVersion !== current.metadata.resourceVersion)
      throw ApiError.conflict(info, r.name);
    const next = shapeWrite(info, r, current, body);
    return commitUpdate(
      res,
      ctx,
      info,
      r,
      current,
      recordUpdate(current, next, managerFrom(url, req), r.subresource),
      dryRun,
    );
  }
  if (method === 'PATCH' && r.name) {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim();
    const raw = await readBody(req);
    const patch = parseObjectBody(raw, contentType.includes('yaml') ? 'yaml' : 'json');
    // kube-apiserver's GuaranteedUpdate re-applies a patch that carries no resourceVersion to the newest object when
    // another write lands meanwhile (a webhook call is a wide window); only a patch naming a resourceVersion gets 409.
    const pinned =
      typeof (patch as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion === 'string';
    for (let attempt = 1; ; attempt++) {
      try {
        return await patchOnce(patch, contentType);
      } catch (err) {
        if (!(err instanceof ApiError) || !err.staleRead || pinned || attempt >= 5) throw err;
      }
    }
  }
  async function patchOnce(patch: unknown, contentType: string): Promise<void> {
    const current = space.get(info, r.namespace, r.name!);
    // A patch naming a resourceVersion is a precondition in kube-apiserver (the patched object carries it, and the
    // store compares it with the stored one), on the main resource and on /status alike: 409 when it moved on. Checked
    // before admission, as PUT's is here.
    const pinnedRv = (patch as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
    const checkPinned = (): void => {
      if (current && typeof pinnedRv === 'string' && pinnedRv !== '' && pinnedRv !== current.metadata.resourceVersion)
        throw ApiError.conflict(info, r.name!);
    };
    if (contentType === 'application/apply-patch+yaml') {
      ctx.setVerb('apply');
      checkPinned();
      const manager = url.searchParams.get('fieldManager');
      if (!manager)
        throw new ApiError(
          422,
          'Invalid',
          'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        );
      const applied = asObject(patch, info, r, 'apply');
      checkApplyFields(info, applied, fieldValidationOf(url));
      applied.metadata.name = r.name;
      const force = url.searchParams.get('force') === 'true';
      const statusOnly = r.subresource === 'status';
      if (!current) {
        if (statusOnly) throw ApiError.notFound(info, r.name!);
        const created = serverSideApply(undefined, applied, manager, force, false);
        if (info.hasStatus && info.resource !== 'customresourcedefinitions') delete created.status;
        applyDefaults(info, created, { allocateClusterIp: space.allocateClusterIp });
        validateObject(info, created);
        space.checkNamespace(info, created.metadata.namespace);
        const admitted = await admit(ctx, 'CREATE', info, r, created, undefined, dryRun);
        if (dryRun) return send(res, 201, admitted);
        return send(res, 201, space.insert(info, admitted));
      }
      const merged = serverSideApply(current, applied, manager, force, statusOnly);
      return commitUpdate(res, ctx, info, r, current, shapeWrite(info, r, current, merged), dryRun);
    }
    ctx.setVerb('patch');
    if (!current) throw ApiError.notFound(info, r.name!);
    checkPinned();
    let patched: unknown;
    if (contentType === 'application/json-patch+json') patched = jsonPatch(current, patch);
    else if (contentType === 'application/merge-patch+json') patched = mergePatch(current, patch);
    else if (contentType === 'application/strategic-merge-patch+json') {
      if (info.custom) {
        throw new ApiError(
          415,
          'UnsupportedMediaType',
          'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
        );
      }
      patched = strategicMergePatch(current, patch);
    } else {
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
      );
    }
    if (r.subresource === 'scale')
      return updateScale(res, info, r, current, patched as KubeObject, ctx, dryRun, req, url);
    const patchedObject = asObject(patched, info, r, 'patched');
    checkFields(info, patchedObject, fieldValidationOf(url), res, { sorted: true });
    const next = shapeWrite(info, r, current, patchedObject);
    return commitUpdate(
      res,
      ctx,
      info,
      r,
      current,
      recordUpdate(current, next, managerFrom(url, req), r.subresource),
      dryRun,
    );
  }
  if (method === 'DELETE' && r.name) {
    ctx.setVerb('delete');
    const current = space.get(info, r.namespace, r.name);
    if (!current) throw ApiError.notFound(info, r.name);
    const raw = await readBody(req);
    const options = raw.length
      ? ((await parseWriteBody(raw, req.headers['content-type'] ?? 'json')) as Record<string, any>)
      : {};
    const precondition = options?.preconditions?.resourceVersion;
    if (precondition && precondition !== current.metadata.resourceVersion) throw ApiError.conflict(info, r.name);
    const optionsDryRun = dryRun || (Array.isArray(options?.dryRun) && options.dryRun.includes('All'));
    await admit(ctx, 'DELETE', info, r, undefined, current, optionsDryRun);
    if (optionsDryRun) return send(res, 200, current);
    const result = space.requestDeletion(info, current);
    if (result.removed) return send(res, 200, result.object);
    return send(res, 200, result.object);
  }
  if (method === 'DELETE' && !r.name) {
    ctx.setVerb('deletecollection');
    const matchLabels = parseLabelSelector(url.searchParams.get('labelSelector'));
    const matchFields = parseFieldSelector(url.searchParams.get('fieldSelector'), info);
    const items = space.list(info, r.namespace).filter((o) => matchLabels(o.metadata.labels) && matchFields(o));
    for (const item of items) {
      await admit(ctx, 'DELETE', info, { ...r, name: item.metadata.name }, undefined, item, dryRun);
      if (!dryRun) space.requestDeletion(info, item);
    }
    return send(res, 200, {
      kind: listKind(info),
      apiVersion: apiVersionOf(info),
      metadata: { resourceVersion: String(ctx.currentRv()) },
      items,
    });
  }
  throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
}

/** What a write may change: /status writes change only status; main-resource writes keep status when it is a subresource. */
function shapeWrite(info: ResourceInfo, r: ResourceRequest, current: KubeObject, next: KubeObject): KubeObject {
  if (r.subresource === 'status')
    return {
      ...current,
      metadata: { ...current.metadata, managedFields: next.metadata.managedFields },
      status: next.status,
    };
  const out: KubeObject = { ...next, metadata: { ...next.metadata } };
  if (info.hasStatus && info.resource !== 'customresourcedefinitions') {
    if (current.status === undefined) delete out.status;
    else out.status = current.status;
  }
  return out;
}

async function commitUpdate(
  res: ServerResponse,
  ctx: HandlerContext,
  info: ResourceInfo,
  r: ResourceRequest,
  current: KubeObject,
  next: KubeObject,
  dryRun: boolean,
): Promise<void> {
  // A /status write keeps the stored spec, which carries its defaults already.
  if (!r.subresource) applyDefaults(info, next, { current, allocateClusterIp: ctx.space.allocateClusterIp });
  validateObject(info, next, current);
  const admitted = await admit(ctx, 'UPDATE', info, r, next, current, dryRun);
  if (dryRun) return send(res, 200, admitted);
  const latest = ctx.space.get(info, r.namespace, r.name!);
  if (!latest) throw ApiError.notFound(info, r.name!);
  // Another write landed while admission ran: an optimistic-concurrency conflict, as etcd's compare-and-swap gives.
  if (latest.metadata.resourceVersion !== current.metadata.resourceVersion) throw ApiError.conflict(info, r.name!);
  send(res, 200, ctx.space.replace(info, current, admitted));
}

async function admit(
  ctx: HandlerContext,
  operation: AdmissionOperation,
  info: ResourceInfo,
  r: ResourceRequest,
  object: KubeObject | undefined,
  oldObject: KubeObject | undefined,
  dryRun: boolean,
): Promise<KubeObject> {
  const outcome = await ctx.admission.admit({
    store: ctx.space,
    operation,
    gvr: { group: info.group, version: info.version, resource: info.resource },
    kind: { group: info.group, version: info.version, kind: info.kind },
    subResource: r.subresource,
    namespace: info.namespaced ? (object ?? oldObject)?.metadata.namespace : undefined,
    name: (object ?? oldObject)?.metadata.name ?? r.name ?? '',
    object,
    oldObject,
    userInfo: { username: ctx.user.username, groups: [...ctx.user.groups] },
    dryRun,
  });
  if (!outcome.allowed)
    throw new ApiError(outcome.status.code, outcome.status.reason ?? 'Forbidden', outcome.status.message);
  return (outcome.object ?? object ?? oldObject) as KubeObject;
}

function toScale(obj: KubeObject): Record<string, unknown> {
  const spec = (obj.spec ?? {}) as Record<string, any>;
  const status = (obj.status ?? {}) as Record<string, any>;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 1 },
    status: {
      replicas: status.replicas ?? 0,
      selector: Object.entries(spec.selector?.matchLabels ?? {})
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(','),
    },
  };
}

async function updateScale(
  res: ServerResponse,
  info: ResourceInfo,
  r: ResourceRequest,
  current: KubeObject,
  scale: KubeObject,
  ctx: HandlerContext,
  dryRun: boolean,
  req: IncomingMessage,
  url: URL,
): Promise<void> {
  const replicas = (scale.spec as Record<string, unknown> | undefined)?.replicas;
  if (typeof replicas !== 'number' || replicas < 0)
    throw ApiError.invalid('Scale', r.name!, [
      { field: 'spec.replicas', message: `Invalid value: ${String(replicas)}: must be greater than or equal to 0` },
    ]);
  const next = recordUpdate(
    current,
    { ...current, spec: { ...((current.spec as object) ?? {}), replicas } },
    managerFrom(url, req),
  );
  validateObject(info, next, current);
  const admitted = await admit(ctx, 'UPDATE', info, { ...r, subresource: 'scale' }, next, current, dryRun);
  const stored = dryRun ? admitted : ctx.space.replace(info, current, admitted);
  send(res, 200, toScale(stored));
}

function list(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  info: ResourceInfo,
  r: ResourceRequest,
  ctx: HandlerContext,
): void {
  const matchLabels = parseLabelSelector(url.searchParams.get('labelSelector'));
  const matchFields = parseFieldSelector(url.searchParams.get('fieldSelector'), info);
  const keyed: Array<[string, KubeObject]> = [];
  for (const space of ctx.fault === 'empty' ? [] : ctx.watchSpaces) {
    for (const o of space.list(info, r.namespace))
      if (matchLabels(o.metadata.labels) && matchFields(o))
        keyed.push([`${o.metadata.namespace ?? ''}/${o.metadata.name}`, o]);
  }
  // etcd's key order (bytes of namespace/name), which is also far cheaper than localeCompare on 10,000s of items.
  keyed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const items = keyed.map(([, o]) => o);
  const rv = ctx.currentRv();
  const limit = Number(url.searchParams.get('limit') ?? 0);
  const cont = url.searchParams.get('continue');
  const start = cont ? decodeContinue(cont).o : 0;
  const page = limit > 0 ? items.slice(start, start + limit) : items.slice(start);
  const next = limit > 0 && start + limit < items.length ? encodeContinue(start + limit, rv) : undefined;
  const meta: Record<string, unknown> = {
    resourceVersion: String(rv),
    ...(next ? { continue: next, remainingItemCount: items.length - start - limit } : {}),
  };
  if (wantsTable(req.headers.accept))
    return send(res, 200, toTable(info, page, String(rv), next ? { continue: next } : {}));
  send(res, 200, { kind: listKind(info), apiVersion: apiVersionOf(info), metadata: meta, items: page });
}

function watch(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  info: ResourceInfo,
  r: ResourceRequest,
  ctx: HandlerContext,
): void {
  const matchLabels = parseLabelSelector(url.searchParams.get('labelSelector'));
  const matchFields = parseFieldSelector(url.searchParams.get('fieldSelector'), info);
  const asTable = wantsTable(req.headers.accept);
  const bookmarks = url.searchParams.get('allowWatchBookmarks') === 'true';
  const rvParam = url.searchParams.get('resourceVersion');
  const timeoutSeconds = Number(url.searchParams.get('timeoutSeconds') ?? 0);
  const id = gvrId(info);
  const matches = (o: KubeObject): boolean =>
    (!r.namespace || o.metadata.namespace === r.namespace) && matchLabels(o.metadata.labels) && matchFields(o);
  res.writeHead(200, WATCH_RESPONSE_HEADERS);
  res.flushHeaders();
  const write = (type: WatchStreamEventType, object: KubeObject | Record<string, unknown>): void => {
    const payload =
      asTable && type !== 'ERROR' && type !== 'BOOKMARK'
        ? toTable(info, [object as KubeObject], String((object as KubeObject).metadata?.resourceVersion ?? ''))
        : object;
    res.write(watchEventLine(type, payload));
  };
  let lastRv = ctx.currentRv();
  let unsubscribers: Array<() => void> = [];
  if (ctx.fault === 'expired') {
    write('ERROR', {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `too old resource version: ${rvParam ?? '0'} (${ctx.currentRv()})`,
      reason: 'Expired',
      code: 410,
    });
    res.end();
    return;
  }
  const timers: NodeJS.Timeout[] = [];
  const end = (): void => {
    for (const u of unsubscribers) u();
    for (const t of timers) clearInterval(t);
    if (!res.writableEnded) res.end();
  };
  if (timeoutSeconds > 0) timers.push(setTimeout(end, timeoutSeconds * 1000));
  req.on('close', end);
  res.on('close', end);
  // An `empty` fault: the stream stays open and carries nothing (no events, no bookmarks) until it times out.
  if (ctx.fault === 'empty') return;
  if (!rvParam || rvParam === '0') {
    const initial: KubeObject[] = [];
    for (const space of ctx.watchSpaces) for (const o of space.list(info, r.namespace)) if (matches(o)) initial.push(o);
    initial.sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
    for (const o of initial) write('ADDED', o);
  } else {
    const since = Number(rvParam);
    for (const space of ctx.watchSpaces) {
      const events = space.eventsSince(since);
      if (!events) {
        write('ERROR', resourceVersionExpired(since, ctx.currentRv()));
        res.end();
        return;
      }
      for (const e of events) if (e.gvrKey === id && matches(e.object)) write(e.type, e.object);
    }
  }
  unsubscribers = ctx.watchSpaces.map((space) =>
    space.subscribe((event) => {
      const e = event as {
        gvr: { group: string; version: string; resource: string };
        object: KubeObject;
        type: WatchStreamEventType;
      };
      if (gvrId(e.gvr) !== id || !matches(e.object)) return;
      lastRv = Number(e.object.metadata.resourceVersion);
      write(e.type, e.object);
    }),
  );
  if (bookmarks) {
    timers.push(
      setInterval(() => {
        lastRv = Math.max(lastRv, ctx.currentRv());
        write('BOOKMARK', bookmarkObject(info, lastRv));
      }, 5_000),
    );
  }
}

export { send };
