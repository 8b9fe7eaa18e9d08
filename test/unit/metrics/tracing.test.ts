import { makeDynamoDocumentClient, makeSqsClient } from '../../../lib/runtime/aws';
import { tracingMayBeOn } from '../../../lib/observability/tracing';

/**
 * X-Ray instrumentation is on in Lambda (AWS_EXECUTION_ENV set) and off everywhere else; off, the X-Ray SDK is never
 * loaded (its cls-hooked namespace would turn on async_hooks for the whole process). The traced path is in
 * test/integration/metrics/xray-trace-header.test.ts.
 */
describe('tracingMayBeOn (Powertools Tracer.setTracingEnabled, without loading it)', () => {
  it.each([
    ['outside Lambda', {}, false],
    ['in Lambda', { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' }, true],
    [
      'in Lambda, POWERTOOLS_TRACE_ENABLED=false',
      { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', POWERTOOLS_TRACE_ENABLED: 'False' },
      false,
    ],
    [
      'in Lambda, POWERTOOLS_TRACE_ENABLED=true',
      { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', POWERTOOLS_TRACE_ENABLED: 'true' },
      true,
    ],
    ['under SAM local', { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', AWS_SAM_LOCAL: 'true' }, false],
    ['under the Amplify mock', { AWS_EXECUTION_ENV: 'AWS_Lambda_amplify-mock' }, false],
    ['with an empty AWS_EXECUTION_ENV', { AWS_EXECUTION_ENV: '' }, false],
  ])('%s', (_case, env, expected) => {
    expect(tracingMayBeOn(env)).toBe(expected);
  });
});

describe('traceAwsClient through the AWS client factories, tracing off', () => {
  const xray = (ids: string[]): string[] => ids.filter((id) => /XRay/i.test(id));
  const saved = process.env.AWS_EXECUTION_ENV;
  afterEach(() => {
    if (saved === undefined) delete process.env.AWS_EXECUTION_ENV;
    else process.env.AWS_EXECUTION_ENV = saved;
  });

  it('leaves the clients alone outside Lambda', () => {
    delete process.env.AWS_EXECUTION_ENV;
    const sqs = makeSqsClient({ region: 'us-east-1', sqsEndpoint: undefined });
    expect(xray(sqs.middlewareStack.identify())).toEqual([]);
    expect(Object.prototype.hasOwnProperty.call(sqs, 'send')).toBe(false);
  });

  it('never loads the tracer or the X-Ray SDK', async () => {
    delete process.env.AWS_EXECUTION_ENV;
    makeSqsClient({ region: 'us-east-1', sqsEndpoint: undefined });
    makeDynamoDocumentClient({ region: 'us-east-1', dynamodbEndpoint: undefined, sqsEndpoint: undefined });
    // Let a lazy import, had one been started, settle before looking.
    await new Promise((resolve) => setImmediate(resolve));
    const loaded = Object.keys(require.cache).filter((path) =>
      /aws-xray-sdk-core|cls-hooked|powertools\/tracer/.test(path),
    );
    expect(loaded).toEqual([]);
  });
});
