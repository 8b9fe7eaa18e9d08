import { randomUUID } from 'node:crypto';
import type { GroupVersionResource, KubeObject } from '../../../lib/kube/object';
import type { SimClusterStore, StoreEvent } from '../../../lib/sim/contracts';

const SERVED: Record<string, { kind: string; namespaced: boolean; hasStatus: boolean }> = {
  '/namespaces': { kind: 'Namespace', namespaced: false, hasStatus: true },
  '/pods': { kind: 'Pod', namespaced: true, hasStatus: true },
  '/configmaps': { kind: 'ConfigMap', namespaced: true, hasStatus: false },
  'apps/deployments': { kind: 'Deployment', namespaced: true, hasStatus: true },
  'apps/replicasets': { kind: 'ReplicaSet', namespaced: true, hasStatus: true },
  'apps/statefulsets': { kind: 'StatefulSet', namespaced: true, hasStatus: true },
  'apps/daemonsets': { kind: 'DaemonSet', namespaced: true, hasStatus: true },
  'batch/jobs': { kind: 'Job', namespaced: true, hasStatus: true },
  'admissionregistration.k8s.io/mutatingwebhookconfigurations': {
    kind: 'MutatingWebhookConfiguration',
    namespaced: false,
    hasStatus: false,
  },
  'admissionregistration.k8s.io/validatingwebhookconfigurations': {
    kind: 'ValidatingWebhookConfiguration',
    namespaced: false,
    hasStatus: false,
  },
};

/**
 * An in-memory SimClusterStore with the semantics the contract promises (uid, resourceVersion, generation bumped
 * on spec changes, synchronous events), plus `update` for tests to change specs and a hook to fail status writes.
 */
export class FakeClusterStore implements SimClusterStore {
  readonly name = 'fake';
  private readonly objects = new Map<string, KubeObject>();
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  private resourceVersion = 0;
  readonly statusWrites: Array<{ gvr: GroupVersionResource; object: KubeObject }> = [];
  /** Throw from updateStatus (e.g. to simulate a webhook denying deployments/status). */
  failStatusWrites?: (gvr: GroupVersionResource, object: KubeObject) => Error | undefined;

  private key(gvr: GroupVersionResource, namespace: string | undefined, name: string): string {
    return `${gvr.group}/${gvr.resource}/${namespace ?? ''}/${name}`;
  }

  resolve(gvr: GroupVersionResource): { kind: string; namespaced: boolean; hasStatus: boolean } | undefined {
    return SERVED[`${gvr.group}/${gvr.resource}`];
  }

  get(gvr: GroupVersionResource, namespace: string | undefined, name: string): KubeObject | undefined {
    const object = this.objects.get(this.key(gvr, namespace, name));
    return object ? structuredClone(object) : undefined;
  }

  list(gvr: GroupVersionResource, namespace?: string): KubeObject[] {
    const prefix = `${gvr.group}/${gvr.resource}/${namespace ?? ''}`;
    return [...this.objects.entries()]
      .filter(([key]) =>
        namespace === undefined ? key.startsWith(`${gvr.group}/${gvr.resource}/`) : key.startsWith(`${prefix}/`),
      )
      .map(([, object]) => structuredClone(object));
  }

  create(gvr: GroupVersionResource, object: KubeObject): KubeObject {
    const key = this.key(gvr, object.metadata.namespace, object.metadata.name ?? '');
    if (this.objects.has(key)) throw new Error(`${gvr.resource} "${object.metadata.name}" already exists`);
    const stored: KubeObject = structuredClone({
      ...object,
      metadata: {
        ...object.metadata,
        uid: randomUUID(),
        resourceVersion: String(++this.resourceVersion),
        generation: 1,
        creationTimestamp: new Date().toISOString(),
      },
    });
    this.objects.set(key, stored);
    this.emit({ type: 'ADDED', gvr, object: stored });
    return structuredClone(stored);
  }

  /** A spec update as a client's PUT would make it (generation bumped when spec changes). */
  update(gvr: GroupVersionResource, object: KubeObject): KubeObject {
    const key = this.key(gvr, object.metadata.namespace, object.metadata.name ?? '');
    const old = this.objects.get(key);
    if (!old) throw new Error('not found');
    const specChanged = JSON.stringify(old.spec) !== JSON.stringify(object.spec);
    const stored: KubeObject = structuredClone({
      ...object,
      status: old.status,
      metadata: {
        ...object.metadata,
        uid: old.metadata.uid,
        resourceVersion: String(++this.resourceVersion),
        generation: (old.metadata.generation ?? 1) + (specChanged ? 1 : 0),
      },
    });
    this.objects.set(key, stored);
    this.emit({ type: 'MODIFIED', gvr, object: stored });
    return structuredClone(stored);
  }

  async updateStatus(gvr: GroupVersionResource, object: KubeObject): Promise<KubeObject | undefined> {
    await Promise.resolve();
    const key = this.key(gvr, object.metadata.namespace, object.metadata.name ?? '');
    const old = this.objects.get(key);
    if (!old) return undefined;
    const failure = this.failStatusWrites?.(gvr, object);
    if (failure) throw failure;
    const stored: KubeObject = structuredClone({
      ...old,
      status: object.status,
      metadata: { ...old.metadata, resourceVersion: String(++this.resourceVersion) },
    });
    this.objects.set(key, stored);
    this.statusWrites.push({ gvr, object: structuredClone(stored) });
    this.emit({ type: 'MODIFIED', gvr, object: stored });
    return structuredClone(stored);
  }

  delete(gvr: GroupVersionResource, namespace: string | undefined, name: string): void {
    const key = this.key(gvr, namespace, name);
    const old = this.objects.get(key);
    if (!old) throw new Error(`${gvr.resource} "${name}" not found`);
    this.objects.delete(key);
    this.emit({ type: 'DELETED', gvr, object: old });
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: StoreEvent): void {
    for (const listener of this.listeners) listener(structuredClone(event));
  }
}
