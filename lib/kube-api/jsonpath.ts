/**
 * Kubernetes' JSONPath dialect (k8s.io/client-go/util/jsonpath), which CRD printer columns use and kube-apiserver
 * evaluates. Hand-written because its grammar is not the JSONPath of the JavaScript libraries: field names run up to a
 * terminator and may contain `/` and `-`, `\.` escapes a dot (`.metadata.labels.topology\.kubernetes\.io/region`),
 * fields do not fan out over arrays (only `[*]`, slices and filters do), and filters compare with Go's rules.
 *
 * Supported: `$`, `.field`, `['field']`, `.*`, `[*]`, `[n]` (negative too), `[a:b:c]`, `..field` (recursive
 * descent), `[?(@.path)]` (existence), `[?(@.path OP literal)]` with == != < > <= >= against strings, numbers, booleans
 * or another `@` path, and unions `['a','b']` / `[0,2]`. Not supported (kube-apiserver rejects most in printer
 * columns anyway): range/end templates, literal text between `{}` blocks.
 */

type Step =
  | { kind: 'field'; names: string[] }
  | { kind: 'wildcard' }
  | { kind: 'recursive' }
  | { kind: 'index'; indexes: number[] }
  | { kind: 'slice'; start?: number; end?: number; step?: number }
  | { kind: 'filter'; left: Step[]; op?: FilterOp; right?: Operand };

type FilterOp = '==' | '!=' | '<' | '>' | '<=' | '>=';
type Operand = { kind: 'path'; steps: Step[] } | { kind: 'literal'; value: string | number | boolean };

/** A JSONPath that does not parse: kube-apiserver rejects such a printer column when the CRD is written. */
export class JsonPathSyntaxError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`Invalid JSONPath ${JSON.stringify(path)}: ${message}`);
    this.name = 'JsonPathSyntaxError';
  }
}

const TERMINATORS = new Set([
  '.',
  ',',
  '[',
  ']',
  '$',
  '@',
  '{',
  '}',
  ' ',
  '\t',
  '\n',
  '\r',
  '(',
  ')',
  '=',
  '!',
  '<',
  '>',
]);

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parse(): Step[] {
    const steps = this.steps(false);
    if (this.pos < this.text.length) this.fail(`unexpected ${JSON.stringify(this.text[this.pos])} at ${this.pos}`);
    return steps;
  }

  private fail(message: string): never {
    throw new JsonPathSyntaxError(this.text, message);
  }

  private peek(n = 0): string {
    return this.text[this.pos + n] ?? '';
  }

  /** Steps until the end, or (inside a filter) until an operator or `)`. */
  private steps(inFilter: boolean): Step[] {
    const out: Step[] = [];
    if (this.peek() === '$' || (inFilter && this.peek() === '@')) this.pos++;
    while (this.pos < this.text.length) {
      const c = this.peek();
      if (c === '.') {
        if (this.peek(1) === '.') {
          this.pos += 2;
          out.push({ kind: 'recursive' });
          if (this.peek() === '[') continue;
          out.push(this.field());
          continue;
        }
        this.pos++;
        out.push(this.field());
      } else if (c === '[') {
        out.push(this.bracket());
      } else if (inFilter) {
        break;
      } else {
        this.fail(`unexpected ${JSON.stringify(c)} at ${this.pos}`);
      }
    }
    return out;
  }

  private field(): Step {
    if (this.peek() === '*') {
      this.pos++;
      return { kind: 'wildcard' };
    }
    let name = '';
    while (this.pos < this.text.length) {
      const c = this.peek();
      if (c === '\\') {
        name += this.peek(1);
        this.pos += 2;
        continue;
      }
      if (TERMINATORS.has(c)) break;
      name += c;
      this.pos++;
    }
    if (name === '') this.fail(`missing field name at ${this.pos}`);
    return { kind: 'field', names: [name] };
  }

  private bracket(): Step {
    this.pos++; // [
    const close = (): void => {
      this.skipSpace();
      if (this.peek() !== ']') this.fail(`expected ] at ${this.pos}`);
      this.pos++;
    };
    this.skipSpace();
    if (this.peek() === '?') {
      this.pos++;
      if (this.peek() !== '(') this.fail(`expected ( after ? at ${this.pos}`);
      this.pos++;
      const step = this.filter();
      if (this.peek() !== ')') this.fail(`expected ) at ${this.pos}`);
      this.pos++;
      close();
      return step;
    }
    if (this.peek() === '*') {
      this.pos++;
      close();
      return { kind: 'wildcard' };
    }
    if (this.peek() === "'" || this.peek() === '"') {
      const names: string[] = [this.quoted()];
      this.skipSpace();
      while (this.peek() === ',') {
        this.pos++;
        this.skipSpace();
        names.push(this.quoted());
        this.skipSpace();
      }
      close();
      return { kind: 'field', names };
    }
    const end = this.text.indexOf(']', this.pos);
    if (end < 0) this.fail('unclosed [');
    const body = this.text.slice(this.pos, end).trim();
    this.pos = end + 1;
    if (body.includes(':')) {
      const [a, b, c] = body.split(':').map((p) => (p.trim() === '' ? undefined : this.integer(p)));
      return { kind: 'slice', start: a, end: b, step: c };
    }
    return { kind: 'index', indexes: body.split(',').map((p) => this.integer(p)) };
  }

  private integer(text: string): number {
    if (!/^\s*-?\d+\s*$/.test(text)) this.fail(`invalid array index ${JSON.stringify(text)}`);
    return Number(text);
  }

  private quoted(): string {
    const quote = this.peek();
    this.pos++;
    let out = '';
    while (this.pos < this.text.length && this.peek() !== quote) {
      if (this.peek() === '\\') this.pos++;
      out += this.peek();
      this.pos++;
    }
    if (this.peek() !== quote) this.fail('unclosed quote');
    this.pos++;
    return out;
  }

  private skipSpace(): void {
    while (this.peek() === ' ') this.pos++;
  }

  private filter(): Step {
    this.skipSpace();
    const left = this.operand();
    if (left.kind !== 'path') this.fail('a filter must start with @');
    this.skipSpace();
    const m = /^(==|!=|<=|>=|<|>)/.exec(this.text.slice(this.pos));
    if (!m) return { kind: 'filter', left: left.steps };
    this.pos += m[1].length;
    this.skipSpace();
    const right = this.operand();
    this.skipSpace();
    return { kind: 'filter', left: left.steps, op: m[1] as FilterOp, right };
  }

  private operand(): Operand {
    const c = this.peek();
    if (c === '@') return { kind: 'path', steps: this.steps(true) };
    if (c === '"' || c === "'") return { kind: 'literal', value: this.quoted() };
    const m = /^(-?\d+(\.\d+)?|true|false)/.exec(this.text.slice(this.pos));
    if (!m) this.fail(`unexpected ${JSON.stringify(c)} in filter at ${this.pos}`);
    this.pos += m[1].length;
    if (m[1] === 'true' || m[1] === 'false') return { kind: 'literal', value: m[1] === 'true' };
    return { kind: 'literal', value: Number(m[1]) };
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function descendants(value: unknown, out: unknown[]): void {
  out.push(value);
  if (Array.isArray(value)) for (const v of value) descendants(v, out);
  else if (isRecord(value)) for (const v of Object.values(value)) descendants(v, out);
}

function compare(a: unknown, op: FilterOp, b: unknown): boolean {
  if (op === '==')
    return (
      a === b || (typeof a !== 'object' && typeof b !== 'object' && String(a) === String(b) && typeof a === typeof b)
    );
  if (op === '!=') return !compare(a, '==', b);
  if (typeof a === 'number' && typeof b === 'number') {
    return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
  }
  if (typeof a === 'string' && typeof b === 'string') {
    return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
  }
  return false;
}

function evaluateSteps(roots: unknown[], steps: Step[]): unknown[] {
  let current = roots;
  for (const step of steps) {
    const next: unknown[] = [];
    for (const value of current) {
      switch (step.kind) {
        case 'field':
          if (isRecord(value)) for (const name of step.names) if (value[name] !== undefined) next.push(value[name]);
          break;
        case 'wildcard':
          if (Array.isArray(value)) next.push(...value);
          else if (isRecord(value)) next.push(...Object.values(value));
          break;
        case 'recursive':
          descendants(value, next);
          break;
        case 'index':
          if (Array.isArray(value)) {
            for (const i of step.indexes) {
              const at = i < 0 ? value.length + i : i;
              if (at >= 0 && at < value.length) next.push(value[at]);
            }
          }
          break;
        case 'slice':
          if (Array.isArray(value)) {
            const len = value.length;
            const norm = (n: number | undefined, dflt: number): number =>
              n === undefined ? dflt : n < 0 ? Math.max(0, len + n) : Math.min(len, n);
            const by = step.step ?? 1;
            if (by <= 0) break;
            for (let i = norm(step.start, 0); i < norm(step.end, len); i += by) next.push(value[i]);
          }
          break;
        case 'filter': {
          const items = Array.isArray(value) ? value : [];
          for (const item of items) {
            const left = evaluateSteps([item], step.left);
            if (!step.op || !step.right) {
              if (left.length > 0) next.push(item);
              continue;
            }
            const right = step.right.kind === 'literal' ? [step.right.value] : evaluateSteps([item], step.right.steps);
            if (left.length > 0 && right.length > 0 && compare(left[0], step.op, right[0])) next.push(item);
          }
          break;
        }
      }
    }
    current = next;
  }
  return current;
}

const cache = new Map<string, Step[]>();

/** Parses a JSONPath (with or without the `{…}` braces of a template); throws JsonPathSyntaxError. */
export function compileJsonPath(path: string): Step[] {
  let steps = cache.get(path);
  if (!steps) {
    const trimmed = path.trim();
    const inner = trimmed.startsWith('{') && trimmed.endsWith('}') ? trimmed.slice(1, -1) : trimmed;
    steps = new Parser(inner.trim()).parse();
    // Printer columns are few and fixed per CRD: the cache stays small, and tables of 10,000 rows parse each once.
    if (cache.size < 1000) cache.set(path, steps);
  }
  return steps;
}

/** Every value the path selects, in order (kube-apiserver's FindResults with missing keys allowed). */
export function findJsonPathResults(obj: unknown, path: string): unknown[] {
  return evaluateSteps([obj], compileJsonPath(path));
}
