import type { KubeClient, KubeConnector, KubeObject, ResourceName } from '../../../lib/ports/kube-client';
import * as build from '../../support/builders';

/** A kcp that holds SyncTargets and Locations in memory and counts status writes. */
export class FakeKcp implements Partial<KubeClient> {
  readonly target = 'kcp:root:default';
  statusWrites = 0;
  constructor(
    readonly syncTargets: KubeObject[],
    readonly locations: KubeObject[] = [],
  ) {}
  private of(resource: string): KubeObject[] {
    if (resource === 'synctargets') return this.syncTargets;
    if (resource === 'locations') return this.locations;
    throw new Error(`FakeKcp holds no ${resource}`);
  }
  async list(type: { resource: string }): Promise<KubeObject[]> {
    return structuredClone(this.of(type.resource));
  }
  async patchStatus(name: ResourceName, status: Record<string, unknown>): Promise<KubeObject> {
    const found = this.of(name.resource).find((t) => t.metadata.name === name.name);
    if (found === undefined) throw new Error(`no ${name.resource} ${name.name}`);
    found.status = { ...((found.status as Record<string, unknown>) ?? {}), ...status };
    this.statusWrites += 1;
    return found;
  }
}

/** A connector whose clusters answer /readyz as `up` says. */
export function fakeConnector(kcp: FakeKcp, up: Map<string, boolean>): KubeConnector {
  return {
    kcp: async () => kcp as unknown as KubeClient,
    cluster: async (_ws, name) =>
      ({
        target: name,
        ready: async () =>
          up.get(name) ? { ok: true, latencyMs: 5 } : { ok: false, latencyMs: 2000, detail: 'connect ECONNREFUSED' },
      }) as unknown as KubeClient,
    forget: () => undefined,
  };
}

export function syncTarget(name: string): KubeObject {
  return build.syncTarget(name);
}
