import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import { z } from 'zod';
import type { Log } from '../observability/log';

export interface EventSourceOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  /** How logs name this mapping (`placement → placement`). */
  name: string;
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  maxConcurrency: number;
  invoke: (event: SQSEvent) => Promise<unknown>;
  logger: Log;
  /** Long-poll wait; Lambda's pollers use 20 s. Stopping aborts a pending poll, so this does not delay shutdown. */
  waitTimeSeconds?: number;
}

export interface EventSourceMapping {
  /** Batches being handled now. */
  readonly inFlight: number;
  /** Resolves when the mapping has stopped polling and every running batch has finished. */
  stop(): Promise<void>;
}

const BatchResponseSchema = z.object({
  batchItemFailures: z.array(z.object({ itemIdentifier: z.string() })),
});

function toMessageAttributes(attributes: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    out[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
      ...(value.BinaryValue === undefined ? {} : { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return out;
}

/** One received SQS message as Lambda's event source mapping hands it to a function. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = (message.Attributes ?? {}) as Record<string, string>;
  const recordAttributes: SQSRecordAttributes = {
    ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
    SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
    SenderId: attributes.SenderId ?? '000000000000',
    ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    ...(attributes.AWSTraceHeader ? { AWSTraceHeader: attributes.AWSTraceHeader } : {}),
    ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
    ...(attributes.MessageDeduplicationId ? { MessageDeduplicationId: attributes.MessageDeduplicationId } : {}),
    ...(attributes.SequenceNumber ? { SequenceNumber: attributes.SequenceNumber } : {}),
  };
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: recordAttributes,
    messageAttributes: toMessageAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * Which messages of a batch succeeded, by Lambda's rules for ReportBatchItemFailures: no response (or one without
 * failures) means all succeeded; an itemIdentifier that names no message of the batch, or a malformed response,
 * fails the whole batch.
 */
export function succeededMessageIds(
  messageIds: string[],
  result: unknown,
): { succeeded: string[]; failed: string[]; invalid: boolean } {
  if (result === undefined || result === null) return { succeeded: messageIds, failed: [], invalid: false };
  const parsed = BatchResponseSchema.safeParse(result);
  if (!parsed.success) {
    // Lambda treats any other response as success unless it looks like a batch response; an object carrying a
    // malformed batchItemFailures is a failed batch.
    const looksLikeBatchResponse = typeof result === 'object' && 'batchItemFailures' in result;
    return looksLikeBatchResponse
      ? { succeeded: [], failed: messageIds, invalid: true }
      : { succeeded: messageIds, failed: [], invalid: false };
  }
  const failedIds = new Set(parsed.data.batchItemFailures.map((f) => f.itemIdentifier));
  const known = new Set(messageIds);
  for (const id of failedIds)
    if (id === '' || !known.has(id)) return { succeeded: [], failed: messageIds, invalid: true };
  return {
    succeeded: messageIds.filter((id) => !failedIds.has(id)),
    failed: messageIds.filter((id) => failedIds.has(id)),
    invalid: false,
  };
}

/**
 * An SQS event source mapping, as Lambda runs one: long-poll receive, batches of up to `batchSize` gathered for up to
 * the batching window, at most `maxConcurrency` batches at once, successes deleted and failures left for SQS to
 * redeliver after their visibility timeout (or move to the DLQ at maxReceiveCount — SQS's redrive, not ours).
 */
export function startEventSource(options: EventSourceOptions): EventSourceMapping {
  const abort = new AbortController();
  const waitTimeSeconds = options.waitTimeSeconds ?? 20;
  let running = true;
  let inFlight = 0;
  const batches = new Set<Promise<void>>();
  let slotFreed: (() => void) | undefined;

  const receive = async (max: number, wait: number): Promise<Message[]> => {
    const response = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: Math.min(10, max),
        WaitTimeSeconds: wait,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: abort.signal },
    );
    return response.Messages ?? [];
  };

  const gatherBatch = async (): Promise<Message[]> => {
    const batch = await receive(options.batchSize, waitTimeSeconds);
    if (batch.length === 0 || options.maximumBatchingWindowSeconds <= 0) return batch;
    const deadline = Date.now() + options.maximumBatchingWindowSeconds * 1000;
    while (running && batch.length < options.batchSize && Date.now() < deadline) {
      const wait = Math.min(20, Math.ceil((deadline - Date.now()) / 1000));
      let more: Message[];
      try {
        more = await receive(options.batchSize - batch.length, wait);
      } catch (err) {
        // What was received is in flight, hidden until its visibility timeout: hand it over now rather than drop it.
        if (running)
          options.logger.warn(`Receiving more for a batch of ${options.name} failed; invoking with what came`, {
            error: err,
          });
        break;
      }
      batch.push(...more);
      if (more.length === 0) break;
    }
    return batch;
  };

  const deleteMessages = async (messages: Message[]): Promise<void> => {
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      const response = await options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
      for (const failure of response.Failed ?? []) {
        // The message will come back after its visibility timeout: a duplicate, which handlers tolerate.
        options.logger.warn(`Deleting a handled message from ${options.name} failed`, { code: failure.Code });
      }
    }
  };

  const handleBatch = async (messages: Message[]): Promise<void> => {
    const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, options.queueArn, options.region)) };
    const ids = event.Records.map((r) => r.messageId);
    let result: unknown;
    try {
      result = await options.invoke(event);
    } catch (err) {
      options.logger.warn(
        `Function failed the whole batch of ${options.name}; its messages return after the visibility timeout`,
        {
          messages: ids.length,
          error: err,
        },
      );
      return;
    }
    const outcome = succeededMessageIds(ids, result);
    if (outcome.invalid) {
      options.logger.warn(`Function returned an invalid batch response for ${options.name}; the whole batch fails`, {
        messages: ids.length,
      });
    } else if (outcome.failed.length > 0) {
      options.logger.debug(
        `Function reported ${outcome.failed.length} of ${ids.length} messages of ${options.name} failed`,
      );
    }
    const succeeded = new Set(outcome.succeeded);
    await deleteMessages(messages.filter((m) => succeeded.has(m.MessageId ?? '')));
  };

  const loop = async (): Promise<void> => {
    let backoffMs = 100;
    while (running) {
      if (inFlight >= options.maxConcurrency) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
        continue;
      }
      let messages: Message[];
      try {
        messages = await gatherBatch();
        backoffMs = 100;
      } catch (err) {
        if (!running) break;
        options.logger.warn(`Receiving from ${options.name} failed; retrying`, { error: err });
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(5000, backoffMs * 2);
        continue;
      }
      if (messages.length === 0) continue;
      inFlight += 1;
      const batch = handleBatch(messages)
        .catch((err: unknown) => options.logger.error(`Handling a batch of ${options.name} failed`, { error: err }))
        .finally(() => {
          inFlight -= 1;
          batches.delete(batch);
          const wake = slotFreed;
          slotFreed = undefined;
          wake?.();
        });
      batches.add(batch);
    }
  };

  const looping = loop();
  return {
    get inFlight(): number {
      return inFlight;
    },
    stop: async (): Promise<void> => {
      running = false;
      abort.abort();
      const wake = slotFreed;
      slotFreed = undefined;
      wake?.();
      await looping;
      await Promise.all([...batches]);
    },
  };
}
