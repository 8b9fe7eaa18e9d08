import type { KubeClient, KubeConnector, KubeObject, ResourceName, ResourceType } from '../../../lib/ports/kube-client';
import { ConflictError, NotFoundError, type TmcError } from '../../../lib/errors/tmc-error';

/**
 * An in-memory Kubernetes endpoint for use-case tests that need exact control (fault injection per call). The
 * simulator-backed tests (sim-*.test.ts) cover the real HTTP path.
 */
export type Verb = 'get' | 'list' | 'apply' | 'mergePatch' | 'patchStatus' | 'delete' | 'resources';

const BUILTIN: ResourceType[] = [
  { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true },
  { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true },
  { group: '', version: 'v1', resource: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
  { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true },
  { group: 'batch', version: 'v1', resource: 'jobs', kind: 'Job', namespaced: true },
];

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export class FakeKubeClient implements KubeClient {
  readonly objects = new Map<string, KubeObject>();
  readonly calls: Array<{ verb: Verb; key: string }> = [];
  readonly served: ResourceType[] = [...BUILTIN];
  private readonly faults: Array<{ verb: Verb; error: TmcError }> = [];
  private rv = 1;

  constructor(readonly target: string) {}

  count(verb: Verb): number {
    return this.calls.filter((c) => c.verb === verb).length;
  }
  writes(): number {
    return this.calls.filter(
      (c) => c.verb === 'apply' || c.verb === 'mergePatch' || c.verb === 'patchStatus' || c.verb === 'delete',
    ).length;
  }
  failNext(verb: Verb, error: TmcError): void {
    this.faults.push({ verb, error });
  }
  put(resource: string, object: KubeObject): void {
    this.objects.set(`${resource}|${object.metadata.namespace ?? ''}|${object.metadata.name}`, {
      ...object,
      metadata: { uid: `uid-${this.rv}`, ...object.metadata, resourceVersion: String(this.rv++) },
    });
  }
  find(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(`${resource}|${namespace ?? ''}|${name}`);
  }

  private record(verb: Verb, key: string): void {
    this.calls.push({ verb, key });
    const i = this.faults.findIndex((f) => f.verb === verb);
    if (i >= 0) throw this.faults.splice(i, 1)[0].error;
  }

  async get(n: ResourceName): Promise<KubeObject | undefined> {
    const key = `${n.resource}|${n.namespace ?? ''}|${n.name}`;
    this.record('get', key);
    const o = this.objects.get(key);
    return o && structuredClone(o);
  }
  async list(type: { resource: string }, options?: { namespace?: string }): Promise<KubeObject[]> {
    this.record('list', type.resource);
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(`${type.resource}|${options?.namespace ?? ''}`))
      .map(([, o]) => structuredClone(o));
  }
  async apply(type: Omit<ResourceType, 'namespaced'>, object: KubeObject): Promise<KubeObject> {
    const key = `${type.resource}|${object.metadata.namespace ?? ''}|${object.metadata.name}`;
    this.record('apply', key);
    if (object.metadata.namespace && !this.objects.has(`namespaces||${object.metadata.namespace}`)) {
      throw new NotFoundError(`namespaces "${object.metadata.namespace}" not found`, { statusCode: 404 });
    }
    const before = this.objects.get(key);
    const generation = (before?.metadata.generation ?? 0) + 1;
    const stored = {
      ...structuredClone(object),
      metadata: {
        ...structuredClone(object.metadata),
        uid: before?.metadata.uid ?? `uid-${this.rv}`,
        resourceVersion: String(this.rv++),
        generation,
      },
      status: before?.status,
    };
    this.objects.set(key, stored);
    return structuredClone(stored);
  }
  async mergePatch(n: ResourceName, patch: Record<string, unknown>): Promise<KubeObject> {
    const key = `${n.resource}|${n.namespace ?? ''}|${n.name}`;
    this.record('mergePatch', key);
    const before = this.objects.get(key);
    if (!before) throw new NotFoundError(`${key} not found`, { statusCode: 404 });
    const wantRv = (patch.metadata as Record<string, unknown> | undefined)?.resourceVersion;
    if (wantRv !== undefined && wantRv !== before.metadata.resourceVersion)
      throw new ConflictError(`${key} changed`, { statusCode: 409 });
    const after = mergePatch(before, patch) as KubeObject;
    after.metadata.resourceVersion = String(this.rv++);
    if (after.metadata.deletionTimestamp && !(after.metadata.finalizers ?? []).length) this.objects.delete(key);
    else this.objects.set(key, after);
    return structuredClone(after);
  }
  async patchStatus(
    n: ResourceName,
    status: Record<string, unknown>,
    options: { resourceVersion?: string } = {},
  ): Promise<KubeObject> {
    const key = `${n.resource}|${n.namespace ?? ''}|${n.name}`;
    this.record('patchStatus', key);
    const before = this.objects.get(key);
    if (!before) throw new NotFoundError(`${key} not found`, { statusCode: 404 });
    if (options.resourceVersion !== undefined && options.resourceVersion !== before.metadata.resourceVersion)
      throw new ConflictError(`${key} changed`, { statusCode: 409 });
    const after = {
      ...before,
      status: mergePatch(before.status, status),
      metadata: { ...before.metadata, resourceVersion: String(this.rv++) },
    };
    this.objects.set(key, after);
    return structuredClone(after);
  }
  async delete(n: ResourceName): Promise<'deleted' | 'absent'> {
    const key = `${n.resource}|${n.namespace ?? ''}|${n.name}`;
    this.record('delete', key);
    return this.objects.delete(key) ? 'deleted' : 'absent';
  }
  async resources(): Promise<ResourceType[]> {
    this.record('resources', '');
    return this.served;
  }
  async ready(): Promise<{ ok: boolean; latencyMs: number }> {
    return { ok: true, latencyMs: 0 };
  }
}

export class FakeConnector implements KubeConnector {
  readonly kcps = new Map<string, FakeKubeClient>();
  readonly clusters = new Map<string, FakeKubeClient>();
  async kcp(workspace: string): Promise<KubeClient> {
    let c = this.kcps.get(workspace);
    if (!c) this.kcps.set(workspace, (c = new FakeKubeClient(`kcp:${workspace}`)));
    return c;
  }
  async cluster(_workspace: string, syncTarget: string): Promise<KubeClient> {
    let c = this.clusters.get(syncTarget);
    if (!c) this.clusters.set(syncTarget, (c = new FakeKubeClient(syncTarget)));
    return c;
  }
  forget(): void {}
  kcpOf(workspace: string): FakeKubeClient {
    void this.kcp(workspace);
    return this.kcps.get(workspace) as FakeKubeClient;
  }
  clusterOf(name: string): FakeKubeClient {
    void this.cluster('', name);
    return this.clusters.get(name) as FakeKubeClient;
  }
}
