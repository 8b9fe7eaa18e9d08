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
