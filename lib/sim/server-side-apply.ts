import { ApiError } from '../kube-api/api-error';
import type { KubeObject } from '../kube/object';
import { mergeKeyFor } from './merge-keys';
import { isObject } from './patches';

/**
 * Server-side apply with field ownership, in the FieldsV1 format kube-apiserver writes in managedFields
 * (`f:<field>`, `k:{"name":"x"}` for keyed list items, `.` for the item itself). Written by hand: structured-merge-diff
 * has no JavaScript port. Keyed lists use the built-in merge keys; other lists are atomic, as in kube-apiserver.
 */

type Path = string[];
const SEP = '\u0000';

interface ManagedEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

const SERVER_OWNED_META = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'managedFields',
  'selfLink',
]);

/** Leaf field paths of an object (what an applier or updater states). */
export function fieldPaths(obj: Record<string, unknown>, includeStatus: boolean): Set<string> {
  const out = new Set<string>();
  const walk = (value: unknown, path: Path, field: string): void => {
    if (isObject(value)) {
      const keys = Object.keys(value);
      if (keys.length === 0) {
        out.add(path.join(SEP));
        return;
      }
      for (const k of keys) walk(value[k], [...path, `f:${k}`], k);
      return;
    }
    if (Array.isArray(value)) {
      const mk = mergeKeyFor(field, value.find(isObject));
      if (mk && value.every((item) => isObject(item) && item[mk] !== undefined)) {
        for (const item of value as Array<Record<string, unknown>>) {
          const itemPath = [...path, `k:${JSON.stringify({ [mk]: item[mk] })}`];
          out.add([...itemPath, '.'].join(SEP));
          for (const k of Object.keys(item)) walk(item[k], [...itemPath, `f:${k}`], k);
        }
        return;
      }
    }
    out.add(path.join(SEP));
  };
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (k === 'status' && !includeStatus) continue;
    if (k === 'metadata' && isObject(v)) {
      for (const [mk, mv] of Object.entries(v)) if (!SERVER_OWNED_META.has(mk)) walk(mv, ['f:metadata', `f:${mk}`], mk);
      continue;
    }
    walk(v, [`f:${k}`], k);
  }
  return out;
}

export function toFieldsV1(paths: Iterable<string>): Record<string, unknown> {
  const root: Record<string, any> = {};
  for (const p of paths) {
    let node = root;
    for (const seg of p.split(SEP)) node = node[seg] ??= {};
  }
  return root;
}

export function fromFieldsV1(fields: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (node: unknown, path: Path): void => {
    const entries = isObject(node) ? Object.entries(node) : [];
    if (entries.length === 0 && path.length > 0) out.add(path.join(SEP));
    for (const [k, v] of entries) {
      if (k === '.') {
        out.add([...path, '.'].join(SEP));
        continue;
      }
      walk(v, [...path, k]);
    }
  };
  walk(fields, []);
  return out;
}

function step(value: unknown, seg: string): unknown {
  if (seg.startsWith('f:')) return isObject(value) ? value[seg.slice(2)] : undefined;
  if (seg.startsWith('k:') && Array.isArray(value)) {
    const keyObj = JSON.parse(seg.slice(2)) as Record<string, unknown>;
    const [[k, v]] = Object.entries(keyObj);
    return value.find((item) => isObject(item) && item[k] === v);
  }
  return value;
}

function valueAt(obj: unknown, path: string): unknown {
  let v = obj;
  for (const seg of path.split(SEP)) {
    if (seg === '.') return v === undefined ? undefined : true;
    v = step(v, seg);
    if (v === undefined) return undefined;
  }
  return v;
}

function removeAt(obj: Record<string, unknown>, path: string): void {
  const segs = path.split(SEP).filter((s) => s !== '.');
  let parent: unknown = obj;
  for (let i = 0; i < segs.length - 1; i++) parent = step(parent, segs[i]);
  const last = segs[segs.length - 1];
  if (last.startsWith('f:') && isObject(parent)) {
    delete parent[last.slice(2)];
  } else if (last.startsWith('k:') && Array.isArray(parent)) {
    const idx = parent.indexOf(step(parent, last));
    if (idx >= 0) parent.splice(idx, 1);
  }
}

/** Merges an applied configuration into the live object: maps merge, keyed lists merge by key, other lists replace. */
function mergeApplied(live: unknown, applied: unknown, field: string): unknown {
  if (isObject(applied)) {
    const out: Record<string, unknown> = isObject(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(applied)) out[k] = mergeApplied(out[k], v, k);
    return out;
  }
  if (Array.isArray(applied) && Array.isArray(live)) {
    const mk = mergeKeyFor(field, applied.find(isObject));
    if (mk) {
      const out = [...live];
      for (const item of applied) {
        if (!isObject(item)) continue;
        const idx = out.findIndex((l) => isObject(l) && l[mk] === item[mk]);
        if (idx >= 0) out[idx] = mergeApplied(out[idx], item, '');
        else out.push(item);
      }
      return out;
    }
  }
  return structuredClone(applied);
}

function entries(obj: KubeObject | undefined): ManagedEntry[] {
  const raw = obj?.metadata.managedFields;
  return Array.isArray(raw) ? (raw as unknown as ManagedEntry[]) : [];
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function describePath(path: string): string {
  return path
    .split(SEP)
    .filter((s) => s !== '.')
    .map((s) =>
      s.startsWith('f:')
        ? `.${s.slice(2)}`
        : `[${s
            .slice(2)
            .replace(/^\{|\}$/g, '')
            .replace(/"/g, '')
            .replace(':', '=')}]`,
    )
    .join('');
}

/**
 * Applies `applied` as `manager`. Fields another manager owns and whose value would change are conflicts: a 409
 * listing them unless `force`, which takes them over. Fields this manager applied before and no longer states are
 * removed unless another manager also owns them.
 */
export function serverSideApply(
  live: KubeObject | undefined,
  applied: KubeObject,
  manager: string,
  force: boolean,
  includeStatus: boolean,
): KubeObject {
  const stated = fieldPaths(applied, includeStatus);
  const managed = entries(live).map((e) => ({ ...e, paths: fromFieldsV1(e.fieldsV1) }));
  const conflicts: Array<{ manager: string; path: string }> = [];
  for (const e of managed) {
    if (e.manager === manager && e.operation === 'Apply') continue;
    for (const p of stated) {
      if (!e.paths.has(p)) continue;
      if (JSON.stringify(valueAt(live, p)) !== JSON.stringify(valueAt(applied, p)))
        conflicts.push({ manager: e.manager, path: p });
    }
  }
  if (conflicts.length > 0 && !force) {
    const lines = conflicts.map(
      (c) => `conflict with "${c.manager}" using ${applied.apiVersion}: ${describePath(c.path)}`,
    );
    throw new ApiError(
      409,
      'Conflict',
      `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${lines.join('\n')}`,
      {
        causes: conflicts.map((c) => ({
          reason: 'FieldManagerConflict',
          message: `conflict with "${c.manager}"`,
          field: describePath(c.path),
        })),
      },
    );
  }
  const mine = managed.find((e) => e.manager === manager && e.operation === 'Apply');
  const base: Record<string, unknown> = live
    ? structuredClone(live)
    : { apiVersion: applied.apiVersion, kind: applied.kind, metadata: {} };
  const { metadata: appliedMeta, ...appliedRest } = applied;
  const merged = mergeApplied(
    base,
    {
      ...appliedRest,
      metadata: Object.fromEntries(
        Object.entries(appliedMeta).filter(([k]) => !SERVER_OWNED_META.has(k) || k === 'name' || k === 'namespace'),
      ),
    },
    '',
  ) as KubeObject;
  if (mine) {
    for (const p of mine.paths) {
      if (stated.has(p)) continue;
      if (managed.some((e) => e !== mine && e.paths.has(p))) continue;
      removeAt(merged as unknown as Record<string, unknown>, p);
    }
  }
  const others = managed
    .filter((e) => !(e.manager === manager && e.operation === 'Apply'))
    .map((e) => {
      if (force) for (const c of conflicts) if (c.manager === e.manager) e.paths.delete(c.path);
      return e;
    })
    .filter((e) => e.paths.size > 0)
    .map(({ paths, ...e }) => ({ ...e, fieldsV1: toFieldsV1(paths) }));
  merged.metadata.managedFields = [
    ...others,
    {
      manager,
      operation: 'Apply',
      apiVersion: applied.apiVersion,
      time: now(),
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(stated),
    },
  ] as unknown as Array<Record<string, unknown>>;
  return merged;
}

/** Records an Update by `manager`: it takes over every field whose value it changed (no conflicts on updates). */
export function recordUpdate(
  previous: KubeObject | undefined,
  next: KubeObject,
  manager: string,
  subresource?: string,
): KubeObject {
  const prevEntries = entries(previous).map((e) => ({ ...e, paths: fromFieldsV1(e.fieldsV1) }));
  const nextPaths = fieldPaths(next, subresource === 'status');
  const changed = new Set<string>();
  for (const p of nextPaths) {
    if (subresource === 'status' ? !p.startsWith('f:status') : p.startsWith('f:status')) continue;
    if (JSON.stringify(valueAt(previous, p)) !== JSON.stringify(valueAt(next, p))) changed.add(p);
  }
  if (changed.size === 0 && previous)
    return { ...next, metadata: { ...next.metadata, managedFields: previous.metadata.managedFields } };
  const mine = prevEntries.find(
    (e) => e.manager === manager && e.operation === 'Update' && (e.subresource ?? '') === (subresource ?? ''),
  );
  const minePaths = new Set([...(mine?.paths ?? []), ...changed].filter((p) => nextPaths.has(p)));
  const others = prevEntries
    .filter((e) => e !== mine)
    .map((e) => {
      for (const p of changed) e.paths.delete(p);
      for (const p of [...e.paths]) if (!nextPaths.has(p) && !p.endsWith('.')) e.paths.delete(p);
      return e;
    })
    .filter((e) => e.paths.size > 0)
    .map(({ paths, ...e }) => ({ ...e, fieldsV1: toFieldsV1(paths) }));
  const entry: ManagedEntry = {
    manager,
    operation: 'Update',
    apiVersion: next.apiVersion,
    time: now(),
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(minePaths),
  };
  if (subresource) entry.subresource = subresource;
  return {
    ...next,
    metadata: {
      ...next.metadata,
      managedFields: [...others, ...(minePaths.size > 0 ? [entry] : [])] as unknown as Array<Record<string, unknown>>,
    },
  };
}
