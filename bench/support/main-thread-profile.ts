import { Session } from 'node:inspector/promises';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';

/**
 * Splits the main thread's CPU between what shares it (the simulator, the stack's pollers and HTTP servers, functions
 * that run there, the harness) with V8's sampling profiler: each sample goes to the nearest project frame from the
 * top of its stack (dependencies and Node's internals count toward the project code that called them); a stack with no
 * project frame is GC or Node's internals (HTTP parsing, streams) alone. The shares scale the thread's /proc CPU, so
 * the profiler's own cost lands in the shares, not on top of them.
 */

const ProfileNode = z.object({
  id: z.number(),
  callFrame: z.object({ url: z.string(), functionName: z.string() }),
  children: z.array(z.number()).optional(),
});
const Profile = z.object({ nodes: z.array(ProfileNode), samples: z.array(z.number()).optional() });
type ProfileNode = z.infer<typeof ProfileNode>;
type Profile = z.infer<typeof Profile>;

/** The part of the project a script belongs to, by path; undefined for dependencies and Node's own. */
export function mainThreadPartOf(url: string, projectUrl: string): string | undefined {
  if (!url.startsWith(projectUrl) || url.includes('/node_modules/')) return undefined;
  const path = url.slice(projectUrl.length);
  if (path.startsWith('lib/sim/')) return 'simulator';
  if (path.startsWith('bench/')) return 'harness';
  if (path.startsWith('lib/local/')) return 'stack plumbing';
  if (path.startsWith('functions/') || path.startsWith('lib/')) return 'tmc on main';
  return 'harness';
}

/** Sample counts per part of a profile (idle samples left out). */
export function samplesByPart(profile: Profile, projectUrl: string): Record<string, number> {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const partOfNode = new Map<number, string | null>();
  const resolve = (id: number): string | null => {
    const known = partOfNode.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    if (node === undefined) return null;
    const name = node.callFrame.functionName;
    let part: string | null;
    if (name === '(idle)') part = null;
    else if (name === '(garbage collector)') part = 'GC (main)';
    else if (name === '(program)') part = 'native (main)';
    else {
      const own = mainThreadPartOf(node.callFrame.url, projectUrl);
      const up = parent.get(id);
      part = own ?? (up === undefined ? null : resolve(up));
    }
    partOfNode.set(id, part);
    return part;
  };
  const out: Record<string, number> = {};
  for (const id of profile.samples ?? []) {
    let part = resolve(id);
    if (part === null) {
      const name = byId.get(id)?.callFrame.functionName;
      if (name === '(idle)') continue;
      part = 'node internals (main)';
    }
    out[part] = (out[part] ?? 0) + 1;
  }
  return out;
}

export interface MainThreadProfiler {
  /** Starts a new profile (the previous one is discarded). */
  start(): Promise<void>;
  /** Stops and returns each part's share of the non-idle samples (sums to 1; empty without samples). */
  stop(): Promise<Record<string, number>>;
  close(): void;
}

export function mainThreadProfiler(projectRoot: string, samplingIntervalUs = 1000): MainThreadProfiler {
  const session = new Session();
  session.connect();
  const projectUrl = `${pathToFileURL(projectRoot).href}/`;
  let running = false;
  return {
    start: async () => {
      if (running) await session.post('Profiler.stop');
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
      await session.post('Profiler.start');
      running = true;
    },
    stop: async () => {
      if (!running) return {};
      running = false;
      const { profile } = z.object({ profile: Profile }).parse(await session.post('Profiler.stop'));
      const counts = samplesByPart(profile, projectUrl);
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, total > 0 ? v / total : 0]));
    },
    close: () => session.disconnect(),
  };
}
