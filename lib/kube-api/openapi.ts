import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { groupVersions } from './discovery';
import type { ResourceInfo } from './resource-info';

type Schema = Record<string, unknown>;

/**
 * The built-in kinds' OpenAPI v3 schemas (Kubernetes' published ones): `group/version/Kind` → the name of its
 * component schema, and every component schema by name. The server that serves them supplies them.
 */
export interface BuiltinSchemas {
  kinds: Record<string, string>;
  schemas: Record<string, Schema>;
}

const SCHEMA_REF_PREFIX = '#/components/schemas/';
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const SERVER_VERSION = 'v1.32.0';
const TITLE = 'Kubernetes (tmc simulator)';

// The descriptions Kubernetes gives every object's apiVersion, kind and metadata (also in custom resources' schemas).
export const API_VERSION_DESCRIPTION =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
export const KIND_DESCRIPTION =
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';
export const METADATA_DESCRIPTION =
  "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

export function gvkKey(gvk: { group: string; version: string; kind: string }): string {
  return `${gvk.group}/${gvk.version}/${gvk.kind}`;
}

function gvPath(gv: string): string {
  return gv.includes('/') ? `apis/${gv}` : `api/${gv}`;
}

/** A stable digest of what a group version's document is built from: kubectl caches documents by this hash. */
function documentHash(types: ResourceInfo[]): string {
  return createHash('sha256').update(JSON.stringify(types)).digest('hex').slice(0, 32).toUpperCase();
}

/** `/openapi/v3`: one document per group version. */
export function openApiV3Root(types: ResourceInfo[], prefix: string): Record<string, unknown> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [gv, list] of groupVersions(types)) {
    const p = gvPath(gv);
    paths[p] = { serverRelativeURL: `${prefix}/openapi/v3/${p}?hash=${documentHash(list)}` };
  }
  return { paths };
}

/** The component schemas `roots` name, with every schema they reference, transitively. */
function withReferences(roots: string[], builtin: BuiltinSchemas, into: Record<string, unknown>): void {
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    const schema = builtin.schemas[name];
    if (into[name] || !schema) continue;
    into[name] = schema;
    for (const match of JSON.stringify(schema).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) {
      if (!into[match[1]]) queue.push(match[1]);
    }
  }
}

/** A custom resource's schema as kube-apiserver publishes it: the CRD's, with apiVersion, kind and metadata. */
function customResourceSchema(t: ResourceInfo): Schema {
  const declared = t.schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const properties = (declared.properties ?? {}) as Record<string, Schema>;
  return {
    ...declared,
    properties: {
      ...properties,
      apiVersion: { type: 'string', description: API_VERSION_DESCRIPTION },
      kind: { type: 'string', description: KIND_DESCRIPTION },
      metadata: { allOf: [{ $ref: SCHEMA_REF_PREFIX + OBJECT_META }], description: METADATA_DESCRIPTION },
    },
    'x-kubernetes-group-version-kind': [{ group: t.group, version: t.version, kind: t.kind }],
  };
}

const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];
const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';

function queryParam(name: string): Schema {
  return { name, in: 'query', schema: { type: 'string', uniqueItems: true } };
}

/** The item path's operations: kubectl reads the PATCH operation's parameters and body types. */
function itemOperations(t: ResourceInfo, schemaRef: string): Schema {
  const gvk = { group: t.group, version: t.version, kind: t.kind };
  // Built-in kinds take strategic merge patches, custom resources do not: kubectl picks its patch type from this.
  const patchTypes = t.custom ? PATCH_TYPES : [...PATCH_TYPES, STRATEGIC_MERGE_PATCH];
  const ok = { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: schemaRef } } } } };
  return {
    get: { 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk, responses: ok },
    put: {
      'x-kubernetes-action': 'put',
      'x-kubernetes-group-version-kind': gvk,
      parameters: [queryParam('fieldValidation'), queryParam('fieldManager'), queryParam('dryRun')],
      requestBody: { content: { 'application/json': { schema: { $ref: schemaRef } } }, required: true },
      responses: ok,
    },
    patch: {
      'x-kubernetes-action': 'patch',
      'x-kubernetes-group-version-kind': gvk,
      parameters: [
        queryParam('fieldValidation'),
        queryParam('fieldManager'),
        queryParam('dryRun'),
        { name: 'force', in: 'query', schema: { type: 'boolean', uniqueItems: true } },
      ],
      requestBody: {
        content: Object.fromEntries(patchTypes.map((type) => [type, { schema: { type: 'object' } }])),
        required: true,
      },
      responses: ok,
    },
    parameters: [
      { name: 'name', in: 'path', required: true, schema: { type: 'string', uniqueItems: true } },
      ...(t.namespaced
        ? [{ name: 'namespace', in: 'path', required: true, schema: { type: 'string', uniqueItems: true } }]
        : []),
    ],
  };
}

/**
 * A group version's OpenAPI v3 document, as kube-apiserver serves it: each kind's schema (the published Kubernetes
 * schema for a built-in kind, the CRD's for a custom resource) with every schema it references, and each kind's
 * item path whose PATCH operation declares `fieldValidation` (kubectl then leaves validation to the server) and
 * the patch types the kind accepts. `kubectl explain` reads these schemas.
 */
export function openApiV3Document(
  types: ResourceInfo[],
  groupVersion: string,
  builtin: BuiltinSchemas,
): Record<string, unknown> | undefined {
  const list = groupVersions(types).get(groupVersion);
  if (!list) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const t of list) {
    const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
    const item = t.namespaced ? `${base}/namespaces/{namespace}/${t.resource}/{name}` : `${base}/${t.resource}/{name}`;
    let schemaName = t.custom ? undefined : builtin.kinds[gvkKey(t)];
    if (schemaName) {
      withReferences([schemaName], builtin, schemas);
    } else {
      schemaName = `${t.group.split('.').reverse().join('.')}.${t.version}.${t.kind}`;
      schemas[schemaName] = customResourceSchema(t);
      withReferences([OBJECT_META], builtin, schemas);
    }
    paths[item] = itemOperations(t, SCHEMA_REF_PREFIX + schemaName);
  }
  return {
    openapi: '3.0.0',
    info: { title: TITLE, version: SERVER_VERSION },
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
  const title = TITLE;
  const version = SERVER_VERSION;
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
