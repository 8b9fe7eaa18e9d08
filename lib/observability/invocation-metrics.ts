import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { RecordInvocation } from '../health/record-invocation';
import type { Metrics } from '../ports/telemetry';

/**
 * Counts one function invocation and its duration (`tmc_function_invocations_total{function,result}`,
 * `tmc_function_duration_seconds{function}`). An invocation that throws is an error; so is one whose result
 * `failed(result)` says failed (an SQS batch with failures, an HTTP 5xx). The error is rethrown unchanged.
 */
export async function measureInvocation<T>(
  metrics: Metrics,
  functionName: string,
  run: () => Promise<T>,
  failed: (result: T) => boolean = (): boolean => false,
  record?: RecordInvocation,
): Promise<T> {
  const started = performance.now();
  let result: 'ok' | 'error' = 'error';
  try {
    const value = await run();
    result = failed(value) ? 'error' : 'ok';
    return value;
  } finally {
    metrics.increment('tmc_function_invocations_total', { function: functionName, result });
    metrics.observe('tmc_function_duration_seconds', { function: functionName }, (performance.now() - started) / 1000);
    // Component health (/health): last success, error rate. The recorder never throws; nor does endInvocation.
    await record?.(functionName, result === 'ok');
    await metrics.endInvocation?.();
  }
}

/** An SQS batch response that reports at least one failed message. */
export function hasBatchFailures(response: { batchItemFailures?: unknown[] } | undefined): boolean {
  return (response?.batchItemFailures?.length ?? 0) > 0;
}

/** An HTTP result with a 5xx status (a 4xx is the caller's error, not the function's). */
export function isServerError(response: { statusCode?: number } | undefined): boolean {
  return (response?.statusCode ?? 200) >= 500;
}

/**
 * One SQS batch of a queue consumer: `measureInvocation`, plus `tmc_dlq_arrivals_total{queue}` for every failed
 * message on its last delivery (ApproximateReceiveCount at the queue's maxReceiveCount): SQS moves it to the DLQ
 * instead of delivering it again, so this is the moment it arrives there, counted by the function that saw it fail.
 */
export async function measureSqsBatch(
  metrics: Metrics,
  functionName: string,
  queue: { name: string; maxReceiveCount: number },
  event: SQSEvent,
  run: () => Promise<SQSBatchResponse>,
  record?: RecordInvocation,
): Promise<SQSBatchResponse> {
  // The oldest message of the batch, as SQS stamped it: the queue's backlog age as this consumer sees it (SQS's own
  // ApproximateAgeOfOldestMessage needs CloudWatch; this also works locally and feeds component health).
  const sent = event.Records.map((r) => Number(r.attributes?.SentTimestamp)).filter((t) => Number.isFinite(t) && t > 0);
  const backlogAgeSeconds = sent.length > 0 ? Math.max(0, (Date.now() - Math.min(...sent)) / 1000) : undefined;
  if (backlogAgeSeconds !== undefined)
    metrics.gauge('tmc_queue_oldest_message_age_seconds', { queue: queue.name }, backlogAgeSeconds);
  const recordWithBacklog: RecordInvocation | undefined = record && ((fn, ok) => record(fn, ok, { backlogAgeSeconds }));
  const response = await measureInvocation(metrics, functionName, run, hasBatchFailures, recordWithBacklog);
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const lastDelivery = event.Records.filter(
    (r) => failed.has(r.messageId) && Number(r.attributes?.ApproximateReceiveCount ?? '1') >= queue.maxReceiveCount,
  );
  if (lastDelivery.length > 0) metrics.increment('tmc_dlq_arrivals_total', { queue: queue.name }, lastDelivery.length);
  return response;
}
