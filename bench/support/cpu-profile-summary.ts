import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { findProjectRoot } from '../../lib/local/paths';

/**
 * Where a thread's CPU went, from a V8 CPU profile (`--cpu-prof`; the benchmark writes one per thread with
 * `TMC_BENCH_CPU_PROFILE_DIR`): the top functions by self and by inclusive samples, and the samples by "owner" (a
 * project file, a package, Node's internals, GC). Inclusive counts a sample once per function however deep the
 * recursion.
 *
 * `npx tsx bench/support/cpu-profile-summary.ts <profile or dir> [--top 40] [--from-s 10] [--callers zod]`: with a
 * directory, the profile whose stacks run lib/local/function-container.ts (the functions' thread); `--from-s` drops
 * the first seconds (module loading, first-use JIT); `--callers <owner>` adds which project frames called into that
 * owner's code (a package name, a project path, `node:internal`).
 */

const Node = z.object({
  id: z.number(),
  callFrame: z.object({ url: z.string(), functionName: z.string(), lineNumber: z.number() }),
  children: z.array(z.number()).optional(),
});
const Profile = z.object({
  nodes: z.array(Node),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
  startTime: z.number(),
  endTime: z.number(),
});
type Profile = z.infer<typeof Profile>;
type ProfileNode = z.infer<typeof Node>;

export interface ProfileRow {
  name: string;
  samples: number;
  share: number;
}

export interface ProfileSummary {
  /** Non-idle samples counted. */
  busy: number;
  self: ProfileRow[];
  inclusive: ProfileRow[];
  owners: ProfileRow[];
  /** Samples by the package or project file that asked: builtins and Node's internals go to their nearest caller. */
  askers: ProfileRow[];
  /** With `callersOf`: the samples in that owner's code by the nearest project frame that called into it. */
  callers: ProfileRow[];
}

/** Who a frame belongs to: a project file (lib/…), a package (node_modules/<name>), `node:` internals, or V8 itself. */
export function ownerOf(frame: ProfileNode['callFrame'], projectUrl: string): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : `(native) ${functionName}`;
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') === true ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith(projectUrl)) return url.slice(projectUrl.length);
  return url.startsWith('node:') ? 'node:' + url.slice('node:'.length).split('/')[0] : url;
}

/** A function with its file: a package's file from its package folder on (`@smithy/core/dist-cjs/…/index.js`). */
function frameName(node: ProfileNode, projectUrl: string): string {
  const { functionName, lineNumber, url } = node.callFrame;
  const owner = ownerOf(node.callFrame, projectUrl);
  if (url === '') return owner;
  const modules = url.lastIndexOf('/node_modules/');
  const file = modules >= 0 ? url.slice(modules + '/node_modules/'.length) : owner;
  return `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
}

function rows(counts: Map<string, number>, busy: number, top: number): ProfileRow[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, samples]) => ({ name, samples, share: busy > 0 ? samples / busy : 0 }));
}

/** The summary of `profile`'s samples taken at least `fromMs` after it started. */
export function summarizeProfile(
  profile: Profile,
  projectUrl: string,
  top = 40,
  fromMs = 0,
  callersOf?: string,
): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const owners = new Map<string, number>();
  const callers = new Map<string, number>();
  const askers = new Map<string, number>();
  const isProject = (node: ProfileNode): boolean =>
    node.callFrame.url.startsWith(projectUrl) && !node.callFrame.url.includes('/node_modules/');
  let busy = 0;
  let t = 0;
  for (const [i, id] of profile.samples.entries()) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < fromMs * 1000) continue;
    const node = byId.get(id);
    if (node === undefined || node.callFrame.functionName === '(idle)') continue;
    busy++;
    const leaf = frameName(node, projectUrl);
    self.set(leaf, (self.get(leaf) ?? 0) + 1);
    // A builtin (JSON.parse, a RegExp, a Buffer method) counts toward the owner of the JS frame that called it.
    let owner = ownerOf(node.callFrame, projectUrl);
    if (owner.startsWith('(native)')) {
      let caller = parent.get(id);
      while (caller !== undefined && byId.get(caller)?.callFrame.url === '') caller = parent.get(caller);
      const frame = caller === undefined ? undefined : byId.get(caller);
      owner = frame === undefined ? '(native)' : ownerOf(frame.callFrame, projectUrl);
    }
    owners.set(owner, (owners.get(owner) ?? 0) + 1);
    let asker: string | undefined;
    for (let at: number | undefined = id; at !== undefined && asker === undefined; at = parent.get(at)) {
      const frame = byId.get(at)!;
      const o = ownerOf(frame.callFrame, projectUrl);
      if (!o.startsWith('(native)') && !o.startsWith('node:') && o !== '(root)') asker = o;
    }
    asker ??= 'node: no JS caller (socket I/O, timers, microtasks)';
    askers.set(asker, (askers.get(asker) ?? 0) + 1);
    if (callersOf !== undefined) {
      // The innermost frame of `callersOf`'s code on the stack, then the nearest project frame outside that code below.
      let at: number | undefined = id;
      while (at !== undefined && !ownerOf(byId.get(at)!.callFrame, projectUrl).includes(callersOf)) at = parent.get(at);
      while (at !== undefined && ownerOf(byId.get(at)!.callFrame, projectUrl).includes(callersOf)) at = parent.get(at);
      while (at !== undefined && !isProject(byId.get(at)!)) at = parent.get(at);
      if (at !== undefined) {
        const name = frameName(byId.get(at)!, projectUrl);
        callers.set(name, (callers.get(name) ?? 0) + 1);
      }
    }
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at);
      if (frame === undefined || frame.callFrame.functionName === '(root)') continue;
      const name = frameName(frame, projectUrl);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + 1);
    }
  }
  return {
    busy,
    self: rows(self, busy, top),
    inclusive: rows(inclusive, busy, top),
    owners: rows(owners, busy, top),
    askers: rows(askers, busy, top),
    callers: rows(callers, busy, top),
  };
}

export function readProfile(path: string): Profile {
  return Profile.parse(JSON.parse(readFileSync(path, 'utf8')));
}

/** The profile in `dir` whose stacks run the functions' container (lib/local/function-container.ts). */
function functionsProfile(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const found = files.find((f) => readFileSync(join(dir, f), 'utf8').includes('lib/local/function-container.ts'));
  if (found === undefined) throw new Error(`No profile in ${dir} runs lib/local/function-container.ts`);
  return join(dir, found);
}

function format(summary: ProfileSummary, callersOf: string | undefined): string {
  const table = (title: string, list: readonly ProfileRow[]): string =>
    [
      title,
      ...list.map((r) => `${(r.share * 100).toFixed(1).padStart(6)}%  ${String(r.samples).padStart(7)}  ${r.name}`),
    ].join('\n');
  return [
    `${summary.busy} busy samples`,
    table('self, by owner (builtins to their caller)', summary.owners),
    table("self, by who asked (builtins and Node's internals to their caller)", summary.askers),
    table('self, by function', summary.self),
    table('inclusive, by function', summary.inclusive),
    ...(callersOf === undefined ? [] : [table(`${callersOf}: by the project frame that called it`, summary.callers)]),
  ].join('\n\n');
}

if (basename(process.argv[1] ?? '') === 'cpu-profile-summary.ts') {
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const target = args[0];
  if (target === undefined || target.startsWith('--'))
    throw new Error('Usage: cpu-profile-summary.ts <profile or dir> [--top 40] [--from-s 10]');
  const path = target.endsWith('.cpuprofile') ? target : functionsProfile(target);
  const projectUrl = `${pathToFileURL(findProjectRoot()).href}/`;
  const summary = summarizeProfile(
    readProfile(path),
    projectUrl,
    Number(flag('top') ?? 40),
    Number(flag('from-s') ?? 0) * 1000,
    flag('callers'),
  );
  process.stdout.write(`${path}\n${format(summary, flag('callers'))}\n`);
}
