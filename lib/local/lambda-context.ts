import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { FunctionDefinition } from '../runtime/resources';

export const LOCAL_ACCOUNT_ID = '000000000000';

/** The deployed name of a function on the local stack, mirroring `tmc-<stage>-<name>` in the cloud. */
export function localFunctionName(name: string): string {
  return `tmc-local-${name}`;
}

/** A Lambda context as the Node.js runtime builds it; the deadline follows the function's configured timeout. */
export function makeLambdaContext(
  fn: FunctionDefinition,
  region: string,
  timeoutMs: number = fn.timeoutSeconds * 1000,
): Context {
  const functionName = localFunctionName(fn.name);
  const deadline = Date.now() + timeoutMs;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: String(fn.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${requestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: (): number => Math.max(0, deadline - Date.now()),
    done: (): void => undefined,
    fail: (): void => undefined,
    succeed: (): void => undefined,
  };
}
