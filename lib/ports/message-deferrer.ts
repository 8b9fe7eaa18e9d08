/**
 * Hides a received queue message for a while so it is redelivered later: the backoff of a queue consumer. SQS has no
 * per-message delay on redelivery other than the visibility timeout, so this is `ChangeMessageVisibility`.
 */
export interface MessageDeferrer {
  defer(receiptHandle: string, delaySeconds: number): Promise<void>;
  /** Several messages of one batch in as few requests as the queue allows (ChangeMessageVisibilityBatch: ten each). */
  deferMany?(deferrals: ReadonlyArray<{ receiptHandle: string; delaySeconds: number }>): Promise<void>;
}

/** For consumers not fed by SQS (tests, direct invocation): redelivery uses the queue's own visibility timeout. */
export const noDeferral: MessageDeferrer = { defer: async (): Promise<void> => undefined };
