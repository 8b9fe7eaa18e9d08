import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { makeDynamoDocumentClient, makeSqsClient } from '../../../lib/runtime/aws';

/**
 * In Lambda (AWS_EXECUTION_ENV, LAMBDA_TASK_ROOT and the invocation's _X_AMZN_TRACE_ID set) the tracer is loaded
 * lazily on the first client built, and the very first request of each client already goes through the X-Ray
 * middleware: it is an `aws` subsegment of the invocation's trace and carries it in X-Amzn-Trace-Id (what SQS hands
 * the consumer as AWSTraceHeader). A loopback server stands in for SQS and DynamoDB and records the headers; a UDP
 * socket stands in for the X-Ray daemon and collects the subsegments. (The header alone would not show a missed first
 * request: Powertools also patches http/https, whose `remote` subsegments send a trace header of their own.)
 */
const ROOT = '1-5759e988-bd862e3fe1be46a994272793';
const LAMBDA_ENV = {
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  LAMBDA_TASK_ROOT: '/var/task',
  _X_AMZN_TRACE_ID: `Root=${ROOT};Parent=53995c3f42cd8ad8;Sampled=1`,
};
const SendMessageBody = z.object({ MessageBody: z.string() });
/** What the SDK sends the daemon: a header line, then one (sub)segment document. */
const SubsegmentDoc = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
  trace_id: z.string(),
  aws: z.looseObject({ operation: z.string().optional() }).optional(),
});

let server: Server;
let daemon: Socket;
let endpoint: string;
const seen: { target: string; headers: IncomingHttpHeaders }[] = [];
const subsegments: z.infer<typeof SubsegmentDoc>[] = [];
const ENV_KEYS = [...Object.keys(LAMBDA_ENV), 'AWS_XRAY_DAEMON_ADDRESS'];
const saved = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));

beforeAll(async () => {
  daemon = createSocket('udp4');
  daemon.on('message', (message) =>
    subsegments.push(SubsegmentDoc.parse(JSON.parse(message.toString('utf8').split('\n')[1]))),
  );
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  Object.assign(process.env, LAMBDA_ENV, { AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}` });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      seen.push({ target, headers: req.headers });
      const body = Buffer.concat(chunks).toString('utf8');
      const answer = target.endsWith('SendMessage')
        ? {
            MessageId: 'm-1',
            MD5OfMessageBody: createHash('md5')
              .update(SendMessageBody.parse(JSON.parse(body)).MessageBody)
              .digest('hex'),
          }
        : {};
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await new Promise((resolve) => server.close(resolve));
  await new Promise<void>((resolve) => daemon.close(resolve));
});

/** Subsegments reach the daemon socket asynchronously after the call returns. */
async function awsSubsegments(count: number): Promise<string[]> {
  const deadline = Date.now() + 5_000;
  const aws = (): string[] =>
    subsegments.filter((s) => s.namespace === 'aws').map((s) => `${s.name}.${s.aws?.operation ?? ''}`);
  while (aws().length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return aws();
}

it('traces the first SendMessage and GetItem of new clients and sends the invocation trace header', async () => {
  const sqs = makeSqsClient({ region: 'us-east-1', sqsEndpoint: endpoint });
  const doc = makeDynamoDocumentClient({ region: 'us-east-1', dynamodbEndpoint: endpoint, sqsEndpoint: undefined });
  await sqs.send(new SendMessageCommand({ QueueUrl: `${endpoint}/000000000000/q`, MessageBody: 'hello' }));
  await doc.send(new GetCommand({ TableName: 'tmc-test', Key: { pk: 'a', sk: 'b' } }));

  expect(seen.map((s) => s.target)).toEqual(['AmazonSQS.SendMessage', 'DynamoDB_20120810.GetItem']);
  for (const { headers } of seen) {
    expect(String(headers['x-amzn-trace-id'])).toMatch(new RegExp(`^Root=${ROOT};Parent=[0-9a-f]{16};Sampled=1`));
  }
  expect(await awsSubsegments(2)).toEqual(['SQS.SendMessage', 'DynamoDB.GetItem']);
  for (const s of subsegments) expect(s.trace_id).toBe(ROOT);
  expect(sqs.middlewareStack.identify().filter((id) => /XRay/i.test(id))).toHaveLength(1);
  expect(doc.middlewareStack.identify().filter((id) => /XRay/i.test(id))).toHaveLength(1);
  // The held send is gone once the tracer is in: later calls use the client's own send again.
  expect(Object.prototype.hasOwnProperty.call(sqs, 'send')).toBe(false);
  expect(Object.prototype.hasOwnProperty.call(doc, 'send')).toBe(false);
  expect(Object.keys(require.cache).some((path) => path.includes('aws-xray-sdk-core'))).toBe(true);
});
