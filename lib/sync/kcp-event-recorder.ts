import { systemClock, type Clock } from '../ports/clock';
import { createHash } from 'node:crypto';
import type { ObjectRef } from '../api/object-ref';
import type { EventRecorder, ObjectEvent } from '../ports/event-recorder';
import type { KubeConnector } from '../ports/kube-client';

const EVENTS = { group: '', version: 'v1', resource: 'events' } as const;

/** Events of cluster-scoped objects live in `default`, as kube-apiserver's recorder puts them. */
const CLUSTER_SCOPED_EVENT_NAMESPACE = 'default';

export interface KcpEventRecorderOptions {
  now?: Clock;
  /** A repeat of one event on one object within this window is counted in memory, not written. */
  windowMs?: number;
  /** At most this many distinct events remembered per container (oldest forgotten first). */
  maxTracked?: number;
  /**
   * Spam filter per object, as kube's EventSourceObjectSpamFilter: a bucket of `burst` Events that refills one every
   * `refillMs`; an Event that finds it empty is dropped (counted into its next write when it is a repeat).
   */
  burst?: number;
  refillMs?: number;
  onError?: (err: unknown) => void;
}

interface Tracked {
  writtenAt: number;
  /** Repeats seen since the last write. */
  pending: number;
}

/**
 * Writes Events to kcp through tmc's own kcp clients. The Event's name is the object's name and a hash of (uid,
 * reason, message), so a repeat finds the Event written before and raises its `count` (one merge patch), as kube's
 * EventAggregator does; repeats within `windowMs` of a write are only counted, and carried into the next write. A
 * per-object token bucket bounds how many writes one object's Events may cost, as kube's spam filter does.
 */
export function makeKcpEventRecorder(kube: KubeConnector, options: KcpEventRecorderOptions = {}): EventRecorder {
  const now = options.now ?? systemClock;
  const windowMs = options.windowMs ?? 60_000;
  const maxTracked = options.maxTracked ?? 1000;
  const tracked = new Map<string, Tracked>();
  const burst = options.burst ?? 25;
  const refillMs = options.refillMs ?? 300_000;
  const buckets = new Map<string, { tokens: number; at: number }>();

  /** Takes a token from the object's bucket; false when it is empty (kube's defaults: 25, then one per 5 minutes). */
  function take(objectKey: string, at: number): boolean {
    const bucket = buckets.get(objectKey) ?? { tokens: burst, at };
    const gained = Math.max(0, Math.floor((at - bucket.at) / refillMs));
    const tokens = Math.min(burst, bucket.tokens + gained);
    const refilledAt = tokens === burst ? at : bucket.at + gained * refillMs;
    buckets.delete(objectKey);
    if (buckets.size >= maxTracked) buckets.delete(buckets.keys().next().value ?? objectKey);
    if (tokens < 1) {
      buckets.set(objectKey, { tokens, at: refilledAt });
      return false;
    }
    buckets.set(objectKey, { tokens: tokens - 1, at: refilledAt });
    return true;
  }

  async function write(
    ref: ObjectRef,
    event: ObjectEvent,
    name: string,
    namespace: string,
    repeats: number,
  ): Promise<void> {
    const kcp = await kube.kcp(ref.workspace);
    const at = new Date(now()).toISOString();
    const current = await kcp.get({ ...EVENTS, namespace, name });
    if (current) {
      const count = typeof current.count === 'number' ? current.count : 1;
      await kcp.mergePatch(
        { ...EVENTS, namespace, name },
        { count: count + repeats, lastTimestamp: at, metadata: { resourceVersion: current.metadata.resourceVersion } },
      );
      return;
    }
    await kcp.apply(
      { ...EVENTS, kind: 'Event' },
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: ref.group ? `${ref.group}/${ref.version}` : ref.version,
          kind: ref.kind,
          name: ref.name,
          ...(ref.namespace ? { namespace: ref.namespace } : {}),
          ...(ref.uid ? { uid: ref.uid } : {}),
        },
        type: event.type,
        reason: event.reason,
        message: event.message,
        count: repeats,
        firstTimestamp: at,
        lastTimestamp: at,
        source: { component: 'tmc' },
        reportingComponent: 'tmc',
        reportingInstance: 'tmc',
        action: event.reason,
      },
      { force: true },
    );
  }

  return {
    async record(ref, event) {
      const digest = createHash('sha256')
        .update(`${ref.uid ?? ''}\n${event.reason}\n${event.message}`)
        .digest('hex')
        .slice(0, 16);
      const name = `${ref.name}.${digest}`;
      const namespace = ref.namespace ?? CLUSTER_SCOPED_EVENT_NAMESPACE;
      const key = `${ref.workspace}|${namespace}|${name}`;
      const seen = tracked.get(key);
      const at = now();
      if (seen && at - seen.writtenAt < windowMs) {
        seen.pending++;
        return;
      }
      if (!take(`${ref.workspace}|${namespace}|${ref.uid ?? ref.name}`, at)) {
        if (seen) seen.pending++;
        return;
      }
      const repeats = 1 + (seen?.pending ?? 0);
      tracked.delete(key);
      tracked.set(key, { writtenAt: at, pending: 0 });
      if (tracked.size > maxTracked) tracked.delete(tracked.keys().next().value ?? key);
      try {
        await write(ref, event, name, namespace, repeats);
      } catch (err) {
        options.onError?.(err);
      }
    },
  };
}
