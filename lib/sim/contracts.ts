/**
 * Contracts inside the simulator: between the HTTP server and object store (lib/sim/server, lib/sim/store),
 * the admission dispatcher (lib/sim/admission) and the kwok-style workload controllers (lib/sim/controllers).
 * The store owns objects and resourceVersions; admission and controllers only use what is declared here.
 */

import type { GroupVersionKind, GroupVersionResource, KubeObject } from '../kube/object';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  gvr: GroupVersionResource;
  object: KubeObject;
}

/**
 * One isolated object space: a plain cluster, or one kcp logical cluster (e.g. `root:default`).
 * Writes through this interface bypass admission (they are the server's own controllers writing),
 * but keep every other semantic: resourceVersion, generation, watch events, namespace existence.
 */
export interface SimClusterStore {
  /** The logical cluster path (`root:default`) in kcp mode, or the server's name for a plain cluster. */
  readonly name: string;
  /** Kind and scope of a served resource, or undefined when the resource is not served. */
  resolve(gvr: GroupVersionResource): { kind: string; namespaced: boolean; hasStatus: boolean } | undefined;
  get(gvr: GroupVersionResource, namespace: string | undefined, name: string): KubeObject | undefined;
  list(gvr: GroupVersionResource, namespace?: string): KubeObject[];
  create(gvr: GroupVersionResource, object: KubeObject): KubeObject;
  /**
   * Replaces only `.status` of the stored object, as a controller's PUT to the /status subresource does: unlike the
   * other writes here it passes admission (so a cluster's `deployments/status` webhooks fire); a denial rejects.
   * Resolves to the stored object, or undefined when it no longer exists.
   */
  updateStatus(gvr: GroupVersionResource, object: KubeObject): Promise<KubeObject | undefined>;
  delete(gvr: GroupVersionResource, namespace: string | undefined, name: string): void;
  /** Every committed change in this object space; returns an unsubscribe function. */
  subscribe(listener: (event: StoreEvent) => void): () => void;
}

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionAttributes {
  store: SimClusterStore;
  operation: AdmissionOperation;
  gvr: GroupVersionResource;
  kind: GroupVersionKind;
  subResource?: string; // 'status', 'scale'
  namespace?: string;
  name: string;
  object?: KubeObject; // absent on DELETE
  oldObject?: KubeObject; // present on UPDATE and DELETE
  userInfo: { username: string; groups: string[] };
  dryRun: boolean;
}

export type AdmissionOutcome =
  | { allowed: true; object?: KubeObject; warnings?: string[] }
  | { allowed: false; status: { code: number; reason?: string; message: string } };

/**
 * Runs the Mutating then Validating webhooks stored in `attrs.store`
 * (admissionregistration.k8s.io/v1) that match the request.
 */
export interface AdmissionDispatcher {
  admit(attrs: AdmissionAttributes): Promise<AdmissionOutcome>;
}

export interface WorkloadSimulationOptions {
  /** Time from a spec change to the workload being ready/complete. */
  readyDelayMs: number;
  /** Create Pod objects for workloads (off by default: thousands of pods make benchmarks measure the simulator). */
  simulatePods: boolean;
  /** Allocatable capacity; readiness respects it (replicas beyond capacity stay unready). */
  capacity?: { cpu?: string; memory?: string; pods?: number };
}

/** kwok-style controllers that progress workload status in one object space. */
export interface WorkloadSimulator {
  stop(): void;
}
