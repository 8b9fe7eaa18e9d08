import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { MessageDeferrer } from '../../ports/message-deferrer';
import { MAX_VISIBILITY_SECONDS } from '../../errors/backoff';

/**
 * Backoff on SQS: the failed message stays in flight for `delaySeconds`, then SQS redelivers it (and counts the
 * receive towards the DLQ's maxReceiveCount). A failure to change visibility is swallowed: the message is still
 * reported as failed and comes back after the queue's default visibility timeout, which is a longer backoff, not a loss.
 */
export class SqsVisibilityDeferrer implements MessageDeferrer {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly onError: (err: unknown) => void = (): void => undefined,
  ) {}

  async defer(receiptHandle: string, delaySeconds: number): Promise<void> {
    const seconds = Math.max(0, Math.min(MAX_VISIBILITY_SECONDS, Math.round(delaySeconds)));
    try {
      await this.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
    } catch (err) {
      this.onError(err);
    }
  }
}
