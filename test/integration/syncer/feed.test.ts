import {
  type ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoStatusCredentialStore } from '../../../lib/adapters/dynamodb/status-credential-store';
import { DynamoSyncerConnectionStore } from '../../../lib/adapters/dynamodb/syncer-connection-store';
import { ApiGatewaySyncerFeed } from '../../../lib/adapters/feed/api-gateway-syncer-feed';
import { issueStatusCredential, StatusCredentialAuthenticator } from '../../../lib/auth/status-credentials';
import { ensureTable, startLocalDynamo, type LocalDynamo } from '../../../lib/local/aws-services';
import { startSyncerFeedServer, type SyncerFeedServer } from '../../../lib/local/syncer-feed-server';
import { makeDynamoDocumentClient } from '../../../lib/runtime/aws';
import { makeFeedConnectionsClient } from '../../../lib/runtime/feed-client';
import { SYNCER_FEED, TABLE, type FunctionName } from '../../../lib/runtime/resources';
import { makeFeedRoutes } from '../../../lib/runtime/syncer-feed';
import { makeFeedAuthorizer } from '../../../lib/runtime/syncer-feed-authorizer';
import { memoryLog, silentLog } from '../../../lib/observability/log';
import { FeedConnection } from '../../../lib/syncer/feed-connection';
import { feedConnectUrl, type FeedFrame } from '../../../lib/vw/syncer-feed-protocol';
import { syncerSubject } from '../../../lib/vw/syncer-view';
import { waitFor } from '../../support/wait';
import { refOf, syncMessage } from '../sync/world';

const WS = 'root:team-a';
const ref = refOf(
  WS,
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' } },
  'apps',
  'deployments',
);
const quiet = silentLog;

/**
 * The change feed as the local stack serves it: the feed server in API Gateway's part, invoking the feed's real
 * authorizer and routes over dynalite, and sync-apply's adapter posting through the SDK's @connections client.
 */
describe('the syncer change feed (local WebSocket API, real functions, dynalite)', () => {
  let dynamo: LocalDynamo;
  let raw: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  let server: SyncerFeedServer;
  let connections: DynamoSyncerConnectionStore;
  let client: ApiGatewayManagementApiClient;
  const invocations: Array<{ name: FunctionName; routeKey: string }> = [];
  const open: FeedConnection[] = [];
  const tokens: Record<string, string> = {};
  /** The feed server's own log. */
  const feedLines: Array<{ level: string; message: string; attributes: Record<string, unknown> }> = [];
  /** While set, the $connect route waits for it (after its invocation is recorded). */
  let holdConnect: Promise<void> | undefined;

  const start = async (port?: number): Promise<SyncerFeedServer> => {
    const authorizer = makeFeedAuthorizer({
      authenticate: (subject, token) =>
        new StatusCredentialAuthenticator(
          new DynamoStatusCredentialStore(doc, TABLE.baseName, { kind: 'SYNCERCRED' }),
        ).authenticate(subject, token),
      logger: quiet,
    });
    const routes = makeFeedRoutes({ connections, logger: quiet });
    return startSyncerFeedServer({
      invoke: async (name, event) => {
        const routeKey = String((event as { requestContext: { routeKey: string } }).requestContext.routeKey);
        invocations.push({ name, routeKey });
        if (name === SYNCER_FEED.authorizer) return authorizer(event);
        if (routeKey === '$connect' && holdConnect) await holdConnect;
        return routes(event);
      },
      region: 'us-east-1',
      logger: memoryLog(feedLines),
      ...(port !== undefined ? { port } : {}),
    });
  };

  beforeAll(async () => {
    dynamo = await startLocalDynamo();
    raw = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await ensureTable(raw, TABLE.baseName);
    doc = makeDynamoDocumentClient({ region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint });
    const credentials = new DynamoStatusCredentialStore(doc, TABLE.baseName, { kind: 'SYNCERCRED' });
    for (const cluster of ['lab', 'east'])
      tokens[cluster] = await issueStatusCredential(credentials, syncerSubject(WS, cluster));
    connections = new DynamoSyncerConnectionStore(doc, TABLE.baseName);
    server = await start();
    client = makeFeedConnectionsClient({ region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint }, server.endpoint);
  });
  afterAll(async () => {
    for (const c of open) c.stop();
    await server.stop();
    client.destroy();
    doc.destroy();
    raw.destroy();
    await dynamo.stop();
  });

  const connect = (
    cluster: string,
    token: string,
    url = feedConnectUrl(server.url, { workspace: WS, syncTarget: cluster }),
  ): { connection: FeedConnection; frames: FeedFrame[]; connects: () => number; lines: Array<{ message: string }> } => {
    const frames: FeedFrame[] = [];
    const lines: Array<{ level: string; message: string; attributes: Record<string, unknown> }> = [];
    let connects = 0;
    const connection = new FeedConnection({
      url,
      token,
      log: memoryLog(lines),
      onConnect: () => void connects++,
      onFrame: (f) => void frames.push(f),
      minDelayMs: 20,
      maxDelayMs: 100,
    });
    open.push(connection);
    connection.start();
    return { connection, frames, connects: () => connects, lines };
  };
  const refusals = (lines: Array<{ message: string }>, status: number): number =>
    lines.filter((l) => l.message.includes(`refused the connection (${status})`)).length;

  it("refuses a connection with another SyncTarget's credential, after asking the authorizer, and records nothing", async () => {
    const before = invocations.length;
    const { connection, lines } = connect('lab', tokens.east!);
    await waitFor('two refusals', async () => refusals(lines, 401) >= 2);
    connection.stop();
    expect(connection.connects).toBe(0);
    const asked = invocations.slice(before);
    expect(asked.length).toBeGreaterThanOrEqual(2);
    // The authorizer refused each attempt: the $connect route never ran.
    expect(asked.every((i) => i.name === SYNCER_FEED.authorizer)).toBe(true);
    expect(await connections.list(syncerSubject(WS, 'lab'))).toEqual([]);
  });

  it('refuses a connection that names no SyncTarget before invoking anything, and one with an empty credential', async () => {
    const before = invocations.length;
    const noScope = connect('lab', tokens.lab!, server.url);
    await waitFor('refused', async () => refusals(noScope.lines, 401) >= 2);
    noScope.connection.stop();
    // The query parameters are identity sources: API Gateway refuses without calling the authorizer.
    expect(invocations.slice(before)).toEqual([]);
    const emptyToken = connect('lab', '');
    await waitFor('refused', async () => refusals(emptyToken.lines, 401) >= 1);
    emptyToken.connection.stop();
    expect(emptyToken.connection.connects).toBe(0);
    expect(await connections.list(syncerSubject(WS, 'lab'))).toEqual([]);
  });

  it('records a connection under its SyncTarget, posts reach exactly its syncers, and a close forgets it', async () => {
    const lab = connect('lab', tokens.lab!);
    const east = connect('east', tokens.east!);
    await waitFor('both connected', async () => lab.connects() === 1 && east.connects() === 1);
    const [labConnection] = await connections.list(syncerSubject(WS, 'lab'));
    expect(await connections.list(syncerSubject(WS, 'lab'))).toHaveLength(1);
    expect(await connections.list(syncerSubject(WS, 'east'))).toHaveLength(1);

    const message = syncMessage(ref, 'lab', 3);
    const feed = new ApiGatewaySyncerFeed({ connections, client, log: memoryLog() });
    await feed.notify(WS, 'lab', [message]);
    await waitFor('the frame at lab', async () => lab.frames.length === 1);
    expect(lab.frames[0]).toEqual({ type: 'work', messages: [message] });
    expect(east.frames).toEqual([]);

    lab.connection.stop();
    await waitFor('lab forgotten', async () => (await connections.list(syncerSubject(WS, 'lab'))).length === 0);
    expect(invocations.filter((i) => i.routeKey === '$disconnect').length).toBeGreaterThanOrEqual(1);
    // A post to the closed connection is API Gateway's 410, as the SDK's GoneException.
    await expect(
      client.send(new PostToConnectionCommand({ ConnectionId: labConnection!, Data: new TextEncoder().encode('{}') })),
    ).rejects.toBeInstanceOf(GoneException);
    east.connection.stop();
  });

  it('forgets a connection that is gone when a post finds it so (its $disconnect never ran)', async () => {
    const subject = syncerSubject(WS, 'lab');
    await connections.add(subject, 'L0SM9cOFvHcCIhw=');
    await new ApiGatewaySyncerFeed({ connections, client, log: memoryLog() }).notify(WS, 'lab', [
      syncMessage(ref, 'lab', 4),
    ]);
    expect(await connections.list(subject)).toEqual([]);
  });

  it('routes keepalives to $default', async () => {
    const lab = connect('lab', tokens.lab!);
    await waitFor('connected', async () => lab.connects() === 1);
    const before = invocations.filter((i) => i.routeKey === '$default').length;
    lab.connection.keepalive();
    await waitFor(
      'keepalive routed',
      async () => invocations.filter((i) => i.routeKey === '$default').length === before + 1,
    );
    lab.connection.stop();
  });

  it('ends only the attempt of a syncer that resets its connection during $connect, and forgets it', async () => {
    const before = invocations.length;
    let release = (): void => undefined;
    holdConnect = new Promise<void>((resolve) => (release = resolve));
    const url = new URL(feedConnectUrl(server.url, { workspace: WS, syncTarget: 'lab' }));
    const socket = netConnect(Number(url.port), url.hostname);
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    socket.write(
      [
        `GET ${url.pathname}${url.search} HTTP/1.1`,
        `Host: ${url.host}`,
        `Authorization: Bearer ${tokens.lab!}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
        '',
        '',
      ].join('\r\n'),
    );
    const ran = (routeKey: string): boolean =>
      invocations.slice(before).some((i) => i.name === SYNCER_FEED.function && i.routeKey === routeKey);
    await waitFor('$connect running', async () => ran('$connect'));
    // The syncer goes away with a TCP reset, as a killed process or a dropped network does: the feed reads ECONNRESET.
    socket.resetAndDestroy();
    await waitFor('the reset seen by the feed', async () =>
      feedLines.some((l) => l.message.includes('dropped its change-feed connection')),
    );
    holdConnect = undefined;
    release();
    // $connect recorded the connection; the feed runs $disconnect for it, as for any connection that closed.
    await waitFor('$disconnect run', async () => ran('$disconnect'));
    await waitFor('the dropped connection forgotten', async () =>
      (await connections.list(syncerSubject(WS, 'lab'))).length === 0 ? true : undefined,
    );
    // The feed still serves every other syncer.
    const lab = connect('lab', tokens.lab!);
    await waitFor('connected', async () => lab.connects() === 1);
    lab.connection.stop();
  });

  it('reconnects after the feed restarts, calling onConnect again (the syncer lists its work then)', async () => {
    const lab = connect('lab', tokens.lab!);
    await waitFor('connected', async () => lab.connects() === 1);
    const port = Number(new URL(server.url).port);
    await server.stop();
    await waitFor('the drop seen', async () => !lab.connection.connected);
    server = await start(port);
    await waitFor('reconnected', async () => lab.connects() === 2, { timeoutMs: 30_000 });
    expect(server.connections(WS, 'lab')).toBe(1);
    lab.connection.stop();
  });
});
