import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueDepth } from '../../metrics/rollup';

export interface QueueUrls {
  name: string;
  url: string;
  /** Without it the DLQ is not read (`dlq` 0): the recovery sweep's quiet gate reads its DLQs by receiving. */
  dlqUrl?: string;
}

const NONE = {
  ApproximateNumberOfMessages: 0,
  ApproximateNumberOfMessagesNotVisible: 0,
  ApproximateNumberOfMessagesDelayed: 0,
};

const DEPTH_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
] as const;

/**
 * Queue depths from SQS GetQueueAttributes (two calls per queue: the queue and its DLQ). SQS does not expose the age
 * of the oldest message through the API: in the cloud CloudWatch publishes it natively (`AWS/SQS`
 * `ApproximateAgeOfOldestMessage`, used by the alarms and the dashboard), and peeking at a message would change its
 * receive count and visibility, so `tmc_queue_oldest_message_age_seconds` is not produced here (docs/metrics.md).
 */
export class SqsQueueDepths {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queues: readonly QueueUrls[],
  ) {}

  async queueDepths(): Promise<QueueDepth[]> {
    return Promise.all(
      this.queues.map(async (q) => {
        const [main, dlq] = await Promise.all([
          this.attributes(q.url),
          q.dlqUrl === undefined ? NONE : this.attributes(q.dlqUrl),
        ]);
        return {
          queue: q.name,
          visible: main.ApproximateNumberOfMessages,
          inFlight: main.ApproximateNumberOfMessagesNotVisible,
          delayed: main.ApproximateNumberOfMessagesDelayed,
          dlq:
            dlq.ApproximateNumberOfMessages +
            dlq.ApproximateNumberOfMessagesNotVisible +
            dlq.ApproximateNumberOfMessagesDelayed,
        };
      }),
    );
  }

  private async attributes(url: string): Promise<Record<(typeof DEPTH_ATTRIBUTES)[number], number>> {
    const out = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [...DEPTH_ATTRIBUTES] }),
    );
    const read = (name: (typeof DEPTH_ATTRIBUTES)[number]): number => {
      const value = Number(out.Attributes?.[name] ?? 0);
      return Number.isFinite(value) ? value : 0;
    };
    return {
      ApproximateNumberOfMessages: read('ApproximateNumberOfMessages'),
      ApproximateNumberOfMessagesNotVisible: read('ApproximateNumberOfMessagesNotVisible'),
      ApproximateNumberOfMessagesDelayed: read('ApproximateNumberOfMessagesDelayed'),
    };
  }
}
