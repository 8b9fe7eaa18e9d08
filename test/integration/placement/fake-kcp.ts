import type { KubeClient, KubeConnector, KubeObject, ResourceName } from '../../../lib/ports/kube-client';
import type { WorkQueue } from '../../../lib/ports/work-queue';
import type { QueueMessage } from '../../../lib/api/messages';
import { NotFoundError } from '../../../lib/errors/tmc-error';

/** An in-memory kcp workspace: enough of KubeClient for placement, counting the writes tests assert on. */
export class FakeKcp implements KubeClient {
  readonly target = 'kcp:root:test';
  readonly objects = new Map<string, KubeObject>();
  readonly calls = { get: 0, list: 0, mergePatch: 0, patchStatus: 0 };
  private rv = 100;

  private key(n: { group: string; resource: string; namespace?: string; name: string }): string {
    return `${n.group}/${n.resource}/${n.namespace ?? ''}/${n.name}`;
  }

  put(group: string, resource: string, object: KubeObject): KubeObject {
    const stored = structuredClone(object);
    stored.metadata.resourceVersion = String(++this.rv);
    stored.metadata.uid ??= `uid-${object.metadata.name}`;
    this.objects.set(
      this.key({ group, resource, namespace: object.metadata.namespace, name: object.metadata.name ?? '' }),
      stored,
    );
    return structuredClone(stored);
  }

  remove(group: string, resource: string, namespace: string | undefined, name: string): void {
    this.objects.delete(this.key({ group, resource, namespace, name }));
  }

  async get(name: ResourceName): Promise<KubeObject | undefined> {
    this.calls.get++;
    const o = this.objects.get(this.key(name));
    return o ? structuredClone(o) : undefined;
  }

  async list(type: { group: string; version: string; resource: string }): Promise<KubeObject[]> {
    this.calls.list++;
    const prefix = `${type.group}/${type.resource}/`;
    return [...this.objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([, o]) => structuredClone(o));
  }

  async mergePatch(name: ResourceName, patch: Record<string, unknown>): Promise<KubeObject> {
    this.calls.mergePatch++;
    const o = this.objects.get(this.key(name));
    if (!o) throw new NotFoundError(`${this.key(name)} was not found`, { statusCode: 404 }); // as the kube adapter answers 404
    const merged = (field: 'labels' | 'annotations'): Record<string, string> => {
      const out = { ...(o.metadata[field] ?? {}) };
      const want = ((patch.metadata as Record<string, unknown>)?.[field] ?? {}) as Record<string, string | null>;
      for (const [k, v] of Object.entries(want)) {
        if (v === null) delete out[k];
        else out[k] = v;
      }
      return out;
    };
    o.metadata.labels = merged('labels');
    const annotations = merged('annotations');
    if (Object.keys(annotations).length) o.metadata.annotations = annotations;
    const finalizers = (patch.metadata as Record<string, unknown> | undefined)?.finalizers;
    if (Array.isArray(finalizers)) o.metadata.finalizers = finalizers.filter((f) => typeof f === 'string');
    o.metadata.resourceVersion = String(++this.rv);
    return structuredClone(o);
  }

  async patchStatus(name: ResourceName, status: Record<string, unknown>): Promise<KubeObject> {
    this.calls.patchStatus++;
    const o = this.objects.get(this.key(name));
    if (!o) throw new NotFoundError(`${this.key(name)} was not found`, { statusCode: 404 });
    o.status = status;
    o.metadata.resourceVersion = String(++this.rv);
    return structuredClone(o);
  }

  async apply(): Promise<KubeObject> {
    throw new Error('placement never applies to kcp');
  }
  async delete(): Promise<'deleted' | 'absent'> {
    throw new Error('placement never deletes in kcp');
  }
  async resources(): Promise<[]> {
    return [];
  }
  async ready(): Promise<{ ok: boolean; latencyMs: number }> {
    return { ok: true, latencyMs: 0 };
  }
}

export function fakeConnector(kcp: FakeKcp): KubeConnector {
  return {
    kcp: async () => kcp,
    cluster: async () => {
      throw new Error('placement never talks to clusters');
    },
    forget: () => undefined,
  };
}

export class MemoryQueue<M extends QueueMessage> implements WorkQueue<M> {
  readonly sent: M[] = [];
  constructor(readonly name: string) {}
  async send(messages: M[]): Promise<void> {
    this.sent.push(...messages);
  }
  drain(): M[] {
    return this.sent.splice(0, this.sent.length);
  }
}
