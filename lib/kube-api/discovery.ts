import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceInfo } from './resource-info';
import { apiVersionOf } from './resource-info';

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
/** The verbs a read-only server (tmc's aggregated view) declares. */
export const READ_ONLY_VERBS: readonly string[] = ['get', 'list'];

/** A subresource's verbs among those the server declares. */
const subresourceVerbs = (verbs: readonly string[]): string[] =>
  ['get', 'patch', 'update'].filter((v) => verbs.includes(v));

function groupVersions(types: ResourceInfo[]): Map<string, ResourceInfo[]> {
  const byGv = new Map<string, ResourceInfo[]>();
  for (const t of types) {
    const gv = apiVersionOf(t);
    byGv.set(gv, [...(byGv.get(gv) ?? []), t]);
  }
  return byGv;
}

export function apiVersions(): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }],
  };
}

/** Plain APIGroupList: kubectl accepts it when it asked for aggregated discovery. */
export function apiGroupList(types: ResourceInfo[]): Record<string, unknown> {
  const groups = new Map<string, string[]>();
  for (const t of types) {
    if (!t.group) continue;
    const versions = groups.get(t.group) ?? [];
    if (!versions.includes(t.version)) versions.push(t.version);
    groups.set(t.group, versions);
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups.entries()].map(([name, versions]) => ({
      name,
      versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
    })),
  };
}

export function apiResourceList(
  types: ResourceInfo[],
  groupVersion: string,
  verbs: readonly string[] = VERBS,
): Record<string, unknown> | undefined {
  const list = groupVersions(types).get(groupVersion);
  if (!list) return undefined;
  const resources: Array<Record<string, unknown>> = [];
  for (const t of list) {
    resources.push({
      name: t.resource,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs,
      ...(t.shortNames ? { shortNames: t.shortNames } : {}),
      ...(t.categories ? { categories: t.categories } : {}),
    });
    if (t.hasStatus)
      resources.push({
        name: `${t.resource}/status`,
        singularName: '',
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: subresourceVerbs(verbs),
      });
    if (t.hasScale)
      resources.push({
        name: `${t.resource}/scale`,
        singularName: '',
        namespaced: t.namespaced,
        group: 'autoscaling',
        version: 'v1',
        kind: 'Scale',
        verbs: subresourceVerbs(verbs),
      });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

export const AGGREGATED_DISCOVERY_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** kubectl 1.32 asks `/api` and `/apis` for aggregated discovery first (and falls back to APIGroupList). */
export function wantsAggregatedDiscovery(accept: string | undefined): boolean {
  return Boolean(accept && /g=apidiscovery\.k8s\.io;\s*v=v2;\s*as=APIGroupDiscoveryList/.test(accept));
}

/**
 * apidiscovery.k8s.io/v2 APIGroupDiscoveryList for `/api` (the core group) or `/apis` (every other group): every
 * resource of every version in one response. kubectl revalidates it on every run with its ETag, so a CRD created or
 * deleted a moment ago is seen at once, as with kube-apiserver (the plain per-group-version documents are cached).
 */
export function aggregatedDiscovery(
  types: ResourceInfo[],
  root: 'api' | 'apis',
  verbs: readonly string[] = VERBS,
): Record<string, unknown> {
  const groups = new Map<string, Map<string, ResourceInfo[]>>();
  for (const t of types) {
    if ((root === 'api') !== (t.group === '')) continue;
    const versions = groups.get(t.group) ?? new Map<string, ResourceInfo[]>();
    versions.set(t.version, [...(versions.get(t.version) ?? []), t]);
    groups.set(t.group, versions);
  }
  const items = [...groups.entries()].map(([group, versions]) => ({
    metadata: { name: group, creationTimestamp: null },
    versions: [...versions.entries()].map(([version, list]) => ({
      version,
      resources: list.map((t) => ({
        resource: t.resource,
        responseKind: { group: t.group, version: t.version, kind: t.kind },
        scope: t.namespaced ? 'Namespaced' : 'Cluster',
        singularResource: t.singular,
        verbs,
        ...(t.shortNames ? { shortNames: t.shortNames } : {}),
        ...(t.categories ? { categories: t.categories } : {}),
        subresources: [
          ...(t.hasStatus
            ? [
                {
                  subresource: 'status',
                  responseKind: { group: t.group, version: t.version, kind: t.kind },
                  verbs: subresourceVerbs(verbs),
                },
              ]
            : []),
          ...(t.hasScale
            ? [
                {
                  subresource: 'scale',
                  responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
                  verbs: subresourceVerbs(verbs),
                },
              ]
            : []),
        ],
      })),
      freshness: 'Current',
    })),
  }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items };
}

/** An aggregated discovery answer: 304 when the client's ETag (`If-None-Match`) is current, else the document. */
export function aggregatedDiscoveryAnswer(
  body: Record<string, unknown>,
  ifNoneMatch: string | undefined,
): { statusCode: 200 | 304; headers: Record<string, string>; text: string } {
  const text = JSON.stringify(body);
  const etag = `"${createHash('sha256').update(text).digest('hex').slice(0, 32)}"`;
  if (ifNoneMatch === etag) return { statusCode: 304, headers: { ETag: etag }, text: '' };
  return { statusCode: 200, headers: { 'Content-Type': AGGREGATED_DISCOVERY_CONTENT_TYPE, ETag: etag }, text };
}

/** Sends an aggregated discovery document with an ETag, answering 304 when the client's copy is current. */
export function sendAggregatedDiscovery(
  req: IncomingMessage,
  res: ServerResponse,
  body: Record<string, unknown>,
): void {
  const answer = aggregatedDiscoveryAnswer(body, req.headers['if-none-match']);
  if (answer.statusCode === 304) {
    res.writeHead(304, answer.headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...answer.headers, 'Content-Length': Buffer.byteLength(answer.text) });
  res.end(answer.text);
}

/** `/openapi/v3`: one document per group version. */
export function openApiV3Root(types: ResourceInfo[], prefix: string): Record<string, unknown> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of groupVersions(types).keys()) {
    const p = gv.includes('/') ? `apis/${gv}` : `api/${gv}`;
    paths[p] = { serverRelativeURL: `${prefix}/openapi/v3/${p}?hash=${types.length}` };
  }
  return { paths };
}

/**
 * A group version's OpenAPI v3 document. kubectl only needs each kind's PATCH operation to declare the
 * `fieldValidation` parameter: it then leaves validation to the server and never downloads the protobuf v2 schema.
 * Schemas are permissive (CRDs contribute theirs).
 */
export function openApiV3Document(types: ResourceInfo[], groupVersion: string): Record<string, unknown> | undefined {
  const list = groupVersions(types).get(groupVersion);
  if (!list) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const t of list) {
    const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
    const item = t.namespaced ? `${base}/namespaces/{namespace}/${t.resource}/{name}` : `${base}/${t.resource}/{name}`;
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const schemaName = `${t.group || 'core'}.${t.version}.${t.kind}`;
    schemas[schemaName] = {
      ...(t.schema ?? { type: 'object' }),
      'x-kubernetes-preserve-unknown-fields': true,
      'x-kubernetes-group-version-kind': [gvk],
    };
    const param = (name: string): Record<string, unknown> => ({
      name,
      in: 'query',
      schema: { type: 'string', uniqueItems: true },
    });
    paths[item] = {
      get: {
        'x-kubernetes-action': 'get',
        'x-kubernetes-group-version-kind': gvk,
        responses: { '200': { description: 'OK' } },
      },
      put: {
        'x-kubernetes-action': 'put',
        'x-kubernetes-group-version-kind': gvk,
        parameters: [param('fieldValidation'), param('fieldManager'), param('dryRun')],
        responses: { '200': { description: 'OK' } },
      },
      patch: {
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
        parameters: [
          param('fieldValidation'),
          param('fieldManager'),
          param('dryRun'),
          { name: 'force', in: 'query', schema: { type: 'boolean' } },
        ],
        responses: { '200': { description: 'OK' } },
      },
      parameters: [
        { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
        ...(t.namespaced ? [{ name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }] : []),
      ],
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes (tmc simulator)', version: 'v1.32.0' },
    paths,
    components: { schemas },
  };
}

// kubectl asks for `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, but Go's mime parser rejects that
// name (the `@`) in a response's Content-Type, so the body goes out as plain protobuf, which client-go reads raw.
const OPENAPI_V2_PROTOBUF = 'application/vnd.kubernetes.protobuf';

/** A length-delimited protobuf field (wire type 2) with a one-byte length: all this tiny document needs. */
function protoField(field: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, value.length]), value]);
}

/**
 * `/openapi/v2`: an OpenAPI v2 document with no definitions. kubectl falls back to it when a manifest's group
 * version is not in `/openapi/v3` (a kind whose CRD is not installed); with no schema for the kind it skips
 * client-side validation and fails the REST mapping with the message a real cluster gives (`no matches for kind
 * "Widget" in version "example.com/v1"`), instead of "failed to download openapi". kubectl asks for the gnostic
 * protobuf encoding (openapi_v2.Document: swagger = 1, info = 2 {title = 1, version = 2}).
 */
export function sendOpenApiV2(req: IncomingMessage, res: ServerResponse): void {
  const title = 'Kubernetes (tmc simulator)';
  const version = 'v1.32.0';
  if ((req.headers.accept ?? '').includes('protobuf')) {
    const body = Buffer.concat([
      protoField(1, Buffer.from('2.0')),
      protoField(2, Buffer.concat([protoField(1, Buffer.from(title)), protoField(2, Buffer.from(version))])),
    ]);
    res.writeHead(200, { 'Content-Type': OPENAPI_V2_PROTOBUF, 'Content-Length': body.length });
    res.end(body);
    return;
  }
  const text = JSON.stringify({ swagger: '2.0', info: { title, version }, paths: {}, definitions: {} });
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
