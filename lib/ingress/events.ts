import type { WatchEvent } from '../api/watch-events';
import type { PlacementMessage } from '../api/messages';
import { gvrKey } from '../api/object-ref';
import type { IngressDeps } from './deps';
import { placementMessage } from './admission';
import { enqueuePlacements, type PlacementItem } from './enqueue';
import { placementFingerprint } from './fingerprint';
import { buildRef, pluralOf, splitApiVersion } from './refs';
import { selectWorkload, tmcKindReason } from './selection';

export interface EventsResult {
  received: number;
  enqueued: number;
  duplicates: number;
  ignored: number;
}

/**
 * Enqueues a batch of watch events, in as few sends as the queue allows (one SendMessageBatch per ten). Unlike
 * admission nothing waits on this answer, so failures are not swallowed: the call fails (5xx) and the relay retries;
 * the seen records of a failed send are dropped so the retry is not deduped away (a workload's event writes none).
 */
export async function ingestEvents(deps: IngressDeps, events: WatchEvent[]): Promise<EventsResult> {
  const result: EventsResult = { received: events.length, enqueued: 0, duplicates: 0, ignored: 0 };
  const items: PlacementItem[] = [];
  for (const event of events) {
    const { group, version } = splitApiVersion(event.object.apiVersion);
    const gvr = event.resource ?? { group, version, resource: pluralOf(event.object.kind) };
    const tmcReason = tmcKindReason(gvr);
    const deleting = event.type === 'DELETED' || typeof event.object.metadata.deletionTimestamp === 'string';
    const ref =
      tmcReason || selectWorkload(gvr, event.object.metadata.namespace, event.object).selected
        ? buildRef({ workspace: event.workspace, ...gvr, kind: event.object.kind, object: event.object })
        : undefined;
    if (!ref) {
      result.ignored += 1;
      continue;
    }
    const reason: PlacementMessage['reason'] = deleting ? 'delete' : (tmcReason ?? 'event');
    deps.logger.debug('Enqueueing a watch event', {
      workspace: ref.workspace,
      gvr: gvrKey(ref),
      namespace: ref.namespace,
      name: ref.name,
    });
    items.push({
      message: placementMessage(deps, ref, event.object, reason, !deleting && !tmcReason),
      fingerprint: placementFingerprint(event.object, deleting),
      // A workload's event usually follows its admission: a duplicate once placement has decided on that version.
      dedup: tmcReason ? 'seen' : 'placed',
    });
  }
  for (const outcome of await enqueuePlacements(deps, items)) {
    if (outcome === 'enqueued') result.enqueued += 1;
    else result.duplicates += 1;
  }
  return result;
}
