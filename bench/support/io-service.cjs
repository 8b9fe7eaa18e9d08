// The service an outgoing request went to, from the AWS SDK's `x-amz-target` (JSON protocols) or else Kubernetes: the
// one definition for bench/support/io-rounds.ts and bench/support/invocation-io-preload.cjs (plain CommonJS, so the
// preload can load it before any TypeScript loader is registered).
'use strict';

/** @param {{ getHeader(name: string): unknown }} request */
function serviceOf(request) {
  const target = request.getHeader('x-amz-target');
  const text = typeof target === 'string' ? target : '';
  if (text.startsWith('DynamoDB_')) return 'dynamodb';
  if (text.startsWith('AmazonSQS.')) return 'sqs';
  if (text.startsWith('secretsmanager.')) return 'secretsmanager';
  return 'kubernetes';
}

module.exports = { serviceOf };
