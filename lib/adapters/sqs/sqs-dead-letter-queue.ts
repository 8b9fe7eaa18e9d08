import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { MAX_VISIBILITY_SECONDS } from '../../errors/backoff';
import type { DeadLetter, DeadLetterQueue } from '../../ports/dead-letter-queue';
import type { QueueName } from '../../runtime/resources';

/** SQS caps DelaySeconds at 15 minutes. */
const MAX_DELAY_SECONDS = 900;

/** A DLQ on SQS and its source queue. Bodies are passed through untouched: they were valid when first sent. */
export class SqsDeadLetterQueue implements DeadLetterQueue {
  constructor(
    readonly name: QueueName,
    private readonly sqs: SQSClient,
    private readonly dlqUrl: string,
    private readonly queueUrl: string,
  ) {}

  async receive(max: number, visibilitySeconds: number): Promise<DeadLetter[]> {
    const out = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.dlqUrl,
        MaxNumberOfMessages: Math.min(10, max),
        VisibilityTimeout: visibilitySeconds,
        WaitTimeSeconds: 0,
      }),
    );
    return (out.Messages ?? []).flatMap((m) =>
      m.Body !== undefined && m.ReceiptHandle !== undefined ? [{ body: m.Body, receiptHandle: m.ReceiptHandle }] : [],
    );
  }

  async redrive(body: string, delaySeconds: number): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: body,
        DelaySeconds: Math.max(0, Math.min(MAX_DELAY_SECONDS, Math.round(delaySeconds))),
      }),
    );
  }

  async remove(letter: DeadLetter): Promise<void> {
    await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.dlqUrl, ReceiptHandle: letter.receiptHandle }));
  }

  async hide(letter: DeadLetter, seconds: number): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.dlqUrl,
        ReceiptHandle: letter.receiptHandle,
        VisibilityTimeout: Math.max(0, Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(seconds))),
      }),
    );
  }
}
