// A bounded memo in front of dynalite's expression parsers (PEG.js, db/conditionParser.js, updateParser.js,
// projectionParser.js), which dynalite runs on every request: the same few condition and update expressions arrive
// thousands of times with different values. The parse result embeds the request's attribute values and depends on
// the attribute names and on the values' types, so the memo keeps a template: the tree with each value replaced by a
// marker, keyed on the parser, the expression, the names and the value types, and fills in the request's own values
// on a hit, deleting the same keys from the unused-name and unused-value sets the parser would. attribute_type
// (which checks its type name's value) and failed parses are never cached: they go to the parser every time. BETWEEN
// compares its two bounds while parsing (conditionParser's checkBetweenArgs: same type, lower ≤ upper); with
// `between: true` it is cached too, and a hit whose filled-in bounds fail that same check goes to the parser, which
// gives the error.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const VALUE_MARKER = Symbol('dynalite expression value');
const VALUE_DEPENDENT = /between|attribute_type/i;
const TYPE_DEPENDENT = /attribute_type/i;
const IMMEDIATE_TYPES = ['S', 'N', 'B', 'NULL', 'BOOL', 'SS', 'NS', 'BS', 'L', 'M'];

/** conditionParser's getImmediateType: an attribute value's type, null for a path, a function or a size(). */
function immediateTypeOf(val) {
  if (!val || typeof val !== 'object' || Array.isArray(val) || val.attrType) return null;
  return IMMEDIATE_TYPES.find((type) => val[type] != null) ?? null;
}

/** Whether any BETWEEN of a filled-in tree would fail conditionParser's checkBetweenArgs with these values. */
function failsBetweenCheck(node, compare) {
  if (node === null || typeof node !== 'object') return false;
  if (Array.isArray(node)) return node.some((child) => failsBetweenCheck(child, compare));
  if (node.type === 'between' && Array.isArray(node.args)) {
    const [, low, high] = node.args;
    const lowType = immediateTypeOf(low);
    const highType = immediateTypeOf(high);
    if (lowType && highType && (lowType !== highType || compare('GT', low, high))) return true;
  }
  return Object.keys(node).some((k) => failsBetweenCheck(node[k], compare));
}

function typeOf(value) {
  if (value === null || typeof value !== 'object') return '?';
  return Object.keys(value).join(',');
}

function keyOf(name, expression, context) {
  const vals = context.attrVals ?? {};
  const valTypes = Object.keys(vals)
    .sort()
    .map((k) => `${k}=${typeOf(vals[k])}`)
    .join(';');
  return `${name}\u0000${context.isKeyCondition ? 'K' : ''}\u0000${expression}\u0000${JSON.stringify(context.attrNames ?? null)}\u0000${valTypes}`;
}

/** The result with every attribute value object (by identity) replaced by a marker naming its key. */
function toTemplate(node, valueKeys) {
  if (node === null || typeof node !== 'object') return node;
  const key = valueKeys.get(node);
  if (key !== undefined) return { [VALUE_MARKER]: key };
  if (Array.isArray(node)) return node.map((child) => toTemplate(child, valueKeys));
  const out = Object.create(Object.getPrototypeOf(node));
  for (const k of Object.keys(node)) out[k] = toTemplate(node[k], valueKeys);
  return out;
}

function fromTemplate(node, vals) {
  if (node === null || typeof node !== 'object') return node;
  if (Object.hasOwn(node, VALUE_MARKER)) return vals[node[VALUE_MARKER]];
  if (Array.isArray(node)) return node.map((child) => fromTemplate(child, vals));
  const out = Object.create(Object.getPrototypeOf(node));
  for (const k of Object.keys(node)) out[k] = fromTemplate(node[k], vals);
  return out;
}

/** Wraps one parser module's `parse`; `stats` counts hits and misses. Returns the cache for tests. */
export function memoizeParser(
  parserModule,
  name,
  { maxEntries = 1000, stats = { hits: 0, misses: 0 }, between = false } = {},
) {
  const parse = parserModule.parse;
  const cache = new Map();
  const uncacheable = between ? TYPE_DEPENDENT : VALUE_DEPENDENT;
  parserModule.parse = function memoizedParse(input, options) {
    const context = options?.context;
    if (typeof input !== 'string' || context === undefined || uncacheable.test(input))
      return parse.call(this, input, options);
    const key = keyOf(name, input, context);
    const hit = cache.get(key);
    if (hit !== undefined && hit.between) {
      const filled = fromTemplate(hit.template, context.attrVals ?? {});
      // Bounds out of order or of two types: the parser's own error, and the unused sets as it leaves them.
      if (typeof context.compare !== 'function' || failsBetweenCheck(filled, context.compare)) {
        stats.misses += 1;
        return parse.call(this, input, options);
      }
      cache.delete(key);
      cache.set(key, hit);
      stats.hits += 1;
      for (const k of hit.usedNames) delete context.unusedAttrNames?.[k];
      for (const k of hit.usedVals) delete context.unusedAttrVals?.[k];
      return filled;
    }
    if (hit !== undefined) {
      cache.delete(key);
      cache.set(key, hit);
      stats.hits += 1;
      for (const k of hit.usedNames) delete context.unusedAttrNames?.[k];
      for (const k of hit.usedVals) delete context.unusedAttrVals?.[k];
      return fromTemplate(hit.template, context.attrVals ?? {});
    }
    stats.misses += 1;
    const namesBefore = new Set(Object.keys(context.unusedAttrNames ?? {}));
    const valsBefore = new Set(Object.keys(context.unusedAttrVals ?? {}));
    const result = parse.call(this, input, options);
    // A string is the parser's own error message (its checks return them): not cached.
    if (result === null || typeof result !== 'object') return result;
    const valueKeys = new Map(Object.entries(context.attrVals ?? {}).map(([k, v]) => [v, k]));
    cache.set(key, {
      template: toTemplate(result, valueKeys),
      between: VALUE_DEPENDENT.test(input),
      usedNames: [...namesBefore].filter((k) => !Object.hasOwn(context.unusedAttrNames ?? {}, k)),
      usedVals: [...valsBefore].filter((k) => !Object.hasOwn(context.unusedAttrVals ?? {}, k)),
    });
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value);
    return result;
  };
  return { cache, stats, restore: () => (parserModule.parse = parse) };
}

/** Hits and misses of the memo installed in this thread. */
const installed = { hits: 0, misses: 0 };
let installedOnce = false;

/** Installs the memo on dynalite's three parsers (the modules its validations call `parse` on at request time). */
export function installDynaliteExpressionCache(options = {}) {
  if (installedOnce) return;
  installedOnce = true;
  for (const name of ['conditionParser', 'updateParser', 'projectionParser'])
    memoizeParser(require(`dynalite/db/${name}.js`), name, { ...options, stats: installed });
}

/**
 * For EmulatorThread.load: `snapshot()` returns this thread's hits and misses (both 0 when the memo is off).
 * @public loaded by name (test/integration/local/dynalite-expression-cache.test.ts)
 */
export function expressionCacheStats() {
  return { snapshot: () => ({ ...installed }) };
}
