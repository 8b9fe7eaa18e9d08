import {
  judge,
  observe,
  startConvergence,
  type ConvergenceState,
  type SystemEvidence,
} from '../../../bench/chaos/settled';
import type { Violation } from '../../../bench/chaos/invariants';

/** The chaos checker's convergence verdict: judged on tmc's own evidence, never on the clock alone. */

const T0 = Date.parse('2026-12-06T19:00:00.000Z');
const limits = { stallMs: 180_000, capMs: 720_000 };

const violation = (name: string, kind: Violation['kind'] = 'missing-copy'): Violation => ({
  kind,
  workspace: 'root:default',
  cluster: 'east',
  resource: 'deployments',
  namespace: 'shop',
  name,
  detail: 'decision v2 names east; no copy there',
  at: new Date(T0).toISOString(),
});

const idle: SystemEvidence = {
  queues: [
    { queue: 'placement', visible: 0, inFlight: 0, delayed: 0, dlq: 0 },
    { queue: 'sync', visible: 0, inFlight: 0, delayed: 0, dlq: 0 },
    { queue: 'status', visible: 0, inFlight: 0, delayed: 0, dlq: 0 },
  ],
  holds: 0,
  lastFullPass: { startedAt: T0 + 30_000, quiet: true },
};
const withQueue = (
  queue: string,
  depth: { visible?: number; inFlight?: number; delayed?: number },
): SystemEvidence => ({
  ...idle,
  queues: idle.queues.map((q) => (q.queue === queue ? { ...q, ...depth } : q)),
});

/** A state where `violations` were first seen at T0 + `seenAfterMs`, faults healed at T0. */
function seen(violations: readonly Violation[], seenAfterMs = 10_000): ConvergenceState {
  const state = startConvergence(T0);
  observe(state, violations, T0 + seenAfterMs);
  return state;
}

describe('chaos convergence verdict', () => {
  const one = [violation('app-1')];

  it.each<[string, SystemEvidence | undefined, string]>([
    ['a sync message waiting', withQueue('sync', { visible: 3 }), 'sync 3 visible'],
    ['a placement message in flight', withQueue('placement', { inFlight: 1 }), 'placement 0 visible, 1 in flight'],
    ['a delayed status message', withQueue('status', { delayed: 2 }), '2 delayed'],
    ['a deletion hold', { ...idle, holds: 1 }, '1 deletion hold(s) stand'],
    ['no full pass yet', { ...idle, lastFullPass: undefined }, 'no full pass'],
    [
      'a full pass that acted or failed',
      { ...idle, lastFullPass: { startedAt: T0 + 30_000, quiet: false } },
      'not quiet',
    ],
    [
      'a quiet pass before the violation was seen',
      { ...idle, lastFullPass: { startedAt: T0 + 5_000, quiet: true } },
      'started before',
    ],
    [
      'a quiet pass before the faults ended',
      { ...idle, lastFullPass: { startedAt: T0 - 5_000, quiet: true } },
      'started before',
    ],
    ['evidence that could not be read', undefined, 'could not be read'],
  ])('waits while tmc is still working: %s', (_, evidence, why) => {
    const verdict = judge(seen(one), one, evidence, T0 + 60_000, limits);
    expect(verdict.kind).toBe('working');
    expect(verdict).toHaveProperty('why', expect.stringContaining(why));
  });

  it('converges on a clean check, whatever tmc is doing', () => {
    expect(judge(seen([]), [], withQueue('sync', { visible: 5 }), T0 + 1_000, limits)).toEqual({ kind: 'converged' });
  });

  it('reports what remains at once when tmc says it is done: queues empty, no hold, a quiet pass after the sighting', () => {
    const verdict = judge(seen(one), one, idle, T0 + 31_000, limits);
    expect(verdict.kind).toBe('settled');
    expect(verdict).toHaveProperty('why', expect.stringContaining('1 violation(s) left'));
  });

  it('a violation seen after the quiet pass waits for the next pass', () => {
    const state = seen(one);
    const later = [...one, violation('app-2')];
    observe(state, later, T0 + 40_000);
    expect(judge(state, later, idle, T0 + 41_000, limits).kind).toBe('working');
    const next: SystemEvidence = { ...idle, lastFullPass: { startedAt: T0 + 45_000, quiet: true } };
    expect(judge(state, later, next, T0 + 50_000, limits).kind).toBe('settled');
  });

  it('keeps waiting past the liveness limit while violations keep resolving', () => {
    const busy = withQueue('sync', { visible: 10 });
    const state = startConvergence(T0);
    const names = Array.from({ length: 10 }, (_, i) => `app-${i}`);
    // One violation resolved every 100 s: 900 s in all, each change within the 180 s limit of the previous.
    for (let i = 0; i < 7; i++) {
      const now = T0 + i * 100_000;
      const left = names.slice(i).map((n) => violation(n));
      observe(state, left, now);
      expect(judge(state, left, busy, now + 1_000, limits).kind).toBe('working');
    }
  });

  it('calls a busy tmc whose violations do not change for the liveness limit stalled', () => {
    const state = seen(one);
    const busy = withQueue('sync', { inFlight: 1 });
    observe(state, one, T0 + 150_000);
    expect(judge(state, one, busy, T0 + 150_000, limits).kind).toBe('working');
    observe(state, one, T0 + 191_000);
    const verdict = judge(state, one, busy, T0 + 191_000, limits);
    expect(verdict.kind).toBe('stalled');
    expect(verdict).toHaveProperty('why', expect.stringContaining('no violation changed for 181 s'));
  });

  it('stops at the hard cap however the violations change', () => {
    const state = startConvergence(T0);
    const now = T0 + 721_000;
    observe(state, [violation(`app-${now}`)], now);
    const verdict = judge(state, [violation(`app-${now}`)], withQueue('sync', { visible: 1 }), now, limits);
    expect(verdict.kind).toBe('stalled');
    expect(verdict).toHaveProperty('why', expect.stringContaining('721 s after the faults ended'));
  });

  it('concludes nothing while the checker cannot read a cluster, up to the cap', () => {
    const state = seen([]);
    const unread = 'the checker could not read edge';
    expect(judge(state, [], idle, T0 + 60_000, limits, unread)).toEqual({ kind: 'working', why: unread });
    expect(judge(state, [], idle, T0 + 721_000, limits, unread).kind).toBe('stalled');
  });

  it('counts progress only when the set of violations changes', () => {
    const state = startConvergence(T0);
    observe(state, one, T0 + 5_000);
    expect(state.changedAt).toBe(T0 + 5_000);
    observe(state, one, T0 + 9_000);
    expect(state.changedAt).toBe(T0 + 5_000);
    expect(state.firstSeen.get([...state.firstSeen.keys()][0]!)).toBe(T0 + 5_000);
    observe(state, [], T0 + 12_000);
    expect(state.changedAt).toBe(T0 + 12_000);
    expect(state.firstSeen.size).toBe(0);
  });
});
