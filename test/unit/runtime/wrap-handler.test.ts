import { makeLambdaContext, runInvocation, LOCAL_LAMBDA_ENV } from '../../../lib/local/lambda-context';
import { fromPowertools, functionLogger } from '../../../lib/runtime/logger';
import { FUNCTIONS } from '../../../lib/runtime/resources';
import { wrapHandler } from '../../../lib/runtime/wrap-handler';

/**
 * Every function's handler is wrapHandler: Powertools' injectLambdaContext puts the Lambda request id and cold-start
 * flag on each line the function logs. The local stack runs invocations of a function at once in one container, as
 * Lambda Managed Instances do; inside runInvocation each line still carries its own invocation's request id.
 */
describe('wrapHandler', () => {
  const lines: Array<Record<string, unknown>> = [];
  let write: jest.SpyInstance;
  const saved = { ...process.env };

  beforeAll(() => {
    // Tests run with Powertools silent (test/setup-env.cjs); this logger is built by the first invocation below.
    Object.assign(process.env, LOCAL_LAMBDA_ENV, { POWERTOOLS_LOG_LEVEL: 'INFO' });
    write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        try {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a log record
        }
      }
      return true;
    });
  });

  afterAll(() => {
    write.mockRestore();
    process.env = saved;
  });

  it('logs the request id and cold start of each invocation, apart when invocations overlap', async () => {
    let builds = 0;
    const handler = wrapHandler<{ id: string; waitMs: number }, string>('placement', () => {
      builds += 1;
      const log = fromPowertools(functionLogger('placement'));
      return {
        handle: async (event) => {
          log.info('Before waiting', { event: event.id });
          await new Promise((resolve) => setTimeout(resolve, event.waitMs));
          log.info('After waiting', { event: event.id });
          return event.id;
        },
      };
    });
    const first = makeLambdaContext(FUNCTIONS.placement, 'us-east-1');
    await runInvocation(first, () => handler({ id: 'a', waitMs: 0 }, first));
    const slow = makeLambdaContext(FUNCTIONS.placement, 'us-east-1');
    const fast = makeLambdaContext(FUNCTIONS.placement, 'us-east-1');
    await Promise.all([
      runInvocation(slow, () => handler({ id: 'slow', waitMs: 50 }, slow)),
      runInvocation(fast, () => handler({ id: 'fast', waitMs: 0 }, fast)),
    ]);

    const requestIdOf: Record<string, string> = {
      a: first.awsRequestId,
      slow: slow.awsRequestId,
      fast: fast.awsRequestId,
    };
    const ours = lines.filter((l) => l.service === 'placement');
    expect(ours).toHaveLength(6);
    for (const line of ours) {
      expect(line.function_request_id).toBe(requestIdOf[String(line.event)]);
      expect(line.function_name).toBe(first.functionName);
      expect(line.cold_start).toBe(line.event === 'a');
    }
    expect(builds).toBe(1);
  });
});
