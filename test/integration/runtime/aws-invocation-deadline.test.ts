import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DeadlineExceededError } from '../../../lib/errors/tmc-error';
import { withInvocationDeadline, type RemainingTime } from '../../../lib/errors/deadline';
import { ensureTable, startLocalDynamo } from '../../../lib/local/aws-services';
import { makeDynamoDocumentClient, makeSqsClient } from '../../../lib/runtime/aws';
import { makeSecretsManagerClient } from '../../../lib/runtime/secrets-client';
import { startHangingServer, type HangingServer } from '../../support/hanging-server';

function contextEnding(ms: number): RemainingTime & { end: number } {
  const end = Date.now() + ms;
  return { end, getRemainingTimeInMillis: () => Math.max(0, end - Date.now()) };
}

/** What a call ended with: its error, or 'answered'. */
async function outcome(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
    return 'answered';
  } catch (err) {
    return err;
  }
}

// Every AWS client the functions build carries the invocation's deadline as a real abort (the request timeouts are
// per attempt, and the SDK retries them: aws-request-timeout.test.ts): a hanging service fails the call with
// DeadlineExceededError before the function's timeout, unretried.
describe('AWS clients under the invocation deadline', () => {
  let hanging: HangingServer;
  const env = { ...process.env };
  beforeEach(async () => {
    hanging = await startHangingServer();
  });
  afterEach(async () => {
    await hanging.stop();
    process.env = { ...env };
  });

  const clients: Array<[string, (url: string) => () => Promise<unknown>]> = [
    [
      'DynamoDB',
      (url) => {
        const doc = makeDynamoDocumentClient({ region: 'us-east-1', dynamodbEndpoint: url });
        return () => doc.send(new GetCommand({ TableName: 'tmc-state', Key: { pk: 'a', sk: 'b' } }));
      },
    ],
    [
      'SQS',
      (url) => {
        const sqs = makeSqsClient({ region: 'us-east-1', sqsEndpoint: url });
        return () => sqs.send(new SendMessageCommand({ QueueUrl: `${url}/000000000000/tmc-sync`, MessageBody: '{}' }));
      },
    ],
    [
      'Secrets Manager',
      (url) => {
        process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = url;
        process.env.AWS_ACCESS_KEY_ID = 'local';
        process.env.AWS_SECRET_ACCESS_KEY = 'local';
        const secrets = makeSecretsManagerClient({ region: 'us-east-1' });
        return () => secrets.send(new GetSecretValueCommand({ SecretId: 'tmc/local/webhook-token' }));
      },
    ],
  ];

  it.each(clients)(
    '%s: a hanging request ends with DeadlineExceededError inside the function time, sent once',
    async (service, build) => {
      const call = build(hanging.url);
      const context = contextEnding(3_000);
      const result = await withInvocationDeadline(context, () => outcome(call()));
      expect(Date.now()).toBeLessThan(context.end);
      expect(result).toBeInstanceOf(DeadlineExceededError);
      expect(result).toMatchObject({
        category: 'invocation-deadline',
        message: `A ${service} request was cut off at the invocation's deadline`,
      });
      expect(hanging.requests()).toBe(1);
    },
  );

  it('a call started after the deadline (recording the failure) still goes out until the hard deadline', async () => {
    const dynamo = await startLocalDynamo();
    try {
      const doc = makeDynamoDocumentClient({ region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint });
      const admin = new DynamoDBClient({
        region: 'us-east-1',
        endpoint: dynamo.endpoint,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      await ensureTable(admin, 'tmc-state');
      admin.destroy();
      const hang = build(hanging.url);
      const context = contextEnding(3_000);
      const [cut, recorded] = await withInvocationDeadline(context, async () => {
        const first = await outcome(hang());
        return [
          first,
          await outcome(
            doc.send(
              new PutCommand({ TableName: 'tmc-state', Item: { pk: 'OBJ#a', sk: 'SYNC#east', state: 'failed' } }),
            ),
          ),
        ];
      });
      expect(cut).toBeInstanceOf(DeadlineExceededError);
      expect(recorded).toBe('answered');
      expect(
        (await doc.send(new GetCommand({ TableName: 'tmc-state', Key: { pk: 'OBJ#a', sk: 'SYNC#east' } }))).Item?.state,
      ).toBe('failed');
    } finally {
      await dynamo.stop();
    }
    function build(url: string): () => Promise<unknown> {
      const doc = makeDynamoDocumentClient({ region: 'us-east-1', dynamodbEndpoint: url });
      return () => doc.send(new GetCommand({ TableName: 'tmc-state', Key: { pk: 'a', sk: 'b' } }));
    }
  });

  it('outside an invocation a call carries no deadline of its own', async () => {
    const call = clients[0][1](hanging.url)();
    const settled = await Promise.race([
      outcome(call),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 1_500)),
    ]);
    expect(settled).toBe('still waiting');
  });
});
