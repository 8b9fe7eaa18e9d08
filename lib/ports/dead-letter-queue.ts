import type { QueueName } from '../runtime/resources';

/** One message SQS moved to a queue's DLQ after maxReceiveCount deliveries. */
export interface DeadLetter {
  body: string;
  receiptHandle: string;
}

/** A queue's dead-letter queue, as the recovery sweep redrives it. */
export interface DeadLetterQueue {
  /** The source queue (`sync`): where redriven messages go back to. */
  readonly name: QueueName;
  /** Up to `max` messages, hidden from other readers for `visibilitySeconds`. */
  receive(max: number, visibilitySeconds: number): Promise<DeadLetter[]>;
  /** Sends the body back to the source queue, delivered after `delaySeconds` (SQS allows up to 900). */
  redrive(body: string, delaySeconds: number): Promise<void>;
  /** Removes a message from the DLQ (after it was redriven). */
  remove(letter: DeadLetter): Promise<void>;
  /** Keeps a message in the DLQ, invisible for `seconds` (up to 12 hours). */
  hide(letter: DeadLetter, seconds: number): Promise<void>;
}
