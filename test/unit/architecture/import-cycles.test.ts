import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(__dirname, '../../..');
/** Production code: what the functions bundle and the CDK app (docs/architecture.md). */
const FOLDERS = ['lib', 'functions', 'infra'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** Each file's relative imports, type-only ones included (`import type` and `export … from`). */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  const target = (from: string, spec: string): string | undefined => {
    if (!spec.startsWith('.')) return undefined;
    const base = resolve(dirname(from), spec);
    return [`${base}.ts`, join(base, 'index.ts'), base].find((candidate) => known.has(candidate));
  };
  return new Map(
    files.map((file) => {
      const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      return [file, importedFiles.flatMap((i) => target(file, i.fileName) ?? [])];
    }),
  );
}

/** The import circles: strongly connected components of more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string | undefined;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) found.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

/** The circles among the files of `folders` (more than `atLeast` files, so a wrong root cannot pass), by path. */
function circlesIn(folders: readonly string[], atLeast: number): string[][] {
  const files = folders.flatMap((folder) => sourceFiles(join(ROOT, folder)));
  expect(files.length).toBeGreaterThan(atLeast);
  return cycles(importGraph(files)).map((component) => component.map((file) => relative(ROOT, file)));
}

describe('import circles', () => {
  it('finds a circle, type-only imports included', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(cycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
    const { importedFiles } = ts.preProcessFile(
      "import type { A } from './a';\nexport type { B } from './b';",
      true,
      true,
    );
    expect(importedFiles.map((i) => i.fileName)).toEqual(['./a', './b']);
  });

  it('production code has none: a type both sides need lives in a module of its own', () => {
    expect(circlesIn(FOLDERS, 100)).toEqual([]);
  });

  it('the benchmark has none either: shared objects and figures live in modules of their own', () => {
    expect(circlesIn(['bench'], 20)).toEqual([]);
  });
});
