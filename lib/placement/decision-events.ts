import type { ObjectEvent } from '../ports/event-recorder';
import type { DecisionDiff } from './diff';
import type { Decision } from './types';

/**
 * The Event a new decision is worth on the kcp object (`kubectl describe` shows it), or undefined when nothing a user
 * reads changed: placed (where), moved by failover (off which clusters, to which), placed nowhere (why), or a removal
 * held by the un-placement gate. Decision messages name clusters, Placements and kinds, never an object's content.
 */
export function decisionEvent(
  decision: Pick<Decision, 'clusters' | 'scheduled' | 'reason' | 'message'>,
  diff: DecisionDiff,
  evicted: ReadonlySet<string>,
): ObjectEvent | undefined {
  if (decision.reason === 'DeletionHeld') return { type: 'Warning', reason: 'DeletionHeld', message: decision.message };
  if (!decision.scheduled) return { type: 'Warning', reason: 'FailedPlacement', message: decision.message };
  if (diff.added.length === 0 && diff.removed.length === 0) return undefined;
  const names = decision.clusters.map((c) => c.name).join(', ');
  const failedOver = diff.removed.filter((c) => evicted.has(c));
  if (failedOver.length) {
    const to = diff.added.length ? diff.added.join(', ') : 'its other clusters';
    return {
      type: 'Normal',
      reason: 'FailedOver',
      message: `Moved off ${failedOver.join(', ')} (unhealthy past evictAfter or tainted NoExecute) to ${to}; runs on ${names}`,
    };
  }
  const removed = diff.removed.length ? `; removed from ${diff.removed.join(', ')}` : '';
  return { type: 'Normal', reason: 'Placed', message: `Placed on ${names}${removed}` };
}
