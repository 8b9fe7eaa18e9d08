import type { QueueMessage } from '../api/messages';
import type { Metrics } from '../ports/telemetry';
import type { WorkQueue } from '../ports/work-queue';

/**
 * A WorkQueue that counts what it sends (`tmc_messages_enqueued_total{queue}`) and tells an observer, so composition
 * roots add metrics and trace steps around a queue without touching the use cases that send.
 */
export function observedQueue<M extends QueueMessage>(
  queue: WorkQueue<M>,
  metrics: Metrics,
  onSent?: (messages: M[]) => Promise<void>,
): WorkQueue<M> {
  return {
    name: queue.name,
    async send(messages, options): Promise<void> {
      await queue.send(messages, options);
      if (messages.length > 0) metrics.increment('tmc_messages_enqueued_total', { queue: queue.name }, messages.length);
      if (onSent !== undefined && messages.length > 0) await onSent(messages);
    },
  };
}
