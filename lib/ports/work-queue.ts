import type { QueueMessage } from '../api/messages';

/** A queue of level-triggered work. Implementations batch and retry transient send failures themselves. */
export interface WorkQueue<M extends QueueMessage = QueueMessage> {
  readonly name: string;
  send(messages: M[], options?: { delaySeconds?: number }): Promise<void>;
}
