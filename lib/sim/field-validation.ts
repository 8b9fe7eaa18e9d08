import type { ServerResponse } from 'node:http';
import { ApiError } from '../kube-api/api-error';
import { gvkKey } from '../kube-api/openapi';
import type { ResourceInfo } from '../kube-api/resource-info';
import type { KubeObject } from '../kube/object';
import { builtinOpenApi, type BuiltinOpenApi } from './openapi/builtin-schemas';

type Schema = Record<string, unknown>;

/** `fieldValidation` of a write: absent means Warn, as kube-apiserver 1.32 defaults it. */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

const REF_PREFIX = '#/components/schemas/';
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

export function fieldValidationOf(url: URL): FieldValidation {
  const value = url.searchParams.get('fieldValidation');
  if (value === 'Strict' || value === 'Ignore') return value;
  if (value === null || value === '' || value === 'Warn') return 'Warn';
  throw ApiError.badRequest(`fieldValidation parameter unsupported: "${value}"; expected one of [Strict Warn Ignore]`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A field's schema with `$ref` and kube's `allOf: [{$ref}]` wrapping followed. */
function resolve(node: Schema, spec: BuiltinOpenApi): Schema {
  let current = node;
  for (let depth = 0; depth < 8; depth++) {
    const ref =
      typeof current.$ref === 'string'
        ? current.$ref
        : Array.isArray(current.allOf) && current.allOf.length === 1 && isRecord(current.allOf[0])
          ? current.allOf[0].$ref
          : undefined;
    if (typeof ref !== 'string' || !ref.startsWith(REF_PREFIX)) return current;
    const target = spec.schemas[ref.slice(REF_PREFIX.length)];
    if (!target) return {};
    current = target;
  }
  return current;
}

/** How a list element is named in a path: by its keys for an associative list (server-side apply's paths). */
type ListPath = (schema: Schema, item: unknown, index: number) => string;

const indexPath: ListPath = (_schema, _item, index) => `[${index}]`;

const keyedPath: ListPath = (schema, item, index) => {
  const keys = schema['x-kubernetes-list-map-keys'];
  if (schema['x-kubernetes-list-type'] !== 'map' || !Array.isArray(keys) || !isRecord(item)) return `[${index}]`;
  return `[${keys.map((k) => `${String(k)}=${JSON.stringify(item[String(k)])}`).join(',')}]`;
};

interface Walk {
  spec: BuiltinOpenApi;
  listPath: ListPath;
  /** Remove unknown fields from the value as they are found (what kube's decoder does to a built-in kind). */
  prune: boolean;
  unknown: string[];
}

function walk(value: unknown, node: Schema, path: string, w: Walk): void {
  const schema = resolve(node, w.spec);
  if (schema['x-kubernetes-preserve-unknown-fields'] === true) return;
  if (Array.isArray(value)) {
    if (schema.type !== 'array' || !isRecord(schema.items)) return;
    const items = schema.items;
    value.forEach((item, i) => walk(item, items, `${path}${w.listPath(schema, item, i)}`, w));
    return;
  }
  if (!isRecord(value) || schema.type !== 'object') return;
  const properties = isRecord(schema.properties) ? schema.properties : undefined;
  const additional = isRecord(schema.additionalProperties) ? schema.additionalProperties : undefined;
  // An object schema that names no fields (RawExtension, FieldsV1, JSON) takes anything.
  if (!properties && !additional) return;
  for (const key of Object.keys(value)) {
    const field = properties?.[key];
    const child = path ? `${path}.${key}` : key;
    if (isRecord(field)) walk(value[key], field, child, w);
    else if (additional) walk(value[key], additional, child, w);
    else {
      w.unknown.push(child);
      if (w.prune) delete value[key];
    }
  }
}

/** The schema an object of this kind is checked against, or none (a custom resource whose CRD has no schema). */
function rootSchema(info: ResourceInfo, spec: BuiltinOpenApi): Schema | undefined {
  if (!info.custom) {
    const name = spec.kinds[gvkKey(info)];
    return name ? spec.schemas[name] : undefined;
  }
  if (!info.schema) return undefined;
  const properties = isRecord(info.schema.properties) ? info.schema.properties : {};
  return {
    ...info.schema,
    type: 'object',
    properties: {
      ...properties,
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { $ref: REF_PREFIX + OBJECT_META },
    },
  };
}

/**
 * The fields of `obj` its kind's schema does not declare, in kube's notation (`spec.template.spec.containers[0].x`).
 * With `prune`, they are also removed from `obj`.
 */
export function unknownFields(
  info: ResourceInfo,
  obj: unknown,
  options: { prune?: boolean; keyedLists?: boolean } = {},
): string[] {
  const spec = builtinOpenApi();
  const root = rootSchema(info, spec);
  if (!root) return [];
  const w: Walk = {
    spec,
    listPath: options.keyedLists ? keyedPath : indexPath,
    prune: options.prune ?? false,
    unknown: [],
  };
  walk(obj, root, '', w);
  return w.unknown;
}

function warn(res: ServerResponse, messages: string[]): void {
  if (messages.length === 0) return;
  const existing = res.getHeader('Warning');
  const previous = Array.isArray(existing) ? existing : existing === undefined ? [] : [String(existing)];
  // A patch retried after a concurrent write checks again: each warning is sent once.
  const added = messages.map((m) => `299 - ${JSON.stringify(m)}`).filter((h) => !previous.includes(h));
  res.setHeader('Warning', [...previous, ...added]);
}

/**
 * Field validation of a create, update or patched object, as kube-apiserver 1.32 does it: unknown fields are a 400
 * under Strict, a `Warning` header each under Warn (the default), silent under Ignore; they are dropped before storing,
 * a built-in kind's because its decoder has nowhere to put them, a custom resource's because its CRD's structural
 * schema prunes them (except under `x-kubernetes-preserve-unknown-fields`). `sorted`: a patched object, whose fields
 * kube reports in key order rather than in the body's.
 */
export function checkFields(
  info: ResourceInfo,
  obj: KubeObject,
  validation: FieldValidation,
  res: ServerResponse,
  options: { sorted?: boolean } = {},
): void {
  const found = unknownFields(info, obj, { prune: validation !== 'Strict' });
  if (options.sorted) found.sort();
  if (found.length === 0 || validation === 'Ignore') return;
  const messages = found.map((path) => `unknown field ${JSON.stringify(path)}`);
  if (validation === 'Warn') return warn(res, messages);
  const decoding = `strict decoding error: ${messages.join(', ')}`;
  throw ApiError.badRequest(
    options.sorted
      ? decoding
      : `${info.kind} in version ${JSON.stringify(info.version)} cannot be handled as a ${info.kind}: ${decoding}`,
  );
}

/**
 * A server-side apply configuration's unknown fields: kube-apiserver cannot build the typed patch and answers 500
 * naming the first fields (`.spec.x: field not declared in schema`), whatever `fieldValidation` says, except
 * Ignore, which drops them.
 */
export function checkApplyFields(info: ResourceInfo, applied: KubeObject, validation: FieldValidation): void {
  const found = unknownFields(info, applied, { prune: validation === 'Ignore', keyedLists: true });
  if (found.length === 0 || validation === 'Ignore') return;
  const errors = found.map((path) => `.${path}: field not declared in schema`);
  const detail = errors.length === 1 ? errors[0] : `errors:\n  ${errors.join('\n  ')}`;
  const apiVersion = info.group ? `${info.group}/${info.version}` : info.version;
  const target = `${applied.metadata.namespace ?? ''}/${applied.metadata.name ?? ''}`;
  throw new ApiError(
    500,
    'InternalError',
    `failed to create typed patch object (${target}; ${apiVersion}, Kind=${info.kind}): ${detail}`,
  );
}
