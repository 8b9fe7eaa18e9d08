import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kubectlOk } from '../support/kubectl';
import { startPrometheus, type PrometheusServer } from '../support/prometheus';
import { startE2eStack } from './support';

/**
 * Every example README and the hello-world tutorial, run as written on one local stack: each ```sh block in order (a
 * block marked ```sh skip-ci is not run: starting the stack, cloud-only steps), one bash per document so variables
 * carry over, stopping at the first failing command. A block marked ```sh background is what a user starts in another
 * terminal and leaves running (`tmc syncer`): it is started in a session of its own where it stands, and stopped
 * (SIGTERM to its process group) by a block marked ```sh stop-background (the user's Ctrl-C there: its text is a comment
 * for the reader) or when its document ends. A ```text block right after a ```sh block is that block's output:
 * each of its lines must appear, in order, in what the block printed, after both are normalised (times, ages, uids,
 * ports; `…` matches anything). So an example that stops working, or whose output changes, fails here.
 *
 * The documents say `npx tmc`, `.tmc/…`, `http://127.0.0.1:8787` (tmc's API) and `http://127.0.0.1:9090` (a local
 * Prometheus): the blocks run in a directory whose `.tmc` is this stack's state, with `npx tmc` running this checkout's
 * bin/tmc.mjs (npx would do the same in the project), and the two default URLs replaced by this stack's and this
 * Prometheus's, which listen on free ports.
 */
const ROOT = resolve(__dirname, '..', '..');
const DOCUMENTS = [
  'examples/basic-setup/README.md',
  'examples/multi-cluster-deployment/README.md',
  'examples/health-monitoring/README.md',
  'examples/metrics/README.md',
  'examples/disaster-recovery/README.md',
  'docs/tutorial-hello-world.md',
  // Last: until it registers lab, the stack is what plain `npm start` gives (see beforeAll).
  'examples/basic-setup/pull-mode.md',
  // The front door, top to bottom as written: its tour adds Placements, so it runs after every example.
  'README.md',
];

interface ShellBlock {
  /** Line in the document where the block starts (for failure messages). */
  line: number;
  script: string;
  /** Started and left running: a long-running process a user runs in another terminal. */
  background: boolean;
  /** Stops the background blocks started so far (a user's Ctrl-C in their terminals). */
  stopBackground: boolean;
  expected?: string;
}

/** The runnable ```sh blocks of a markdown document, each with the ```text block that follows it, if any. */
function shellBlocks(markdown: string): ShellBlock[] {
  const fence = /^```([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm;
  const blocks: ShellBlock[] = [];
  let previous: { block?: ShellBlock; end: number } = { end: 0 };
  for (let m = fence.exec(markdown); m !== null; m = fence.exec(markdown)) {
    const [lang, ...flags] = m[1].trim().split(/\s+/);
    const between = markdown.slice(previous.end, m.index);
    if (lang === 'text' && previous.block !== undefined && between.trim() === '') previous.block.expected = m[2];
    const block =
      lang === 'sh' && !flags.includes('skip-ci')
        ? {
            line: markdown.slice(0, m.index).split('\n').length,
            script: m[2],
            background: flags.includes('background'),
            stopBackground: flags.includes('stop-background'),
          }
        : undefined;
    if (block) blocks.push(block);
    previous = { block, end: m.index + m[0].length };
  }
  return blocks;
}

/** What varies from run to run becomes a placeholder, and runs of spaces one space (kubectl's column widths vary). */
function normalise(line: string): string {
  return line
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<time>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uid>')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
    .replace(/\b\d+(\.\d+)?(ms|s|m|h|d)(\d+(ms|s|m))?\b/g, '<age>')
    .replace(/\s+/g, ' ')
    .trim();
}

function lineMatcher(expected: string): RegExp {
  const pattern = normalise(expected)
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`);
}

/** The expected lines missing from `actual` (each must match a whole line, in order). */
function missingLines(expected: string, actual: string): string[] {
  const lines = actual.split('\n').map(normalise);
  let at = 0;
  const missing: string[] = [];
  for (const want of expected.split('\n').filter((l) => l.trim() !== '')) {
    const matcher = lineMatcher(want);
    const found = lines.findIndex((l, i) => i >= at && matcher.test(l));
    if (found < 0) missing.push(want);
    else at = found + 1;
  }
  return missing;
}

const MARK = '@@tmc-example-block';

/** A block started in the background: its script file, its output file, and the file its process id goes to. */
interface Background {
  script: string;
  log: string;
  pid: string;
}

/** The line of the document's script that starts a background block in a session of its own (so one signal stops it). */
function startInBackground(b: Background): string {
  return `setsid bash ${JSON.stringify(b.script)} > ${JSON.stringify(b.log)} 2>&1 & echo $! > ${JSON.stringify(b.pid)}`;
}

/** The lines of the document's script that stop background blocks (SIGTERM to each group) and wait until they are gone. */
function stopInScript(started: readonly Background[]): string {
  return started
    .map((b) => {
      const group = `-$(cat ${JSON.stringify(b.pid)})`;
      return `kill -TERM -- ${group} 2>/dev/null || true; while kill -0 -- ${group} 2>/dev/null; do sleep 0.2; done`;
    })
    .join('\n');
}

/** Stops a background block's process group: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
async function stopBackground(b: Background, graceMs = 15_000): Promise<void> {
  const text = readIfExists(b.pid);
  if (text === undefined) return; // never started: the document failed before it
  const pid = Number(text.trim());
  const alive = (): boolean => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
      throw err;
    }
  };
  if (!alive()) return;
  process.kill(-pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  if (alive()) process.kill(-pid, 'SIGKILL');
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function run(
  script: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

describe('examples and the tutorial, run as written', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  let prometheus: PrometheusServer;
  let work: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tmc-examples-'));
    for (const dir of ['examples', 'config', 'docs']) symlinkSync(join(ROOT, dir), join(work, dir));
    const bin = join(work, '.bin');
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'npx'),
      `#!/bin/sh\n[ "$1" = tmc ] || { echo "examples test: only npx tmc is available here" >&2; exit 127; }\nshift\nexec node ${JSON.stringify(join(ROOT, 'bin', 'tmc.mjs'))} "$@"\n`,
    );
    chmodSync(join(bin, 'npx'), 0o755);
    prometheus = await startPrometheus();
    stack = await startE2eStack({
      stateDir: join(work, '.tmc'),
      // The examples run what a user's `npm start -- --schedule …` runs, faster: probes and sweeps every few seconds.
      schedules: true,
      scheduleRates: { 'health-probe': 1, 'recovery-sweep': 2, 'status-backstop': 3, 'metrics-rollup': 2 },
      prometheusRemoteWriteUrl: `${prometheus.url}/api/v1/write`,
      // `npm start -- --pull-cluster lab` for basic-setup/pull-mode.md: lab's simulated cluster and syncer credentials.
      pullClusters: ['lab'],
    });
    // Every other document is written for plain `npm start`: lab is unregistered until pull-mode.md registers it (its
    // syncer credentials go by name, so they hold for the new SyncTarget), and health-probe forgets it meanwhile.
    await kubectlOk(stack.kcpKubeconfig, ['delete', 'synctarget', 'lab']);
    env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, KUBECONFIG: '' };
  });
  afterAll(async () => {
    await stack?.cleanup();
    await prometheus?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it.each(DOCUMENTS)(
    '%s',
    async (document) => {
      const blocks = shellBlocks(readFileSync(join(ROOT, document), 'utf8'));
      expect(blocks.length).toBeGreaterThan(0);
      const urls = (text: string): string =>
        text.replaceAll('http://127.0.0.1:8787', stack.apiUrl).replaceAll('http://127.0.0.1:9090', prometheus.url);
      const stem = join(work, `.background-${DOCUMENTS.indexOf(document)}`);
      const background = new Map<number, Background>();
      blocks.forEach((b, i) => {
        if (!b.background) return;
        const files = { script: `${stem}-${i}.sh`, log: `${stem}-${i}.log`, pid: `${stem}-${i}.pid` };
        writeFileSync(files.script, urls(b.script));
        background.set(i, files);
      });
      const script = [
        'set -eo pipefail',
        ...blocks.flatMap((b, i) => {
          const bg = background.get(i);
          const started = [...background.entries()].filter(([j]) => j < i).map(([, files]) => files);
          const line = bg ? startInBackground(bg) : b.stopBackground ? stopInScript(started) : urls(b.script);
          return [`printf '\\n${MARK} ${i} %s\\n' "$(date +%s%N)"`, line];
        }),
        `printf '\\n${MARK} end %s\\n' "$(date +%s%N)"`,
      ].join('\n');
      let result: Awaited<ReturnType<typeof run>>;
      try {
        result = await run(script, work, env, 230_000);
      } finally {
        await Promise.all([...background.values()].map((b) => stopBackground(b)));
      }
      const { code } = result;
      // What the background blocks printed goes with the output, so a failure shows the syncer's side too.
      const backgroundOutput = [...background.entries()]
        .map(([i, b]) => `\n--- background block at line ${blocks[i].line} ---\n${readIfExists(b.log) ?? '(nothing)'}`)
        .join('');
      const output = result.output;

      // Each block's output follows its marker line: `<MARK> <index> <start time in ns>`.
      const parts = output
        .split(new RegExp(`^${MARK} `, 'm'))
        .slice(1)
        .map((p) => {
          const [index, startedNs] = p.slice(0, p.indexOf('\n')).split(' ');
          return { index, startedNs: Number(startedNs), text: p.slice(p.indexOf('\n') + 1) };
        });
      const outputs = new Map(parts.map((p) => [p.index, p.text]));
      const last = parts.length > 0 ? parts[parts.length - 1].index : 'none';
      if (process.env.TMC_TEST_LOG !== undefined) {
        const seconds = parts
          .slice(0, -1)
          .map(
            (p, i) =>
              `block at line ${blocks[Number(p.index)].line}: ${((parts[i + 1].startedNs - p.startedNs) / 1e9).toFixed(1)} s`,
          );
        process.stderr.write(`${document}\n  ${seconds.join('\n  ')}\n`);
      }
      if (code !== 0 || last !== 'end') {
        const failed = blocks[Number(last)];
        throw new Error(
          `${document}: the block at line ${failed?.line ?? '?'} failed (exit ${code}):\n${failed?.script ?? ''}\n--- output ---\n${outputs.get(last) ?? output}${backgroundOutput}`,
        );
      }
      blocks.forEach((block, i) => {
        if (block.expected === undefined) return;
        const actual = outputs.get(String(i)) ?? '';
        const missing = missingLines(block.expected, actual);
        if (missing.length > 0)
          throw new Error(
            `${document}: the output of the block at line ${block.line} lacks:\n${missing.join('\n')}\n--- it printed ---\n${actual}`,
          );
      });
    },
    240_000,
  );
});
