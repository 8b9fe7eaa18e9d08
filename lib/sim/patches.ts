import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { ApiError } from '../kube-api/api-error';
import { mergeKeyFor, SET_LISTS } from './merge-keys';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v) as Json;
  }
  return out;
}

/** RFC 6902 JSON patch; a failed `test` or a bad path is a 422 like kube-apiserver's. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw ApiError.badRequest('json patch must be an array of operations');
  try {
    return fastJsonPatch.applyPatch(structuredClone(target), ops as Operation[], true, false).newDocument;
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${message}`);
  }
}

/**
 * Strategic merge patch, enough for kubectl's client-side apply and `kubectl patch --type strategic` of the built-in
 * kinds: keyed lists merge by their patch merge key, `$patch: delete|replace`, `$retainKeys`,
 * `$deleteFromPrimitiveList/<field>`; `$setElementOrder/<field>` is accepted and ordering left as stored.
 */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return rest;
  }
  if (patch.$patch === 'delete') return undefined;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [field, value] of Object.entries(patch)) {
    if (field === '$patch' || field === '$retainKeys' || field.startsWith('$setElementOrder/')) continue;
    if (field.startsWith('$deleteFromPrimitiveList/')) {
      const name = field.slice('$deleteFromPrimitiveList/'.length);
      const remove = Array.isArray(value) ? value : [];
      const current = Array.isArray(out[name]) ? (out[name] as Json[]) : [];
      out[name] = current.filter((v) => !remove.includes(v));
      continue;
    }
    if (value === null) {
      delete out[field];
    } else if (Array.isArray(value)) {
      const mergeKey = mergeKeyFor(
        field,
        value.find(isObject) ?? (Array.isArray(out[field]) ? (out[field] as Json[])[0] : undefined),
      );
      if (mergeKey && Array.isArray(out[field])) out[field] = mergeKeyedList(out[field] as Json[], value, mergeKey);
      else if (SET_LISTS.has(field) && Array.isArray(out[field]))
        out[field] = [...new Set([...(out[field] as Json[]), ...value])];
      else out[field] = value.map((item) => (isObject(item) ? (strategicMergePatch(undefined, item) as Json) : item));
    } else if (isObject(value)) {
      const merged = strategicMergePatch(out[field], value);
      if (merged === undefined) delete out[field];
      else out[field] = merged as Json;
    } else {
      out[field] = value;
    }
  }
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys as string[]);
    for (const k of Object.keys(out)) if (!keep.has(k)) delete out[k];
  }
  return out;
}

function mergeKeyedList(base: Json[], patch: Json[], mergeKey: string): Json[] {
  const out = [...base];
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = out.findIndex((b) => isObject(b) && b[mergeKey] === item[mergeKey]);
    if (item.$patch === 'delete') {
      if (index >= 0) out.splice(index, 1);
    } else if (index >= 0) {
      out[index] = strategicMergePatch(out[index], item) as Json;
    } else {
      out.push(strategicMergePatch(undefined, item) as Json);
    }
  }
  return out;
}
