/**
 * A deep copy of JSON data (what JSON.parse returns: plain objects, arrays, strings, numbers, booleans, null), several
 * times cheaper than `structuredClone`, which serialises and deserialises the value through V8's wire format. Own
 * enumerable keys are copied in order; an own `__proto__` key (JSON.parse makes one from `"__proto__": …`) stays an
 * own property, never the copy's prototype. Not for values JSON cannot hold (Dates, Maps, cycles).
 */
export function cloneJson<T>(value: T): T {
  return copy(value) as T;
}

function copy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    // Pushed, not preallocated: `new Array(n)` makes a holey array, which V8's JSON.stringify and array builtins take
    // slower paths for.
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) out.push(copy(value[i]));
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = copy((value as Record<string, unknown>)[key]);
    if (key === '__proto__')
      Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
    else out[key] = item;
  }
  return out;
}
