import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import dynalite from 'dynalite';
import { DynamoSeenStore } from '../../../lib/adapters/dynamodb/seen-store';
import type { PlacementMessage, StatusMessage } from '../../../lib/api/messages';
import { ensureTable } from '../../../lib/local/aws-services';
import { makeIngressHandler } from '../../../lib/runtime/ingress';
import { TABLE } from '../../../lib/runtime/resources';
import { makeDeps, RecordingQueue, sample, TOKEN } from '../../unit/ingress/fakes';

/** The ingress handler over API Gateway events, with dedup on a real (dynalite) table and recording queues. */
describe('ingress with the DynamoDB seen store', () => {
  let server: ReturnType<typeof dynalite>;
  let client: DynamoDBClient;
  let doc: DynamoDBDocumentClient;

  beforeAll(async () => {
    server = dynalite({ createTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await ensureTable(client, TABLE.baseName);
    doc = DynamoDBDocumentClient.from(client);
  });

  afterAll(async () => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function event(
    path: string,
    body: unknown,
    headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
    query?: Record<string, string>,
  ): APIGatewayProxyEventV2 {
    const cluster = /\/webhooks\/status\/(.+)$/.exec(path)?.[1];
    return {
      version: '2.0',
      routeKey: cluster ? 'POST /webhooks/status/{cluster}' : `POST ${path}`,
      rawPath: path,
      rawQueryString: new URLSearchParams(query ?? {}).toString(),
      headers: { 'content-type': 'application/json', ...headers },
      queryStringParameters: query,
      pathParameters: cluster ? { cluster } : undefined,
      body: typeof body === 'string' ? body : JSON.stringify(body),
      isBase64Encoded: false,
      requestContext: {} as APIGatewayProxyEventV2['requestContext'],
    };
  }

  function setup(now: () => number = Date.now) {
    const placement = new RecordingQueue<PlacementMessage>('placement');
    const status = new RecordingQueue<StatusMessage>('status');
    const seen = new DynamoSeenStore({ doc, tableName: TABLE.baseName, ttlSeconds: 60, now });
    const handler = makeIngressHandler(makeDeps({ placementQueue: placement, statusQueue: status, seen }));
    return { handler, placement, status };
  }

  const ws = { workspace: 'root:dedup' };

  it('enqueues one message for one version arriving by admission and by event, and one more for a new version', async () => {
    const { handler, placement } = setup();
    const create = sample('admission-create-deployment.json');
    const added = {
      events: [
        {
          ...(sample('events-batch.json') as { events: Array<Record<string, unknown>> }).events[0],
          workspace: 'root:dedup',
        },
      ],
    };

    expect((await handler(event('/webhooks/admission', create, undefined, ws))).statusCode).toBe(200);
    expect((await handler(event('/webhooks/admission', create, undefined, ws))).statusCode).toBe(200);
    const eventsRes = await handler(event('/webhooks/events', added));
    expect(JSON.parse(eventsRes.body as string)).toMatchObject({ enqueued: 0, duplicates: 1 });
    expect(placement.sent).toHaveLength(1);

    await handler(event('/webhooks/admission', sample('admission-update-deployment.json'), undefined, ws));
    expect(placement.sent).toHaveLength(2);

    const item = await doc.send(
      new GetCommand({
        TableName: TABLE.baseName,
        Key: { pk: 'SEEN#root:dedup|apps|deployments|default|web', sk: 'SEEN' },
      }),
    );
    expect(item.Item).toMatchObject({ fingerprint: expect.any(String), expiresAt: expect.any(Number) });
  });

  it('lets the same version through again once the record expired', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const { handler, placement } = setup(() => now);
    const create = sample('admission-create-deployment.json');
    await handler(event('/webhooks/admission', create, undefined, { workspace: 'root:ttl' }));
    now += 61_000;
    await handler(event('/webhooks/admission', create, undefined, { workspace: 'root:ttl' }));
    expect(placement.sent).toHaveLength(2);
  });

  it.each([
    [
      'no token',
      event('/webhooks/admission', sample('admission-create-deployment.json'), {}, { workspace: 'root:rejected' }),
      401,
    ],
    [
      'wrong token',
      event(
        '/webhooks/admission',
        sample('admission-create-deployment.json'),
        { authorization: 'Bearer wrong' },
        { workspace: 'root:rejected' },
      ),
      401,
    ],
    ['malformed', event('/webhooks/admission', '{"apiVersion":', undefined, { workspace: 'root:rejected' }), 400],
    ['malformed events', event('/webhooks/events', { events: 'no' }), 400],
  ])('%s is rejected (status checked) and nothing enqueued or recorded', async (_why, request, code) => {
    const { handler, placement, status } = setup();
    expect((await handler(request)).statusCode).toBe(code);
    expect(placement.sent).toHaveLength(0);
    expect(status.sent).toHaveLength(0);
    const item = await doc.send(
      new GetCommand({
        TableName: TABLE.baseName,
        Key: { pk: 'SEEN#root:rejected|apps|deployments|default|web', sk: 'SEEN' },
      }),
    );
    expect(item.Item).toBeUndefined();
  });

  it('routes the status webhook by its path', async () => {
    const { handler, status } = setup();
    const res = await handler(event('/webhooks/status/west', sample('status-update-deployment.json')));
    expect(res.statusCode).toBe(200);
    expect(status.sent.map((m) => m.cluster)).toEqual(['west']);
  });

  it('answers 404 for a path that is not a webhook', async () => {
    const { handler } = setup();
    const res = await handler({ ...event('/webhooks/admission', {}), routeKey: '$default', rawPath: '/nope' });
    expect(res.statusCode).toBe(404);
  });
});
