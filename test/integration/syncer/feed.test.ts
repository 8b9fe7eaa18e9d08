import { createStackLogger } from '../../../lib/local/log';
import { startSyncerFeedServer, type SyncerFeedServer } from '../../../lib/local/syncer-feed-server';
import { HttpSyncerFeed } from '../../../lib/adapters/feed/http-syncer-feed';
import { memoryLog } from '../../../lib/observability/log';
import { FeedConnection } from '../../../lib/syncer/feed-connection';
import type { FeedFrame } from '../../../lib/vw/syncer-feed-protocol';
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

/** The local change feed: who may connect, who may push, and that a push reaches exactly its SyncTarget's syncers. */
describe('the local syncer change feed', () => {
  let server: SyncerFeedServer;
  const open: FeedConnection[] = [];
  const tokens: Record<string, string> = {
    [syncerSubject(WS, 'lab')]: 'lab-credential',
    [syncerSubject(WS, 'east')]: 'east-credential',
  };

  beforeAll(async () => {
    server = await startSyncerFeedServer({
      authenticate: async (subject, token) => tokens[subject] === token,
      pushToken: 'webhook-token',
      logger: createStackLogger({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    for (const c of open) c.stop();
    await server.stop();
  });

  const connect = (
    cluster: string,
    token: string,
  ): { connection: FeedConnection; frames: FeedFrame[]; connects: () => number; lines: Array<{ message: string }> } => {
    const frames: FeedFrame[] = [];
    const lines: Array<{ level: string; message: string; attributes: Record<string, unknown> }> = [];
    let connects = 0;
    const connection = new FeedConnection({
      url: `${server.connectUrl}/${encodeURIComponent(WS)}/${cluster}`,
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

  it("refuses a connection with another SyncTarget's credential", async () => {
    const { connection, lines } = connect('lab', 'east-credential');
    // Refused attempts are retried with backoff; none is ever accepted.
    await waitFor(
      'two refusals',
      async () => lines.filter((l) => l.message.includes('refused the connection (401)')).length >= 2,
    );
    expect(connection.connects).toBe(0);
    expect(server.connections(WS, 'lab')).toBe(0);
    connection.stop();
  });

  it('sends a push to the connections of its SyncTarget only', async () => {
    const lab = connect('lab', 'lab-credential');
    const east = connect('east', 'east-credential');
    await waitFor(
      'both connected',
      async () => server.connections(WS, 'lab') === 1 && server.connections(WS, 'east') === 1,
    );
    expect(lab.connects()).toBe(1);
    const message = syncMessage(ref, 'lab', 3);
    await new HttpSyncerFeed({ pushUrl: server.pushUrl, token: 'webhook-token' }).notify(WS, 'lab', [message]);
    await waitFor('the frame at lab', async () => lab.frames.length === 1);
    expect(lab.frames[0]).toEqual({ type: 'work', messages: [message] });
    expect(east.frames).toEqual([]);
    lab.connection.stop();
    east.connection.stop();
    await waitFor(
      'both closed',
      async () => server.connections(WS, 'lab') === 0 && server.connections(WS, 'east') === 0,
    );
  });

  it('refuses a push without the webhook token, and a malformed one', async () => {
    await expect(
      new HttpSyncerFeed({ pushUrl: server.pushUrl, token: 'wrong' }).notify(WS, 'lab', [syncMessage(ref, 'lab', 1)]),
    ).rejects.toMatchObject({ statusCode: 401 });
    const response = await fetch(server.pushUrl, {
      method: 'POST',
      headers: { authorization: 'Bearer webhook-token' },
      body: JSON.stringify({ workspace: WS, cluster: 'lab', frame: { type: 'work', messages: [] } }),
    });
    expect(response.status).toBe(400);
  });

  it('reconnects after the feed restarts, calling onConnect again (the syncer lists its work then)', async () => {
    const lab = connect('lab', 'lab-credential');
    await waitFor('connected', async () => lab.connects() === 1);
    const port = Number(new URL(server.connectUrl).port);
    await server.stop();
    await waitFor('the drop seen', async () => !lab.connection.connected);
    server = await startSyncerFeedServer({
      authenticate: async (subject, token) => tokens[subject] === token,
      pushToken: 'webhook-token',
      logger: createStackLogger({ level: 'silent' }),
      port,
    });
    await waitFor('reconnected', async () => lab.connects() === 2, { timeoutMs: 30_000 });
    expect(server.connections(WS, 'lab')).toBe(1);
  });
});
