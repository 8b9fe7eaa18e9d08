import { ApiError } from './api-error';

/**
 * metav1.LabelSelector. `operator` is a plain string so that a stored selector nobody validated (a webhook
 * configuration's objectSelector) can be evaluated too; tmc's CRDs narrow it with their own schema.
 */
export interface LabelSelector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: ReadonlyArray<{ key: string; operator: string; values?: readonly string[] | null }> | null;
}

/** A compiled label selector: true when the labels are selected. */
export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

export const MATCH_ALL: LabelMatcher = () => true;
const MATCH_NONE: LabelMatcher = () => false;

type Operator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

const isOperator = (op: string): op is Operator =>
  op === 'In' || op === 'NotIn' || op === 'Exists' || op === 'DoesNotExist';

interface CompiledRequirement {
  key: string;
  op: Operator;
  values: Set<string>;
}

const hasOwn = (labels: Record<string, string>, key: string): boolean =>
  Object.prototype.hasOwnProperty.call(labels, key);

/**
 * Compiles a selector once into a closure over flat arrays, so matching it against a thousand clusters allocates
 * nothing. Semantics are apimachinery's LabelSelectorAsSelector: an absent or empty selector matches everything, NotIn
 * and DoesNotExist match objects without the key, and an unknown operator makes the selector invalid, which matches
 * nothing (kube-apiserver would have refused to store it).
 */
export function compileLabelSelector(selector: LabelSelector | null | undefined): LabelMatcher {
  if (!selector) return MATCH_ALL;
  const keys: string[] = [];
  const values: string[] = [];
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    keys.push(k);
    values.push(v);
  }
  const reqs: CompiledRequirement[] = [];
  for (const r of selector.matchExpressions ?? []) {
    if (!isOperator(r.operator)) return MATCH_NONE;
    reqs.push({ key: r.key, op: r.operator, values: new Set(r.values ?? []) });
  }
  if (keys.length === 0 && reqs.length === 0) return MATCH_ALL;
  return (labels) => {
    const l = labels ?? {};
    for (let i = 0; i < keys.length; i++) if (l[keys[i]] !== values[i]) return false;
    for (let i = 0; i < reqs.length; i++) {
      const r = reqs[i];
      const v = hasOwn(l, r.key) ? l[r.key] : undefined;
      switch (r.op) {
        case 'In':
          if (v === undefined || !r.values.has(v)) return false;
          break;
        case 'NotIn':
          if (v !== undefined && r.values.has(v)) return false;
          break;
        case 'Exists':
          if (v === undefined) return false;
          break;
        case 'DoesNotExist':
          if (v !== undefined) return false;
          break;
      }
    }
    return true;
  };
}

/** Evaluates a selector once; compile it with compileLabelSelector to test many label sets. */
export function matchesLabelSelector(
  selector: LabelSelector | null | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  return compileLabelSelector(selector)(labels);
}

/** True when the selector selects everything, so kube-apiserver never needs the labels it would test. */
export function isEmptyLabelSelector(selector: LabelSelector | null | undefined): boolean {
  return (
    !selector ||
    (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)
  );
}

/** `team=a,tier in (gold,silver),!legacy`: kubectl's selector syntax, for messages and `--selector`. */
export function describeLabelSelector(selector: LabelSelector | null | undefined): string {
  if (!selector) return '<all>';
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const r of selector.matchExpressions ?? []) {
    if (r.operator === 'Exists') parts.push(r.key);
    else if (r.operator === 'DoesNotExist') parts.push(`!${r.key}`);
    else parts.push(`${r.key} ${r.operator === 'In' ? 'in' : 'notin'} (${(r.values ?? []).join(',')})`);
  }
  return parts.length ? parts.join(',') : '<all>';
}

/**
 * Parses a label selector in the string form of `?labelSelector=` (`a=b,c!=d,e in (x,y),f notin (z),g,!h`), as
 * apimachinery's labels.Parse does, into the selector it stands for: `a=b` is `a In (b)`, `c!=d` is `c NotIn (d)`.
 * Hand-written: the grammar is small and no maintained JavaScript parser exists. Throws a 400 ApiError.
 */
export function parseLabelSelectorText(text: string | null | undefined): LabelSelector {
  const matchExpressions: Array<{ key: string; operator: string; values?: string[] }> = [];
  if (!text) return { matchExpressions };
  // Split on commas outside parentheses.
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  for (const raw of parts) {
    const part = raw.trim();
    if (!part) continue;
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      matchExpressions.push({
        key: m[1],
        operator: m[2] === 'in' ? 'In' : 'NotIn',
        values: m[3]
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean),
      });
    } else if ((m = part.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/))) {
      matchExpressions.push({ key: m[1], operator: m[2] === '!=' ? 'NotIn' : 'In', values: [m[3]] });
    } else if ((m = part.match(/^!([\w./-]+)$/))) {
      matchExpressions.push({ key: m[1], operator: 'DoesNotExist' });
    } else if ((m = part.match(/^([\w./-]+)$/))) {
      matchExpressions.push({ key: m[1], operator: 'Exists' });
    } else {
      throw ApiError.badRequest(`unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }
  return { matchExpressions };
}

/** The matcher for a `?labelSelector=` string (absent or empty selects everything); throws a 400 ApiError. */
export function parseLabelSelector(text: string | null | undefined): LabelMatcher {
  return compileLabelSelector(parseLabelSelectorText(text));
}
