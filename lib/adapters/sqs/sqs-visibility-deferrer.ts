import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { MessageDeferrer } from '../../ports/message-deferrer';
import { MAX_VISIBILITY_SECONDS } from '../../errors/backoff';
import { SQS_MAX_BATCH_ENTRIES } from './sqs-work-queue';

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
    try {
      await this.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: visibility(delaySeconds),
        }),
      );
    } catch (err) {
      this.onError(err);
    }
  }

  /** One ChangeMessageVisibilityBatch per ten; an entry SQS fails is reported like a failed `defer`, never thrown. */
  async deferMany(deferrals: ReadonlyArray<{ receiptHandle: string; delaySeconds: number }>): Promise<void> {
    const chunks: Array<typeof deferrals> = [];
    for (let i = 0; i < deferrals.length; i += SQS_MAX_BATCH_ENTRIES)
      chunks.push(deferrals.slice(i, i + SQS_MAX_BATCH_ENTRIES));
    await Promise.all(
      chunks.map(async (chunk) => {
        try {
          const out = await this.sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: this.queueUrl,
              Entries: chunk.map((d, i) => ({
                Id: String(i),
                ReceiptHandle: d.receiptHandle,
                VisibilityTimeout: visibility(d.delaySeconds),
              })),
            }),
          );
          for (const failed of out.Failed ?? [])
            this.onError(
              new Error(`ChangeMessageVisibility failed for entry ${failed.Id ?? '?'}: ${failed.Code ?? 'unknown'}`),
            );
        } catch (err) {
          this.onError(err);
        }
      }),
    );
  }
}

function visibility(delaySeconds: number): number {
  return Math.max(0, Math.min(MAX_VISIBILITY_SECONDS, Math.round(delaySeconds)));
}
