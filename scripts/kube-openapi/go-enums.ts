/**
 * The enum information kube-apiserver's OpenAPI v3 carries (`enum`, and "Possible enum values" in a field's
 * description), read from the Go API types the way kube-openapi's openapi-gen reads them (pkg/generators/enum.go,
 * openapi.go at the kube-openapi version Kubernetes 1.32 vendors): a string type whose doc comment has `+enum`, its
 * values every typed string constant of that type, and each struct field of that type (or a pointer to it) gets the
 * values and the description lines; a slice or map of it gets the values on its items. Kubernetes' published
 * swagger.json is built with the OpenAPIEnums gate off, so it has neither; a running 1.32 server has both.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

interface EnumValue {
  name: string;
  value: string;
  comment: string;
}

/** Where an enum applies inside a property's schema. */
export type EnumShape = 'scalar' | 'items' | 'additionalProperties';

export interface EnumField {
  shape: EnumShape;
  /** Sorted, as `ValueStrings` sorts them. */
  values: string[];
  /** kube-openapi's description lines ("Possible enum values:", then one per value), for a scalar field. */
  descriptionLines: string[];
  /** The field's comment has `---`: openapi-gen stops its description there, enum lines included. */
  descriptionCut: boolean;
}

/** OpenAPI definition name (`io.k8s.api.apps.v1.DeploymentStrategy`) → JSON property name → its enum. */
export type EnumFields = Map<string, Map<string, EnumField>>;

interface ParsedField {
  /** The Go struct the field is declared in (`k8s.io/api/core/v1.Container`). */
  struct: string;
  json: string;
  shape: EnumShape;
  type: string;
  cut: boolean;
}

const SKIPPED_FILES = /(_test\.go|\.pb\.go|^zz_generated\..*|_swagger_doc_generated\.go)$/;

function goFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      if (entry !== 'testdata') out.push(...goFiles(path));
    } else if (entry.endsWith('.go') && !SKIPPED_FILES.test(entry)) out.push(path);
  }
  return out;
}

/** A `//` comment line's text as go/ast's CommentGroup.Text gives it: the marker and one space removed. */
function commentText(line: string): string {
  const text = line.trim().slice(2);
  return text.startsWith(' ') ? text.slice(1) : text;
}

/** `k8s.io/api/core/v1` → `io.k8s.api.core.v1`, as Kubernetes names OpenAPI definitions. */
function definitionPrefix(importPath: string): string {
  const [domain, ...rest] = importPath.split('/');
  return [...domain.split('.').reverse(), ...rest].join('.');
}

/** A Go interpreted string literal's value (the API's enum values are plain ASCII). */
function goString(literal: string): string {
  return JSON.parse(literal) as string;
}

/** Reads one Go module's API types: enum types, their constants, and the struct fields that use them. */
function readModule(
  root: string,
  enums: Map<string, EnumValue[]>,
  constants: Array<{ type: string; value: EnumValue }>,
  fields: ParsedField[],
  embeds: Array<{ struct: string; embedded: string }>,
): void {
  const module = /^module\s+(\S+)/m.exec(readFileSync(join(root, 'go.mod'), 'utf8'))?.[1];
  if (!module) throw new Error(`${root}/go.mod names no module`);
  for (const file of goFiles(root)) {
    const dir = relative(root, join(file, '..'));
    const pkg = dir ? `${module}/${dir}` : module;
    const lines = readFileSync(file, 'utf8').split('\n');
    const imports = new Map<string, string>();
    const resolve = (expr: string): string => {
      const dot = expr.indexOf('.');
      if (dot < 0) return `${pkg}.${expr}`;
      const path = imports.get(expr.slice(0, dot));
      return path ? `${path}.${expr.slice(dot + 1)}` : expr;
    };
    let comment: string[] = [];
    let block: 'import' | 'const' | 'struct' | undefined;
    let struct = '';
    for (const raw of lines) {
      const line = raw.replace(/\s+$/, '');
      const trimmed = line.trim();
      if (trimmed.startsWith('//')) {
        comment.push(commentText(line));
        continue;
      }
      const doc = comment;
      comment = [];
      if (trimmed === '') continue;
      if (block === 'import') {
        if (trimmed === ')') block = undefined;
        else {
          const m = /^(?:(\w+)\s+)?"([^"]+)"/.exec(trimmed);
          if (m) imports.set(m[1] ?? m[2].split('/').pop()!, m[2]);
        }
        continue;
      }
      if (block === 'const') {
        if (trimmed === ')') {
          block = undefined;
          continue;
        }
        const typed = /^(\w+)\s+([\w.]+)\s*=\s*("(?:[^"\\]|\\.)*")/.exec(trimmed);
        const converted = /^(\w+)\s*=\s*([\w.]+)\(("(?:[^"\\]|\\.)*")\)/.exec(trimmed);
        const m = typed ?? converted;
        if (m)
          constants.push({ type: resolve(m[2]), value: { name: m[1], value: goString(m[3]), comment: doc.join(' ') } });
        continue;
      }
      if (block === 'struct') {
        if (line === '}') {
          block = undefined;
          continue;
        }
        // An embedded struct (`EphemeralContainerCommon `json:",inline"``): its fields are the embedder's in OpenAPI.
        const inline = /^\t\*?([\w.]+)\s+`[^`]*json:",inline"/.exec(line);
        if (inline) embeds.push({ struct, embedded: resolve(inline[1]) });
        const m = /^\t(\w+)\s+([^\s`]+)\s+`[^`]*json:"([^"]*)"/.exec(line);
        const json = m?.[3].split(',')[0];
        if (!m || !json || json === '-') continue;
        let type = m[2].replace(/^\*/, '');
        let shape: EnumShape = 'scalar';
        if (type.startsWith('[]')) {
          shape = 'items';
          type = type.slice(2).replace(/^\*/, '');
        } else if (type.startsWith('map[string]')) {
          shape = 'additionalProperties';
          type = type.slice('map[string]'.length).replace(/^\*/, '');
        }
        if (/^[\w.]+$/.test(type)) fields.push({ struct, json, shape, type: resolve(type), cut: doc.includes('---') });
        continue;
      }
      if (trimmed === 'import (') block = 'import';
      else if (trimmed === 'const (') block = 'const';
      else if (/^import\s+/.test(trimmed)) {
        const m = /^import\s+(?:(\w+)\s+)?"([^"]+)"/.exec(trimmed);
        if (m) imports.set(m[1] ?? m[2].split('/').pop()!, m[2]);
      } else if (/^const\s+\w+\s+[\w.]+\s*=\s*"/.test(trimmed)) {
        const m = /^const\s+(\w+)\s+([\w.]+)\s*=\s*("(?:[^"\\]|\\.)*")/.exec(trimmed);
        if (m)
          constants.push({ type: resolve(m[2]), value: { name: m[1], value: goString(m[3]), comment: doc.join(' ') } });
      } else {
        const type = /^type\s+(\w+)\s+(string|struct\s*\{)/.exec(line);
        if (type?.[2] === 'string' && doc.some((l) => /^\+enum\b/.test(l.trim()))) enums.set(`${pkg}.${type[1]}`, []);
        else if (type && type[2] !== 'string') {
          block = 'struct';
          struct = `${pkg}.${type[1]}`;
        }
      }
    }
  }
}

/** kube-openapi's enumValue.Description: the constant's comment less its leading name, whitespace collapsed. */
function describeValue(v: EnumValue): string {
  let comment = v.comment.trim();
  if (comment.startsWith(v.name)) comment = comment.slice(v.name.length);
  comment = comment.trim().replace(/\s+/g, ' ');
  return ` - \`${JSON.stringify(v.value)}\` ${comment}`.replace(/ +$/, '');
}

/** Every enum-typed field of the Go modules at `roots` (each a directory with its go.mod). */
export function readGoEnums(roots: string[]): EnumFields {
  const enums = new Map<string, EnumValue[]>();
  const constants: Array<{ type: string; value: EnumValue }> = [];
  const fields: ParsedField[] = [];
  const embeds: Array<{ struct: string; embedded: string }> = [];
  for (const root of roots) readModule(root, enums, constants, fields, embeds);
  // Embedded structs' fields belong to the embedder too (to any depth).
  for (let changed = true; changed;) {
    changed = false;
    for (const { struct, embedded } of embeds)
      for (const f of fields.filter((x) => x.struct === embedded))
        if (!fields.some((x) => x.struct === struct && x.json === f.json)) {
          fields.push({ ...f, struct });
          changed = true;
        }
  }
  for (const { type, value } of constants) {
    const values = enums.get(type);
    if (!values) continue;
    // enumType.addIfNotPresent: one value once, the longer comment (then the smaller) wins.
    const i = values.findIndex((v) => v.value === value.value);
    if (i < 0) values.push(value);
    else if (
      values[i].comment.length < value.comment.length ||
      (values[i].comment.length === value.comment.length && values[i].comment > value.comment)
    )
      values[i] = value;
  }
  const out: EnumFields = new Map();
  const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  for (const field of fields) {
    const values = enums.get(field.type);
    if (!values || values.length === 0) continue;
    const dot = field.struct.lastIndexOf('.');
    const definition = `${definitionPrefix(field.struct.slice(0, dot))}.${field.struct.slice(dot + 1)}`;
    const byDefinition = out.get(definition) ?? new Map<string, EnumField>();
    byDefinition.set(field.json, {
      shape: field.shape,
      values: values.map((v) => v.value).sort((a, b) => byteOrder(JSON.stringify(a), JSON.stringify(b))),
      descriptionLines: ['Possible enum values:', ...values.map(describeValue).sort(byteOrder)],
      descriptionCut: field.cut,
    });
    out.set(definition, byDefinition);
  }
  return out;
}
