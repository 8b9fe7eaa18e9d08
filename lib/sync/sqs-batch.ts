import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { z } from 'zod';
import { asTmcError } from '../errors/tmc-error';
import type { MessageDeferrer } from '../ports/message-deferrer';
import type { Log } from '../observability/log';

/** How one message ended: done (deleted by Lambda), or retried — after `delaySeconds` when given. */
export type MessageOutcome = { done: true } | { done: false; delaySeconds?: number };

type Parsed<T> = { ok: true; message: T } | { ok: false; issues: string[] } | { ok: false; error: unknown };

function parseRecord<S extends z.ZodType>(schema: S, record: SQSRecord): Parsed<z.infer<S>> {
  try {
    const parsed = schema.safeParse(JSON.parse(record.body));
    return parsed.success
      ? { ok: true, message: parsed.data }
      : { ok: false, issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Runs `handle` for every record of an SQS batch and reports partial batch failures (ReportBatchItemFailures): one
 * bad message never fails its neighbours, and nothing is thrown. A body that does not parse is reported failed so it
 * reaches the DLQ with its id, where someone can read it, instead of vanishing.
 *
 * `prefetch`, when given, sees every message that parsed before any is handled, so a consumer can read what the
 * whole batch needs in one request (BatchGetItem) instead of one per message. It is best effort: when it fails, the
 * failure is logged and every message is handled as if it had not run.
 */
export async function processSqsBatch<S extends z.ZodType>(
  event: SQSEvent,
  schema: S,
  handle: (message: z.infer<S>, record: SQSRecord) => Promise<MessageOutcome>,
  options: {
    deferrer: MessageDeferrer;
    log: Log;
    concurrency?: number;
    prefetch?: (messages: Array<z.infer<S>>) => Promise<void>;
  },
): Promise<SQSBatchResponse> {
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  const deferrals: Array<{ receiptHandle: string; delaySeconds: number }> = [];
  const parsed = new Map(event.Records.map((record) => [record, parseRecord(schema, record)]));
  if (options.prefetch) {
    const messages = [...parsed.values()].flatMap((p) => (p.ok ? [p.message] : []));
    if (messages.length)
      await options
        .prefetch(messages)
        .catch((err: unknown) =>
          options.log.warn('Could not read ahead for the batch', { error: asTmcError(err).toJSON() }),
        );
  }
  const run = async (record: SQSRecord): Promise<void> => {
    let outcome: MessageOutcome;
    const body = parsed.get(record) ?? parseRecord(schema, record);
    try {
      if ('error' in body) throw body.error;
      if (!body.ok) {
        options.log.error('Rejecting a message that does not match its schema', {
          messageId: record.messageId,
          issues: body.issues,
        });
        outcome = { done: false };
      } else {
        outcome = await handle(body.message, record);
      }
    } catch (err) {
      // Use cases return outcomes; reaching here is a bug or an unparseable body. Retry; the DLQ keeps it if it persists.
      options.log.error('Message failed unexpectedly', {
        messageId: record.messageId,
        error: asTmcError(err).toJSON(),
      });
      outcome = { done: false };
    }
    if (!outcome.done) {
      if (outcome.delaySeconds !== undefined)
        deferrals.push({ receiptHandle: record.receiptHandle, delaySeconds: outcome.delaySeconds });
      failures.push({ itemIdentifier: record.messageId });
    }
  };
  // Messages of one batch are independent objects; a small fan-out keeps a batch of 10 well inside the timeout.
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const queue = [...event.Records];
  await Promise.all(
    Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      for (let record = queue.shift(); record; record = queue.shift()) await run(record);
    }),
  );
  // The batch's deferrals together: one ChangeMessageVisibilityBatch per ten where the deferrer can, not one each.
  const deferrer = options.deferrer;
  if (deferrals.length > 1 && deferrer.deferMany) await deferrer.deferMany(deferrals);
  else await Promise.all(deferrals.map((d) => deferrer.defer(d.receiptHandle, d.delaySeconds)));
  return { batchItemFailures: failures };
}

export function receiveCountOf(record: SQSRecord): number {
  const count = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  return Number.isFinite(count) && count > 0 ? count : 1;
}
