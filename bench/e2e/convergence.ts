import type { KubeObject } from '../../lib/kube/object';
import type { SimClusterStore, StoreEvent } from '../../lib/sim/contracts';

/**
 * Watches the simulator's object spaces in-process (not over HTTP, so watching adds no API requests to the counts)
 * and records, per object, when a phase's change was applied on each cluster and when its status came back to kcp.
 * Times are `performance.now()` in this process, the same clock the writer stamps kcp writes with.
 */

export interface PhaseExpectation {
  /** Downstream namespace the objects land in. */
  namespace: string;
  /** Keys `<resource>/<name>` expected on every cluster. */
  keys: string[];
  /** Whether a downstream event shows this phase's change applied. */
  applied(event: StoreEvent): boolean;
  /** kcp Deployment names whose status must come back; and whether a kcp event shows it back. */
  statusNames: string[];
  statusBack(object: KubeObject): boolean;
}

export interface PhaseObservation {
  /** cluster → key → time applied. */
  applied: Record<string, Map<string, number>>;
  /** Deployment name → time its status was back in kcp. */
  status: Map<string, number>;
  /** Resolves when everything expected was seen; `stop()` ends the observation either way. */
  done: Promise<void>;
  /** Called after every newly seen (object, cluster) or status, for progress. */
  progress(): { applied: number; appliedTarget: number; status: number; statusTarget: number };
  stop(): void;
}

export const keyOf = (resource: string, name: string): string => `${resource}/${name}`;

export function observePhase(
  kcp: SimClusterStore,
  kcpNamespace: string,
  clusters: Record<string, SimClusterStore>,
  expect: PhaseExpectation,
): PhaseObservation {
  const wanted = new Set(expect.keys);
  const wantedStatus = new Set(expect.statusNames);
  const applied: Record<string, Map<string, number>> = {};
  const status = new Map<string, number>();
  const appliedTarget = wanted.size * Object.keys(clusters).length;
  let appliedCount = 0;
  let resolve: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolve = r));
  const check = (): void => {
    if (appliedCount >= appliedTarget && status.size >= wantedStatus.size) resolve();
  };
  const unsubscribers: Array<() => void> = [];
  for (const [cluster, store] of Object.entries(clusters)) {
    const seen = new Map<string, number>();
    applied[cluster] = seen;
    unsubscribers.push(
      store.subscribe((event) => {
        const meta = event.object.metadata;
        if (meta.namespace !== expect.namespace || typeof meta.name !== 'string') return;
        const key = keyOf(event.gvr.resource, meta.name);
        if (!wanted.has(key) || seen.has(key) || !expect.applied(event)) return;
        seen.set(key, performance.now());
        appliedCount += 1;
        check();
      }),
    );
  }
  unsubscribers.push(
    kcp.subscribe((event) => {
      const meta = event.object.metadata;
      if (event.gvr.resource !== 'deployments' || meta.namespace !== kcpNamespace || typeof meta.name !== 'string')
        return;
      if (!wantedStatus.has(meta.name) || status.has(meta.name) || !expect.statusBack(event.object)) return;
      status.set(meta.name, performance.now());
      check();
    }),
  );
  check();
  return {
    applied,
    status,
    done,
    progress: () => ({ applied: appliedCount, appliedTarget, status: status.size, statusTarget: wantedStatus.size }),
    stop: () => {
      for (const u of unsubscribers) u();
      resolve();
    },
  };
}
