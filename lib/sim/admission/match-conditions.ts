import { CelScalar, celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import type { FieldCause } from '../field-cause';

/**
 * Webhook matchConditions (admissionregistration.k8s.io/v1, GA in Kubernetes 1.30) as kube-apiserver evaluates them
 * (k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions): CEL expressions over `object`, `oldObject` and
 * `request`; the webhook is called only when every condition is true. CEL itself is @bufbuild/cel (Buf's
 * conformance-tested evaluator, Apache-2.0): parsing and evaluation are the library's; what is written here is only
 * the Kubernetes binding (variables, JSON to CEL values, the matcher's false-wins rule, the create-time checks).
 */

/**
 * The variables kube-apiserver declares for a webhook's match conditions. `authorizer` is declared (an expression using
 * it compiles, as on a real server) but the simulator has no authorizer to bind it to: evaluating it is an error
 * ("unresolved attribute"), which the failurePolicy decides.
 */
const VARIABLES = ['object', 'oldObject', 'request', 'authorizer'] as const;
type Variable = (typeof VARIABLES)[number];
/** Type names are identifiers a CEL expression may use as values (`type(x) == string`). */
const TYPE_IDENTIFIERS = new Set([
  'int',
  'uint',
  'double',
  'bool',
  'string',
  'bytes',
  'list',
  'map',
  'null_type',
  'type',
  'dyn',
]);

/** validation.MaxMatchConditions (pkg/apis/admissionregistration/validation). */
const MAX_MATCH_CONDITIONS = 64;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const env = celEnv({
  variables: { object: CelScalar.DYN, oldObject: CelScalar.DYN, request: CelScalar.DYN, authorizer: CelScalar.DYN },
});

type ParsedExpr = ReturnType<typeof parse>;
type Expr = ParsedExpr['expr'];
/** A planned expression over the bound variables: a CEL value, or a CelError. */
type Program = (bindings: Record<string, unknown>) => unknown;

export interface MatchConditionSpec {
  name: string;
  expression: string;
}

/** A condition compiled once per configuration version; `error` when it does not compile (the webhook then errors). */
export interface CompiledMatchCondition {
  name: string;
  program?: Program;
  /** The variables the expression reads: only these are converted to CEL values for it. */
  reads?: readonly Variable[];
  error?: string;
}

/** What the matcher decided: call the webhook, skip it (the first false condition), or an error for failurePolicy. */
export type MatchConditionResult = { matches: true } | { matches: false; condition: string } | { error: string };

/** The input kube-apiserver binds: the objects (null when absent) and the AdmissionRequest without them. */
export interface MatchConditionInput {
  object: unknown;
  oldObject: unknown;
  request: Record<string, unknown>;
}

/** "ERROR: <input>:line:col: message", as cel-go prints a compile issue. */
function located(parsed: ParsedExpr, id: bigint, message: string): string {
  const offset = parsed.sourceInfo?.positions[id.toString()] ?? 0;
  const lineOffsets = parsed.sourceInfo?.lineOffsets ?? [];
  let line = 1;
  let start = 0;
  for (const lineOffset of lineOffsets) {
    if (lineOffset > offset) break;
    line++;
    start = lineOffset;
  }
  return `ERROR: <input>:${line}:${offset - start + 1}: ${message}`;
}

/**
 * The identifiers an expression reads that no comprehension inside it binds, with the node of each read. cel-go's
 * checker reports those that are not declared at create ("undeclared reference to 'x'"); @bufbuild/cel does not export
 * its checker, so they are found by walking the parsed AST (macros such as has() and all() are already expanded into
 * select and comprehension nodes).
 */
function freeIdentifiers(parsed: ParsedExpr): { name: string; id: bigint }[] {
  const free: { name: string; id: bigint }[] = [];
  const visit = (expr: Expr | undefined, bound: ReadonlySet<string>): void => {
    if (!expr) return;
    const kind = expr.exprKind;
    switch (kind.case) {
      case 'identExpr':
        if (!bound.has(kind.value.name)) free.push({ name: kind.value.name, id: expr.id });
        return;
      case 'selectExpr':
        return visit(kind.value.operand, bound);
      case 'callExpr':
        visit(kind.value.target, bound);
        for (const arg of kind.value.args) visit(arg, bound);
        return;
      case 'listExpr':
        for (const element of kind.value.elements) visit(element, bound);
        return;
      case 'structExpr':
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === 'mapKey') visit(entry.keyKind.value, bound);
          visit(entry.value, bound);
        }
        return;
      case 'comprehensionExpr': {
        const c = kind.value;
        visit(c.iterRange, bound);
        visit(c.accuInit, bound);
        const inner = new Set([...bound, c.iterVar, c.iterVar2, c.accuVar].filter((name) => name !== ''));
        visit(c.loopCondition, inner);
        visit(c.loopStep, inner);
        visit(c.result, new Set([...bound, c.accuVar]));
        return;
      }
      default:
        return;
    }
  };
  visit(parsed.expr, new Set());
  return free;
}

function isVariable(name: string): name is Variable {
  return (VARIABLES as readonly string[]).includes(name);
}

/** Parses and plans one expression; the message is the compile error kube-apiserver would give, if any. */
function compile(expression: string): { program: Program; reads: Variable[] } | { error: string } {
  let parsed: ParsedExpr;
  try {
    parsed = parse(expression);
  } catch (error) {
    return { error: `compilation failed: ERROR: ${error instanceof Error ? error.message : String(error)}` };
  }
  const free = freeIdentifiers(parsed);
  const undeclared = free
    .filter(({ name }) => !TYPE_IDENTIFIERS.has(name) && !isVariable(name))
    .map(({ name, id }) => located(parsed, id, `undeclared reference to '${name}' (in container '')`));
  if (undeclared.length > 0) return { error: `compilation failed: ${undeclared.join('\n')}` };
  const planned = plan(env, parsed);
  return {
    program: (bindings) => planned(bindings as Parameters<typeof planned>[0]),
    reads: [...new Set(free.map(({ name }) => name).filter(isVariable))],
  };
}

export function compileMatchConditions(conditions: readonly MatchConditionSpec[]): CompiledMatchCondition[] {
  return conditions.map(({ name, expression }) => {
    const compiled = compile(expression);
    return 'program' in compiled
      ? { name, program: compiled.program, reads: compiled.reads }
      : { name, error: compiled.error };
  });
}

/**
 * JSON as Kubernetes hands it to CEL: whole numbers are CEL ints (int64), not doubles, so `object.spec.replicas + 1`
 * type-checks as it does on a real server. Objects stay plain objects (the library reads them as maps).
 */
function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  return value;
}

/**
 * matchconditions.Matcher.Match: any false condition skips the webhook, whatever the others did; otherwise any error
 * (or a non-bool result) is the answer, for failurePolicy to decide; otherwise the webhook is called.
 */
export function evaluateMatchConditions(
  conditions: readonly CompiledMatchCondition[],
  input: MatchConditionInput,
): MatchConditionResult {
  if (conditions.length === 0) return { matches: true };
  // Only the variables some condition reads are converted (a whole object and its old version are most of the cost,
  // and tmc's conditions read only `request`): a variable an expression does not name cannot change its result.
  const read = new Set(conditions.flatMap((condition) => condition.reads ?? []));
  const bindings: Record<string, unknown> = {};
  if (read.has('object')) bindings.object = toCel(input.object ?? null);
  if (read.has('oldObject')) bindings.oldObject = toCel(input.oldObject ?? null);
  if (read.has('request')) bindings.request = toCel(input.request);
  const errors: string[] = [];
  for (const condition of conditions) {
    if (!condition.program) {
      errors.push(`expression '${condition.name}' ${condition.error ?? 'did not compile'}`);
      continue;
    }
    const result = condition.program(bindings);
    if (isCelError(result)) {
      errors.push(`expression '${condition.name}' resulted in error: ${result.message}`);
    } else if (result === false) {
      return { matches: false, condition: condition.name };
    } else if (result !== true) {
      errors.push(
        `expression '${condition.name}' resulted in error: no such overload (expected a bool, got ${typeof result})`,
      );
    }
  }
  return errors.length > 0 ? { error: errors.join(', ') } : { matches: true };
}

/**
 * Create-time validation of one webhook's matchConditions (ValidateMutatingWebhookConfiguration's messages): names
 * required, qualified and unique, expressions required and compiling, at most 64. `path` is `webhooks[i]`.
 */
export function matchConditionCauses(raw: unknown, path: string): FieldCause[] {
  if (raw === undefined || raw === null) return [];
  const field = `${path}.matchConditions`;
  if (!Array.isArray(raw))
    return [{ field, message: `Invalid value: ${JSON.stringify(raw)}: must be a list`, reason: 'FieldValueInvalid' }];
  const causes: FieldCause[] = [];
  if (raw.length > MAX_MATCH_CONDITIONS)
    causes.push({
      field,
      message: `Too many: ${raw.length}: must have at most ${MAX_MATCH_CONDITIONS} items`,
      reason: 'FieldValueTooMany',
    });
  const seen = new Set<string>();
  raw.forEach((entry: unknown, index) => {
    const at = `${field}[${index}]`;
    const condition = (entry ?? {}) as Partial<Record<keyof MatchConditionSpec, unknown>>;
    const name = typeof condition.name === 'string' ? condition.name : '';
    if (name === '') causes.push({ field: `${at}.name`, message: 'Required value', reason: 'FieldValueRequired' });
    else if (seen.has(name))
      causes.push({
        field: `${at}.name`,
        message: `Duplicate value: ${JSON.stringify(name)}`,
        reason: 'FieldValueDuplicate',
      });
    else if (!isQualifiedName(name)) {
      causes.push({
        field: `${at}.name`,
        message: `Invalid value: ${JSON.stringify(name)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
        reason: 'FieldValueInvalid',
      });
    }
    seen.add(name);
    const expression = typeof condition.expression === 'string' ? condition.expression : '';
    if (expression.trim() === '') {
      causes.push({ field: `${at}.expression`, message: 'Required value', reason: 'FieldValueRequired' });
      return;
    }
    const compiled = compile(expression);
    if ('error' in compiled)
      causes.push({
        field: `${at}.expression`,
        message: `Invalid value: ${JSON.stringify(expression)}: ${compiled.error}`,
        reason: 'FieldValueInvalid',
      });
  });
  return causes;
}

/** apimachinery's IsQualifiedName: an optional DNS-1123 subdomain prefix and `/`, then a name part of ≤ 63. */
function isQualifiedName(value: string): boolean {
  const parts = value.split('/');
  if (parts.length > 2) return false;
  const namePart = parts[parts.length - 1];
  if (namePart.length > 63 || !QUALIFIED_NAME_PART.test(namePart)) return false;
  return parts.length === 1 || (parts[0].length > 0 && parts[0].length <= 253 && DNS1123_SUBDOMAIN.test(parts[0]));
}
