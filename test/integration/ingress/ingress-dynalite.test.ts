import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import dynalite from 'dynalite';
import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { DynamoPlacedVersions, DynamoSeenStore } from '../../../lib/adapters/dynamodb/seen-store';
import { placementFingerprint } from '../../../lib/ingress/fingerprint';
import { objectKey } from '../../../lib/api/object-ref';
import type { KubeObjectShape } from '../../../lib/api/messages';
import type { StoredDecision } from '../../../lib/ports/decision-store';
import type { PlacementMessage, StatusMessage } from '../../../lib/api/messages';
import { ensureTable } from '../../../lib/local/aws-services';
import { makeIngressHandler } from '../../../lib/runtime/ingress';
import { TABLE } from '../../../lib/runtime/resources';
import { makeDeps, RecordingQueue, sample, TOKEN } from '../../unit/ingress/fakes';
import { storedDecision } from '../../support/builders';

/**
 * Records every request `doc` sends as `<command> <item kind>` (the sort key's prefix: `PutItem SEEN`, `GetItem`, …)
 * until `stop()`, counted below the document client.
 */
function countByItemKind(doc: DynamoDBDocumentClient): { requests: string[]; stop: () => void } {
  const requests: string[] = [];
  const name = `countByItemKind-${Math.random().toString(36).slice(2)}`;
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Item?: Record<string, unknown>; Key?: Record<string, unknown> };
      const sk = input.Item?.sk ?? input.Key?.sk;
      const kind = typeof sk === 'string' ? ` ${sk.split('#')[0]}` : '';
      requests.push(`${(context.commandName ?? 'unknown').replace(/Command$/, '')}${kind}`);
      return next(args);
    },
    { step: 'initialize', name },
  );
  return { requests, stop: () => void doc.middlewareStack.remove(name) };
}

const WRITES = /^(Put|Update|Delete|BatchWrite|TransactWrite)/;

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
    const placed = new DynamoPlacedVersions(doc, TABLE.baseName);
    const handler = makeIngressHandler(makeDeps({ placementQueue: placement, statusQueue: status, seen, placed }));
    return { handler, placement, status };
  }

  const ws = { workspace: 'root:dedup' };

  /** A decision made from `object`, with the version placement records (lib/placement/reconcile.ts `tracedAs`). */
  const decisionFrom = (object: KubeObjectShape, ref: StoredDecision['ref']): StoredDecision =>
    storedDecision(ref, ['east'], {
      uid: typeof object.metadata.uid === 'string' ? object.metadata.uid : undefined,
      traceId: 't',
      fingerprint: placementFingerprint(object, false),
    });

  it("writes nothing for a workload's admission; its watch event after placement decided is a duplicate found by one read", async () => {
    const { handler, placement } = setup();
    const events = (sample('events-batch.json') as { events: Array<{ object: KubeObjectShape }> }).events;
    const added = { ...events[0], workspace: 'root:dedup' };

    const admission = countByItemKind(doc);
    expect(
      (await handler(event('/webhooks/admission', sample('admission-create-deployment.json'), undefined, ws)))
        .statusCode,
    ).toBe(200);
    admission.stop();
    expect(admission.requests).toEqual([]); // no SEEN put, no read: 0 DynamoDB writes per admitted object
    expect(placement.sent).toHaveLength(1);

    const ref = placement.sent[0].ref;
    await new DynamoDecisionStore(doc, TABLE.baseName).put(decisionFrom(added.object, ref));

    const watch = countByItemKind(doc);
    const res = await handler(event('/webhooks/events', { events: [added] }));
    watch.stop();
    expect(JSON.parse(res.body as string)).toMatchObject({ enqueued: 0, duplicates: 1 });
    expect(watch.requests).toEqual(['BatchGetItem']);
    expect(watch.requests.filter((r) => WRITES.test(r))).toEqual([]);
    expect(placement.sent).toHaveLength(1);

    // A later version's event is enqueued, still with no write.
    const changed = structuredClone(added);
    changed.object = { ...changed.object, spec: { replicas: 7 } };
    const later = countByItemKind(doc);
    expect(JSON.parse((await handler(event('/webhooks/events', { events: [changed] }))).body as string)).toMatchObject({
      enqueued: 1,
    });
    later.stop();
    expect(later.requests.filter((r) => WRITES.test(r))).toEqual([]);
    expect(placement.sent).toHaveLength(2);
    const item = await doc.send(
      new GetCommand({ TableName: TABLE.baseName, Key: { pk: `SEEN#${objectKey(ref)}`, sk: 'SEEN' } }),
    );
    expect(item.Item).toBeUndefined();
  });

  it("deduplicates tmc's own kinds by one SEEN put per fresh version, and lets a version through again once its record expired", async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const { handler, placement } = setup(() => now);
    const review = structuredClone(sample('admission-invalid-placement.json')) as {
      request: { object: { spec: Record<string, unknown> } };
    };
    review.request.object.spec = { numberOfClusters: 2 };
    const counted = countByItemKind(doc);
    await handler(event('/webhooks/admission', review, undefined, { workspace: 'root:ttl' }));
    await handler(event('/webhooks/admission', review, undefined, { workspace: 'root:ttl' }));
    counted.stop();
    expect(counted.requests).toEqual(['PutItem SEEN', 'PutItem SEEN']); // the second a failed conditional put
    expect(placement.sent).toHaveLength(1);
    const key = objectKey(placement.sent[0].ref);
    const item = await doc.send(new GetCommand({ TableName: TABLE.baseName, Key: { pk: `SEEN#${key}`, sk: 'SEEN' } }));
    expect(item.Item).toMatchObject({ fingerprint: expect.any(String), expiresAt: expect.any(Number) });
    now += 61_000;
    await handler(event('/webhooks/admission', review, undefined, { workspace: 'root:ttl' }));
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
