import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { FUNCTIONS } from '../../../lib/runtime/resources';
import { makeLambdaContext, runInvocation } from '../../../lib/local/lambda-context';
import { invocationIoTracker } from '../../../bench/support/invocation-io';

/**
 * The preload the benchmark loads with --require (bench/support/invocation-io-preload.cjs), loaded here into this
 * thread: each invocation's requests in rounds, by function, and nothing outside an invocation or after it ended.
 */

let server: Server;
let port: number;

beforeAll(async () => {
  // Loaded for its effect: it subscribes to the http client channels and publishes the tracker's API.
  const preload = resolve(__dirname, '../../../bench/support/invocation-io-preload.cjs');
  await import(preload);
  server = createServer((req, res) => {
    req.resume();
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** One request to the test server; `target` as the AWS SDK sends it (JSON protocols), none for a Kubernetes call. */
function call(target?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/', headers: target ? { 'x-amz-target': target } : {} },
      (res) => {
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
}

const invoke = (fn: 'sync-apply' | 'ingress', body: () => Promise<void>): Promise<void> =>
  runInvocation(makeLambdaContext(FUNCTIONS[fn], 'us-east-1'), body);

it('counts each invocation’s requests in rounds, by function, and nothing outside an invocation', async () => {
  const tracker = invocationIoTracker();
  if (tracker === undefined) throw new Error('the preload did not publish its API');
  await tracker.reset();
  let late: Promise<void> | undefined;
  // Round 1: a read and an apply at once; round 2: a state write after both; a timer set up in the invocation fires
  // after it ended and is not its request.
  await invoke('sync-apply', async () => {
    await Promise.all([call('DynamoDB_20120810.GetItem'), call()]);
    await call('DynamoDB_20120810.PutItem');
    late = new Promise((resolve) => setTimeout(() => void call('AmazonSQS.SendMessageBatch').then(resolve), 20));
  });
  await late;
  await invoke('ingress', () => call('AmazonSQS.SendMessageBatch'));
  await invoke('ingress', () => call('AmazonSQS.SendMessageBatch'));
  await call('AmazonSQS.ReceiveMessage'); // a poller's receive: no invocation
  const io = await tracker.collect();
  expect(io.missingThreads).toBe(0);
  expect(io.byFunction['sync-apply']).toEqual({
    invocations: 1,
    requests: { 'dynamodb GetItem': 1, 'dynamodb PutItem': 1, kubernetes: 1 },
    rounds: { 'dynamodb+kubernetes': 1, dynamodb: 1 },
    maxRounds: 2,
  });
  expect(io.byFunction.ingress).toEqual({
    invocations: 2,
    requests: { 'sqs SendMessageBatch': 2 },
    rounds: { sqs: 2 },
    maxRounds: 1,
  });
  await tracker.reset();
  expect((await tracker.collect()).byFunction).toEqual({});
});

it('keeps nothing per ended invocation: a long run is folded into the summary as it goes', async () => {
  const tracker = invocationIoTracker();
  if (tracker === undefined) throw new Error('the preload did not publish its API');
  await tracker.reset();
  for (let i = 0; i < 600; i++) await invoke('ingress', () => call('AmazonSQS.SendMessageBatch'));
  const api: unknown = Reflect.get(globalThis, Symbol.for('tmc-bench.invocation-io'));
  const retained = (api as { retained: () => number }).retained();
  expect(retained).toBeLessThan(256);
  expect((await tracker.collect()).byFunction.ingress).toEqual({
    invocations: 600,
    requests: { 'sqs SendMessageBatch': 600 },
    rounds: { sqs: 600 },
    maxRounds: 1,
  });
  await tracker.reset();
});
