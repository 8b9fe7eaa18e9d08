import { SYNC_FINALIZER } from '../api/labels';
import { KubeObjectSchema } from '../api/messages';
import { describeRef, type ObjectRef } from '../api/object-ref';
import { ConfigurationError, TmcError } from '../errors/tmc-error';
import type { KubeClient, KubeObject, ResourceName, ResourceType } from '../ports/kube-client';
import type { VwClient } from './vw-client';

/**
 * kcp as the shared sync code sees it in pull mode: reads of the objects placed on this SyncTarget, and the one write
 * the sync code makes to kcp (releasing tmc's finalizer after a delete), which the view performs only when every
 * cluster's copy is gone. Anything else is not part of the syncer's view.
 */
export class VwKcpClient implements KubeClient {
  readonly target: string;

  constructor(
    private readonly client: VwClient,
    private readonly workspace: string,
  ) {
    this.target = `kcp:${workspace} (virtual workspace)`;
  }

  private ref(name: ResourceName, kind = ''): ObjectRef {
    return {
      workspace: this.workspace,
      group: name.group,
      version: name.version,
      resource: name.resource,
      kind: kind || name.resource,
      ...(name.namespace ? { namespace: name.namespace } : {}),
      name: name.name,
    };
  }

  async get(name: ResourceName): Promise<KubeObject | undefined> {
    const kind = 'kind' in name && typeof name.kind === 'string' ? name.kind : '';
    const ref = this.ref(name, kind);
    let body: unknown;
    try {
      body = await this.client.request('POST', 'object', ref);
    } catch (err) {
      // 403: not placed here (yet). A workload's ConfigMap or Secret is placed by its own placement message, which
      // may come after the workload's: wait for it (push mode reads kcp directly and has no such gap). Never read as
      // absence, which could make the sync code remove a copy.
      if (err instanceof TmcError && err.statusCode === 403)
        throw new TmcError('sync-failure', `${describeRef(ref)} is not placed on this SyncTarget yet; retrying`, {
          cause: err,
          statusCode: 403,
        });
      throw err;
    }
    return body === undefined ? undefined : KubeObjectSchema.parse(body);
  }

  async mergePatch(name: ResourceName, patch: Record<string, unknown>): Promise<KubeObject> {
    const metadata =
      typeof patch.metadata === 'object' && patch.metadata !== null ? (patch.metadata as Record<string, unknown>) : {};
    const finalizers = Array.isArray(metadata.finalizers) ? metadata.finalizers : undefined;
    if (finalizers === undefined || finalizers.includes(SYNC_FINALIZER) || Object.keys(patch).length !== 1) {
      throw new ConfigurationError("The syncer may only release tmc's finalizer in kcp");
    }
    const resourceVersion = typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : undefined;
    const kind = 'kind' in name && typeof name.kind === 'string' ? name.kind : '';
    const body = await this.client.request('POST', 'release-finalizer', {
      ref: this.ref(name, kind),
      ...(resourceVersion !== undefined ? { resourceVersion } : {}),
    });
    if (body === undefined) throw new ConfigurationError(`${name.name} is gone from kcp`);
    return KubeObjectSchema.parse(body);
  }

  list(): Promise<KubeObject[]> {
    return this.refuse('list');
  }
  apply(_type: Omit<ResourceType, 'namespaced'>, _object: KubeObject): Promise<KubeObject> {
    return this.refuse('apply');
  }
  patchStatus(): Promise<KubeObject> {
    return this.refuse('patchStatus');
  }
  delete(): Promise<'deleted' | 'absent'> {
    return this.refuse('delete');
  }
  resources(): Promise<ResourceType[]> {
    return this.refuse('resources');
  }
  async ready(): Promise<{ ok: boolean; latencyMs: number; detail?: string }> {
    return { ok: true, latencyMs: 0 };
  }

  private refuse(operation: string): Promise<never> {
    return Promise.reject(new ConfigurationError(`kcp ${operation} is not part of the syncer's view`));
  }
}
