import { systemClock, type Clock } from '../../ports/clock';
import type { KubeObject } from '../../kube/object';
import type { SimClusterStore, StoreEvent, WorkloadSimulationOptions, WorkloadSimulator } from '../contracts';
import { createCapacityLedger } from './capacity-ledger';
import { daemonSetKind } from './daemonset-status';
import { deploymentKind } from './deployment-status';
import { jobKind } from './job-status';
import { podKind } from './pod-status';
import { replicaSetKind } from './replicaset-status';
import { podRequests } from './pod-requests';
import { createPodSimulator, type PodSimulator } from './simulated-pods';
import { statefulSetKind } from './statefulset-status';
import { templateHash } from './template-hash';
import { type ProgressPhase, type WorkloadKind, podTemplateOf } from './workload-kind';

/** Options beyond the contract's, all optional. */
export interface WorkloadSimulatorExtras {
  /** Simulated nodes: a DaemonSet runs one pod per node (default 3). */
  nodes?: number;
  /** Write one intermediate "progressing" status before the ready one (default true; off halves the writes). */
  intermediateStatus?: boolean;
  /** Create a ReplicaSet per Deployment template (default: on when simulatePods is on). */
  replicaSets?: boolean;
  /** Status writes the simulator gave up on (after retries), and other failures. */
  onError?: (error: unknown, object: { resource: string; namespace?: string; name: string }) => void;
  /** Clock for status timestamps (tests). */
  now?: Clock;
}

export type WorkloadSimulatorOptions = WorkloadSimulationOptions & WorkloadSimulatorExtras;

const KINDS: WorkloadKind[] = [deploymentKind, statefulSetKind, daemonSetKind, jobKind, replicaSetKind, podKind];
const MAX_WRITE_ATTEMPTS = 3;

interface WorkloadState {
  kind: WorkloadKind;
  namespace?: string;
  name: string;
  uid: string;
  target: string;
  templateHash: string;
  templateChanged: boolean;
  timer?: ReturnType<typeof setTimeout>;
  /** Serialises this object's writes so a ready write never overtakes its intermediate one. */
  chain: Promise<void>;
  stopped: boolean;
}

/**
 * kwok-style controllers for one object space. Each workload gets one timer: a spec change (new generation)
 * writes an intermediate status at once and the ready status after `readyDelayMs`; its own status writes come
 * back as events with an unchanged target and are ignored, so a workload costs at most two writes per change.
 */
export function startWorkloadSimulator(store: SimClusterStore, options: WorkloadSimulatorOptions): WorkloadSimulator {
  const nodes = options.nodes ?? 3;
  const delayMs = Math.max(0, options.readyDelayMs);
  const intermediate = options.intermediateStatus ?? true;
  const now = (): string => new Date((options.now ?? systemClock)()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const ledger = options.capacity ? createCapacityLedger(options.capacity) : undefined;
  const pods: PodSimulator | undefined = options.simulatePods
    ? createPodSimulator(store, { nodes, replicaSets: options.replicaSets ?? true, now, onError: options.onError })
    : undefined;
  const kindsByResource = new Map(KINDS.map((kind) => [`${kind.gvr.group}/${kind.gvr.resource}`, kind]));
  const states = new Map<string, WorkloadState>();
  // Workloads with replicas that did not fit, in arrival order: first to retry when capacity frees.
  const starved = new Set<string>();
  let stopped = false;

  const keyOf = (kind: WorkloadKind, object: KubeObject): string =>
    `${kind.gvr.resource}/${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;

  function report(error: unknown, state: WorkloadState): void {
    options.onError?.(error, { resource: state.kind.gvr.resource, namespace: state.namespace, name: state.name });
  }

  function forget(key: string): void {
    const state = states.get(key);
    if (!state) return;
    state.stopped = true;
    if (state.timer) clearTimeout(state.timer);
    states.delete(key);
    starved.delete(key);
    if (ledger?.release(key)) wakeStarved();
  }

  function wakeStarved(): void {
    for (const key of starved) {
      const state = states.get(key);
      if (state && !state.timer) schedule(key, state, 'ready', 0);
    }
  }

  function schedule(key: string, state: WorkloadState, phase: ProgressPhase, afterMs: number, attempt = 1): void {
    if (state.timer) clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      state.timer = undefined;
      enqueue(key, state, phase, attempt);
    }, afterMs);
  }

  function enqueue(key: string, state: WorkloadState, phase: ProgressPhase, attempt = 1): void {
    state.chain = state.chain.then(() => write(key, state, phase, attempt));
  }

  async function write(key: string, state: WorkloadState, phase: ProgressPhase, attempt: number): Promise<void> {
    if (state.stopped || stopped) return;
    const { kind } = state;
    const current = store.get(kind.gvr, state.namespace, state.name);
    // Gone, replaced, or changed again: the event for that change owns the next write.
    if (!current || current.metadata.uid !== state.uid || kind.target(current) !== state.target) return;

    let granted = kind.wantedPods(current, nodes);
    let insufficient: string[] = [];
    if (phase === 'ready' && ledger) {
      const allocation = ledger.allocate(key, podRequests(podTemplateOf(current).spec), granted);
      ({ granted, insufficient } = allocation);
      if (granted < kind.wantedPods(current, nodes)) starved.add(key);
      else starved.delete(key);
      if (kind.releasesCapacityWhenReady && granted > 0) ledger.release(key);
      if (allocation.freed || (kind.releasesCapacityWhenReady && granted > 0)) queueMicrotask(wakeStarved);
    }
    const status = kind.status({
      object: current,
      phase,
      granted,
      insufficient,
      templateChanged: state.templateChanged,
      now: now(),
      nodes,
    });
    if (phase === 'ready') state.templateChanged = false;
    if (JSON.stringify(current.status ?? {}) !== JSON.stringify(status)) {
      try {
        await store.updateStatus(kind.gvr, { ...current, status });
      } catch (error) {
        // A controller requeues a failed status write (a conflict, a webhook denying deployments/status).
        if (attempt < MAX_WRITE_ATTEMPTS && !state.stopped && !stopped) {
          if (!state.timer) schedule(key, state, phase, Math.max(50, delayMs) * attempt, attempt + 1);
        } else {
          report(error, state);
        }
        return;
      }
    }
    if (pods && !state.stopped) {
      const latest = store.get(kind.gvr, state.namespace, state.name);
      if (latest && latest.metadata.uid === state.uid)
        await pods.sync(kind, latest, phase, granted, insufficient).catch((error: unknown) => report(error, state));
    }
  }

  function observe(event: StoreEvent): void {
    if (stopped) return;
    const kind = kindsByResource.get(`${event.gvr.group}/${event.gvr.resource}`);
    if (!kind || event.gvr.version !== kind.gvr.version) return;
    const object = event.object;
    if (kind.manages && !kind.manages(object)) return;
    const key = keyOf(kind, object);
    if (event.type === 'DELETED') {
      const state = states.get(key);
      forget(key);
      if (pods && state) void pods.remove(kind, object).catch((error: unknown) => report(error, state));
      return;
    }
    let state = states.get(key);
    if (state && state.uid !== object.metadata.uid) {
      forget(key);
      state = undefined;
    }
    const target = kind.target(object);
    if (state?.target === target) return;

    const hash = templateHash(podTemplateOf(object));
    const firstSight = !state;
    if (!state) {
      state = {
        kind,
        namespace: object.metadata.namespace,
        name: object.metadata.name ?? '',
        uid: object.metadata.uid ?? '',
        target,
        templateHash: hash,
        templateChanged: true,
        chain: Promise.resolve(),
        stopped: false,
      };
      states.set(key, state);
    } else {
      state.target = target;
      state.templateChanged = state.templateChanged || state.templateHash !== hash;
      state.templateHash = hash;
    }

    if (firstSight && kind.settled(object)) {
      // Already progressed (the simulator restarted): a finished Job needs nothing; other kinds re-take their
      // capacity with a ready evaluation that writes only if the outcome differs.
      state.templateChanged = false;
      if (!kind.releasesCapacityWhenReady) schedule(key, state, 'ready', 0);
      return;
    }
    if (intermediate && delayMs > 0) enqueue(key, state, 'progressing');
    schedule(key, state, 'ready', delayMs);
  }

  const unsubscribe = store.subscribe(observe);
  for (const kind of KINDS) {
    if (!store.resolve(kind.gvr)) continue;
    for (const object of store.list(kind.gvr)) observe({ type: 'ADDED', gvr: kind.gvr, object });
  }

  return {
    stop(): void {
      stopped = true;
      unsubscribe();
      for (const key of [...states.keys()]) {
        const state = states.get(key);
        if (state?.timer) clearTimeout(state.timer);
        if (state) state.stopped = true;
      }
      states.clear();
      starved.clear();
    },
  };
}
