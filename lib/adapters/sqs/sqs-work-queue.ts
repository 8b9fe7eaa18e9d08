import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import type { z } from 'zod';
import { QueueMessageSchema, type QueueMessage } from '../../api/messages';
import { DeadlineExceededError, InternalError, NetworkError, TmcError, ValidationError } from '../../errors/tmc-error';
import type { WorkQueue } from '../../ports/work-queue';

/** SQS's limits for one SendMessageBatch call: ten entries, 256 KiB in all (bodies plus attributes). */
export const SQS_MAX_BATCH_ENTRIES = 10;
export const SQS_MAX_BATCH_BYTES = 256 * 1024;

export interface SqsWorkQueueOptions<M extends QueueMessage> {
  sqs: SQSClient;
  queueUrl: string;
  /** How logs and errors name the queue (`placement`). */
  name: string;
  /** The schema each message must satisfy before it is sent; defaults to any queue message. */
  schema?: z.ZodType<M>;
  /** Attempts for entries SQS reports as failed without the sender at fault (throttling, internal errors). */
  maxAttempts?: number;
  /** Base backoff between attempts, doubled each time (tests set it low). */
  backoffMs?: number;
}

interface PreparedEntry {
  entry: SendMessageBatchRequestEntry;
  bytes: number;
  /** What the message asks for, for errors: `sync Deployment default/web`. */
  what: string;
}

/**
 * WorkQueue on SQS. Messages are validated, then sent in as few SendMessageBatch calls as the entry and byte limits
 * allow; entries SQS rejects transiently are retried alone (a batch call can partly succeed, and resending the
 * successes would only add duplicates). `traceId` travels as a message attribute so consumers can log it before
 * parsing the body.
 */
export class SqsWorkQueue<M extends QueueMessage = QueueMessage> implements WorkQueue<M> {
  readonly name: string;
  private readonly sqs: SQSClient;
  private readonly queueUrl: string;
  private readonly schema: z.ZodType<M>;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;

  constructor(options: SqsWorkQueueOptions<M>) {
    this.name = options.name;
    this.sqs = options.sqs;
    this.queueUrl = options.queueUrl;
    this.schema = options.schema ?? (QueueMessageSchema as unknown as z.ZodType<M>);
    this.maxAttempts = options.maxAttempts ?? 4;
    this.backoffMs = options.backoffMs ?? 50;
  }

  async send(messages: M[], options: { delaySeconds?: number } = {}): Promise<void> {
    const prepared = messages.map((message) => this.prepare(message, options.delaySeconds));
    await Promise.all(chunkEntries(prepared).map((chunk) => this.sendChunk(chunk)));
  }

  private prepare(message: M, delaySeconds: number | undefined): PreparedEntry {
    const parsed = this.schema.safeParse(message);
    if (!parsed.success) {
      throw new ValidationError(
        `Message for queue ${this.name} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    const body = JSON.stringify(parsed.data);
    const traceId = parsed.data.trace.traceId;
    const entry: SendMessageBatchRequestEntry = {
      Id: randomUUID(),
      MessageBody: body,
      MessageAttributes: {
        traceId: { DataType: 'String', StringValue: traceId },
        type: { DataType: 'String', StringValue: parsed.data.type },
      },
      ...(delaySeconds === undefined ? {} : { DelaySeconds: delaySeconds }),
    };
    // SQS counts the body and each attribute's name, type and value against the 256 KiB limit.
    const bytes =
      Buffer.byteLength(body) +
      Buffer.byteLength('traceId' + 'String' + traceId) +
      Buffer.byteLength('type' + 'String' + parsed.data.type);
    if (bytes > SQS_MAX_BATCH_BYTES) {
      throw new ValidationError(
        `Message for queue ${this.name} is ${bytes} bytes, over SQS's limit of ${SQS_MAX_BATCH_BYTES}`,
        {
          object: describeMessage(parsed.data),
        },
      );
    }
    return { entry, bytes, what: `${parsed.data.type} ${describeMessage(parsed.data)}` };
  }

  private async sendChunk(chunk: PreparedEntry[]): Promise<void> {
    let pending = chunk;
    for (let attempt = 1; ; attempt += 1) {
      let response;
      try {
        response = await this.sqs.send(
          new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending.map((item) => item.entry) }),
        );
      } catch (err) {
        const sending = `Sending ${pending.length} message(s) to queue ${this.name} (${describeEntries(pending)})`;
        // A cut-off by the invocation's deadline (lib/errors/deadline.ts) is no network fault: the service may only be
        // slow. It keeps its own kind, retried by the message's redelivery or the enqueue's own retries, not the SDK's.
        if (err instanceof TmcError && err.category === 'invocation-deadline')
          throw new DeadlineExceededError(`${sending} was cut off at the invocation's deadline`, { cause: err });
        // The SDK has already retried throttling, timeouts and network errors with its own backoff.
        throw new NetworkError(`${sending} failed`, { cause: err });
      }
      const failed = response.Failed ?? [];
      if (failed.length === 0) return;
      const senderFaults = failed.filter((f) => f.SenderFault);
      if (senderFaults.length > 0) {
        const first = senderFaults[0];
        throw new InternalError(
          `Queue ${this.name} rejected ${senderFaults.length} message(s): ${first.Code ?? ''} ${first.Message ?? ''}`.trim(),
        );
      }
      if (attempt >= this.maxAttempts) {
        throw new NetworkError(
          `Queue ${this.name} failed ${failed.length} message(s) after ${attempt} attempts: ${failed[0].Code ?? 'unknown'}`,
        );
      }
      const failedIds = new Set(failed.map((f) => f.Id));
      pending = pending.filter((item) => failedIds.has(item.entry.Id));
      await delay(this.backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random()));
    }
  }
}

/** Groups entries in order into batches of at most ten entries and 256 KiB. */
export function chunkEntries<T extends { bytes: number }>(items: T[]): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const item of items) {
    if (
      current.length === SQS_MAX_BATCH_ENTRIES ||
      (current.length > 0 && currentBytes + item.bytes > SQS_MAX_BATCH_BYTES)
    ) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(item);
    currentBytes += item.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function describeMessage(message: QueueMessage): string {
  const ref = message.ref;
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}

/** The first few messages of a batch, for an error that must say what was being sent. */
function describeEntries(items: PreparedEntry[]): string {
  const shown = items.slice(0, 3).map((item) => item.what);
  return items.length > shown.length ? `${shown.join(', ')} and ${items.length - shown.length} more` : shown.join(', ');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
