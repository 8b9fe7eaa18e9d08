/**
 * Deepest nesting of objects and arrays a webhook body may have. Real Kubernetes objects stay far below it (a CRD's
 * openAPIV3Schema is among the deepest, a few dozen levels); JSON.parse copes with any depth, but everything after it
 * that walks the value recursively (zod, fingerprints, JSON.stringify, canonical hashing) would overflow the stack on
 * a body nested tens of thousands deep.
 */
export const MAX_JSON_DEPTH = 512;

export type BoundedParse =
  { ok: true; value: unknown } | { ok: false; reason: 'too-deep' | 'not-json'; message: string };

/** Whether objects and arrays in `text` nest deeper than `limit`: one scan, skipping strings, stopping at the first excess. */
export function exceedsDepth(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > limit) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}

/**
 * Whether `text` holds at most `limit` opening brackets in all, strings included. Nesting deeper than `limit` needs
 * more than that, so a body that passes cannot be too deep; the engine's own string search makes this count several
 * times cheaper than the scan above, which only bodies with many brackets still need.
 */
function bracketsAtMost(text: string, limit: number): boolean {
  let count = 0;
  for (const bracket of ['{', '[']) {
    for (let i = text.indexOf(bracket); i >= 0; i = text.indexOf(bracket, i + 1)) if (++count > limit) return false;
  }
  return true;
}

/** JSON.parse, refusing bodies nested deeper than `maxDepth` before parsing them. */
export function parseBoundedJson(text: string, maxDepth: number = MAX_JSON_DEPTH): BoundedParse {
  if (!bracketsAtMost(text, maxDepth) && exceedsDepth(text, maxDepth))
    return { ok: false, reason: 'too-deep', message: `The body is nested deeper than ${maxDepth} levels` };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, reason: 'not-json', message: 'The body is not JSON' };
  }
}
