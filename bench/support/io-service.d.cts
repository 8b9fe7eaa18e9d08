/** What a request went to, as a run's billed wait is priced: each service at its own in-region latency. */
export type IoService = 'dynamodb' | 'sqs' | 'secretsmanager' | 'kubernetes';

/** The service of an outgoing request, from the AWS SDK's `x-amz-target` (JSON protocols) or its host. */
export function serviceOf(request: { getHeader(name: string): unknown }): IoService;
