import { loadEvent } from '../../support/events';
import { validateTmcObject } from '../../../lib/api/crds';
import type { QueueMessage } from '../../../lib/api/messages';
import { objectKey, type ObjectRef } from '../../../lib/api/object-ref';
import { StaticTokenSource } from '../../../lib/auth/token-source';
import { WebhookAuthenticator } from '../../../lib/auth/webhook-authenticator';
import type { IngressDeps } from '../../../lib/ingress/deps';
import { silentLog } from '../../../lib/observability/log';
import type { IngressRequest } from '../../../lib/ingress/http';
import type { PlacedVersion, PlacedVersions, SeenStore } from '../../../lib/ports/seen-store';
import type { StatusCredentialStore } from '../../../lib/ports/status-credential-store';
import type { Metrics } from '../../../lib/ports/telemetry';
import type { WorkQueue } from '../../../lib/ports/work-queue';

export const TOKEN = 'token-current-0123456789';
export const OLD_TOKEN = 'token-previous-9876543210';

export function sample(name: string): unknown {
  return loadEvent<unknown>('ingress', name);
}

export class MemorySeenStore implements SeenStore {
  readonly records = new Map<string, string>();
  /** markSeen calls: each is a conditional write of a SEEN item in DynamoDB. */
  writes = 0;
  async markSeen(key: string, fingerprint: string): Promise<boolean> {
    this.writes += 1;
    if (this.records.get(key) === fingerprint) return false;
    this.records.set(key, fingerprint);
    return true;
  }
  async forget(key: string, fingerprint: string): Promise<void> {
    if (this.records.get(key) === fingerprint) this.records.delete(key);
  }
}

/** The versions decisions were made from, by object key (what placement records); counts the reads asked. */
export class MemoryPlacedVersions implements PlacedVersions {
  readonly versions = new Map<string, PlacedVersion>();
  reads = 0;
  async placed(refs: readonly ObjectRef[]): Promise<Map<string, PlacedVersion>> {
    this.reads += 1;
    const out = new Map<string, PlacedVersion>();
    for (const ref of refs) {
      const version = this.versions.get(objectKey(ref));
      if (version) out.set(objectKey(ref), version);
    }
    return out;
  }
}

export class RecordingQueue<M extends QueueMessage> implements WorkQueue<M> {
  readonly sent: M[] = [];
  constructor(readonly name: string) {}
  async send(messages: M[]): Promise<void> {
    this.sent.push(...messages);
  }
}

/** A queue whose sends never settle: SQS hanging. */
export class HangingQueue<M extends QueueMessage> implements WorkQueue<M> {
  constructor(readonly name: string) {}
  send(): Promise<void> {
    return new Promise(() => undefined);
  }
}

export class RecordingMetrics implements Metrics {
  readonly counts = new Map<string, number>();
  increment(name: string, labels: Record<string, string> = {}, value = 1): void {
    const key = `${name}${JSON.stringify(labels)}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + value);
  }
  observe(): void {}
  gauge(): void {}
  total(name: string): number {
    let sum = 0;
    for (const [key, value] of this.counts) if (key.startsWith(`${name}{`)) sum += value;
    return sum;
  }
}

export function makeDeps(overrides: Partial<IngressDeps> = {}): IngressDeps & {
  placementQueue: RecordingQueue<never> | WorkQueue<never>;
} {
  return {
    authenticator: new WebhookAuthenticator(new StaticTokenSource([TOKEN, OLD_TOKEN])),
    placementQueue: new RecordingQueue('placement'),
    statusQueue: new RecordingQueue('status'),
    seen: new MemorySeenStore(),
    validate: validateTmcObject,
    logger: silentLog,
    metrics: new RecordingMetrics(),
    newTraceId: () => 'trace-1',
    now: () => Date.parse('2025-01-01T00:00:00Z'),
    // No retries after the answer unless a test asks for them: nothing outlives a test.
    enqueueRetryDelaysMs: [],
    ...overrides,
  } as never;
}

export function request(
  route: IngressRequest['route'],
  body: unknown,
  extra: Partial<IngressRequest> = {},
): IngressRequest {
  return {
    route,
    headers: { authorization: `Bearer ${TOKEN}` },
    query: route === 'admission' ? { workspace: 'root:default' } : {},
    body: typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
    ...extra,
  };
}

/** Status credential digests in memory, counting reads (one per authenticated status call). */
export class MemoryStatusCredentialStore implements StatusCredentialStore {
  readonly items = new Map<string, string[]>();
  reads = 0;
  async digests(cluster: string): Promise<string[]> {
    this.reads += 1;
    return [...(this.items.get(cluster) ?? [])];
  }
  async add(cluster: string, digest: string): Promise<void> {
    this.items.set(cluster, [digest, ...(this.items.get(cluster) ?? [])].slice(0, 2));
  }
  async revoke(cluster: string): Promise<void> {
    this.items.delete(cluster);
  }
}
