/**
 * Writes lib/sim/openapi/kube-openapi-data.ts (gzipped JSON, base64): the OpenAPI v3 schemas of every built-in kind the simulator serves
 * (lib/kube-api/resource-catalog.ts), with everything they reference, taken from Kubernetes' published OpenAPI
 * document. The simulator serves them at /openapi/v3 (so `kubectl explain` works) and checks request bodies against
 * them (unknown fields: field validation Warn/Strict).
 *
 *   npx tsx scripts/generate-kube-openapi.ts <swagger.json> <k8s.io/api dir> <k8s.io/apiextensions-apiserver dir>
 *
 * <swagger.json> is `api/openapi-spec/swagger.json` of kubernetes/kubernetes at the release the simulator imitates
 * (release-1.32; the Kubernetes Python client keeps the same file as `kubernetes/swagger.json.unprocessed`, v32.x).
 * The v2 definitions become v3 component schemas the way Kubernetes' own v3 builder writes them: `$ref` into
 * `#/components/schemas/…`, and a `$ref` with sibling keys (a field's description) wrapped in `allOf`.
 * The published swagger.json is built with the OpenAPIEnums gate off, while a running 1.32 server has it on: the enum
 * values and "Possible enum values" descriptions (what `kubectl explain` prints as ENUM) come from the Go API types
 * the swagger was generated from, the source trees of k8s.io/api and k8s.io/apiextensions-apiserver at v0.32.0
 * (`git archive v0.32.0` of kubernetes/api, and of kubernetes/apiextensions-apiserver's go.mod and pkg/apis),
 * read as openapi-gen reads them (scripts/kube-openapi/go-enums.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { BUILTIN_RESOURCES } from '../lib/kube-api/resource-catalog';
import { gvkKey } from '../lib/kube-api/openapi';
import { BUILTIN_OPENAPI_FILE, KUBE_OPENAPI_RELEASE } from '../lib/sim/openapi/builtin-schemas';
import { type EnumField, readGoEnums } from './kube-openapi/go-enums';

type Schema = Record<string, unknown>;

const SwaggerSchema = z.object({
  swagger: z.literal('2.0'),
  definitions: z.record(z.string(), z.record(z.string(), z.unknown())),
});
const GvkListSchema = z.array(z.object({ group: z.string(), version: z.string(), kind: z.string() }));

const V2_PREFIX = '#/definitions/';
const V3_PREFIX = '#/components/schemas/';

function isRecord(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One v2 schema node as a v3 node; `refs` collects the definitions it names. */
function toV3(node: unknown, refs: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((n) => toV3(n, refs));
  if (!isRecord(node)) return node;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith(V2_PREFIX)) {
      refs.add(value.slice(V2_PREFIX.length));
      out.$ref = V3_PREFIX + value.slice(V2_PREFIX.length);
    } else if (key === 'properties' && isRecord(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toV3(v, refs)]));
    } else {
      out[key] = toV3(value, refs);
    }
  }
  if (typeof out.$ref === 'string' && Object.keys(out).length > 1) {
    const { $ref, ...rest } = out;
    return { allOf: [{ $ref }], ...rest };
  }
  return out;
}

/** A property schema with its keys in the order Kubernetes writes them (sorted). */
function sortedKeys(schema: Schema): Schema {
  return Object.fromEntries(Object.entries(schema).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Adds an enum to a property as a 1.32 server with OpenAPIEnums serves it; false when the property has no slot. */
function applyEnum(property: Schema, field: EnumField): boolean {
  if (field.shape === 'scalar') {
    if (property.type !== 'string') return false;
    property.enum = field.values;
    if (!field.descriptionCut) {
      const before = typeof property.description === 'string' ? property.description : '';
      property.description = `${before ? `${before}\n\n` : ''}${field.descriptionLines.join('\n')}`;
    }
    return true;
  }
  const inner = property[field.shape];
  if (!isRecord(inner) || inner.type !== 'string') return false;
  property[field.shape] = sortedKeys({ ...inner, enum: field.values });
  return true;
}

function main(): void {
  const [source, ...goModules] = process.argv.slice(2);
  if (!source || goModules.length === 0)
    throw new Error(
      'usage: npx tsx scripts/generate-kube-openapi.ts <swagger.json> <k8s.io/api dir> <k8s.io/apiextensions-apiserver dir>',
    );
  const text = readFileSync(source, 'utf8');
  const swagger = SwaggerSchema.parse(JSON.parse(text));

  const roots: Record<string, string> = {};
  for (const [name, def] of Object.entries(swagger.definitions)) {
    const gvks = GvkListSchema.safeParse(def['x-kubernetes-group-version-kind']);
    if (!gvks.success) continue;
    for (const gvk of gvks.data) {
      if (BUILTIN_RESOURCES.some((r) => r.group === gvk.group && r.version === gvk.version && r.kind === gvk.kind)) {
        roots[gvkKey(gvk)] = name;
      }
    }
  }
  const missing = BUILTIN_RESOURCES.filter((r) => !roots[gvkKey(r)]).map((r) => gvkKey(r));
  if (missing.length > 0) throw new Error(`no definition in ${source} for ${missing.join(', ')}`);

  const schemas: Record<string, unknown> = {};
  const queue = [...new Set(Object.values(roots))];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (schemas[name]) continue;
    const def = swagger.definitions[name];
    if (!def) throw new Error(`${source}: ${name} is referenced but not defined`);
    const refs = new Set<string>();
    schemas[name] = toV3(def, refs);
    for (const ref of refs) if (!schemas[ref]) queue.push(ref);
  }

  let enums = 0;
  const unplaced: string[] = [];
  for (const [definition, fields] of readGoEnums(goModules)) {
    const schema = schemas[definition];
    if (!isRecord(schema) || !isRecord(schema.properties)) continue;
    const properties = schema.properties;
    for (const [name, field] of fields) {
      const property = properties[name];
      if (isRecord(property) && applyEnum(property, field)) {
        properties[name] = sortedKeys(property);
        enums++;
      } else unplaced.push(`${definition}.${name}`);
    }
  }
  if (unplaced.length > 0) throw new Error(`enum fields with no string property in ${source}: ${unplaced.join(', ')}`);

  const sorted = Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => (a < b ? -1 : 1)));
  const document = {
    source: `kubernetes/kubernetes api/openapi-spec/swagger.json, ${KUBE_OPENAPI_RELEASE}; enums from the Go API types (k8s.io/api, k8s.io/apiextensions-apiserver)`,
    sourceSha256: createHash('sha256').update(text).digest('hex'),
    kinds: Object.fromEntries(Object.entries(roots).sort(([a], [b]) => (a < b ? -1 : 1))),
    schemas: sorted,
  };
  const out = BUILTIN_OPENAPI_FILE;
  const data = gzipSync(JSON.stringify(document), { level: 9 }).toString('base64');
  writeFileSync(
    out,
    `// Generated by \`npx tsx scripts/generate-kube-openapi.ts <swagger.json> <k8s.io/api dir> <k8s.io/apiextensions-apiserver dir>\` (${document.source}). Do not edit.\n` +
      `export const KUBE_OPENAPI_GZIP_BASE64 =\n  '${data}';\n`,
  );
  process.stdout.write(
    `${out}: ${Object.keys(roots).length} kinds, ${Object.keys(sorted).length} schemas, ${enums} enum fields from ${source}\n`,
  );
}

main();
