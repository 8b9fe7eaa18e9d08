import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * X-Ray in the cloud, through Powertools tracer. An instrumented SQS client sends the invocation's trace header with
 * every SendMessage, SQS hands it to the consumer as the `AWSTraceHeader` system attribute, and Lambda links the
 * consumer's trace to it: one kcp change is one linked trace from ingress through placement and sync-apply (with
 * active tracing on the functions). tmc's own `traceId` travels beside it as a message attribute and in every log line
 * (docs/observability.md). Outside Lambda (the local stack, tests, the CLI) Powertools disables itself
 * (no `AWS_EXECUTION_ENV`), and the clients are returned unchanged.
 */
/** The client, instrumented so its calls are X-Ray subsegments and carry the trace header (SQS, DynamoDB). */
export function traceAwsClient<T>(client: T): T {
  // A Tracer per client is cheap (the X-Ray SDK keeps its context globally) and reads the environment when built.
  const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'tmc' });
  return tracer.isTracingEnabled() ? tracer.captureAWSv3Client(client) : client;
}
