import { GoneException, type PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { ApiGatewaySyncerFeed } from '../../../lib/adapters/feed/api-gateway-syncer-feed';
import type { SyncMessage } from '../../../lib/api/messages';
import { DeadlineExceededError } from '../../../lib/errors/tmc-error';
import { SYNCER_FEED } from '../../../lib/runtime/resources';
import { memoryLog } from '../../../lib/observability/log';
import { FeedFrameSchema } from '../../../lib/vw/syncer-feed-protocol';
import { syncerSubject } from '../../../lib/vw/syncer-view';
import { deployment, ref, TYPES } from '../../support/builders';

const WS = 'root:default';
const LAB = syncerSubject(WS, 'lab');

function message(name: string, object?: SyncMessage['object']): SyncMessage {
  return {
    type: 'sync',
    ref: ref(WS, TYPES.deployments, name),
    cluster: 'lab',
    action: 'apply',
    decisionVersion: 1,
    ...(object ? { object } : {}),
    trace: { traceId: `trace-${name}`, enqueuedAt: '2026-01-01T00:00:00.000Z' },
  };
}

/**
 * A recording @connections client: `gone` ids answer GoneException, `failing` ids a 500, `cutOff` ids fail as the
 * client does at the invocation's deadline (lib/runtime/aws-request-handler.ts).
 */
function poster(options: { gone?: string[]; failing?: string[]; cutOff?: string[] } = {}) {
  const posts: Array<{ connectionId: string; frame: unknown }> = [];
  return {
    posts,
    send: async (command: PostToConnectionCommand): Promise<unknown> => {
      const connectionId = command.input.ConnectionId!;
      if (options.gone?.includes(connectionId))
        throw new GoneException({ message: 'gone', $metadata: { httpStatusCode: 410 } });
      if (options.failing?.includes(connectionId)) throw new Error('InternalServerErrorException');
      if (options.cutOff?.includes(connectionId))
        throw new DeadlineExceededError("A API Gateway request was cut off at the invocation's deadline");
      posts.push({ connectionId, frame: JSON.parse(new TextDecoder().decode(command.input.Data as Uint8Array)) });
      return {};
    },
  };
}

function store(ids: string[]) {
  const removed: string[] = [];
  let lists = 0;
  return {
    removed,
    lists: () => lists,
    add: async () => undefined,
    remove: async (subject: string, id: string) => void removed.push(`${subject} ${id}`),
    list: async (subject: string) => {
      lists++;
      return subject === LAB ? ids : [];
    },
  };
}

describe('ApiGatewaySyncerFeed (PostToConnection)', () => {
  it("posts one frame to each of the SyncTarget's connections, in the protocol's format", async () => {
    const client = poster();
    const connections = store(['c1', 'c2']);
    await new ApiGatewaySyncerFeed({ connections, client, log: memoryLog() }).notify(WS, 'lab', [message('web')]);
    expect(client.posts.map((p) => p.connectionId).sort()).toEqual(['c1', 'c2']);
    for (const { frame } of client.posts)
      expect(FeedFrameSchema.parse(frame)).toEqual({ type: 'work', messages: [message('web')] });
  });

  it('reads nothing and posts nothing for no messages, and posts nothing when no syncer is connected', async () => {
    const client = poster();
    const connections = store([]);
    const feed = new ApiGatewaySyncerFeed({ connections, client, log: memoryLog() });
    await feed.notify(WS, 'lab', []);
    expect(connections.lists()).toBe(0);
    await feed.notify(WS, 'lab', [message('web')]);
    expect(connections.lists()).toBe(1);
    expect(client.posts).toEqual([]);
  });

  it('forgets a connection API Gateway says is gone, and still reaches the others', async () => {
    const client = poster({ gone: ['old'] });
    const connections = store(['old', 'new']);
    await new ApiGatewaySyncerFeed({ connections, client, log: memoryLog() }).notify(WS, 'lab', [message('web')]);
    expect(connections.removed).toEqual([`${LAB} old`]);
    expect(client.posts.map((p) => p.connectionId)).toEqual(['new']);
  });

  it('tries every connection, then throws a NetworkError for the ones that failed, forgetting none of them', async () => {
    const client = poster({ failing: ['c1'] });
    const connections = store(['c1', 'c2']);
    await expect(
      new ApiGatewaySyncerFeed({ connections, client, log: memoryLog() }).notify(WS, 'lab', [message('web')]),
    ).rejects.toMatchObject({ name: 'NetworkError', category: 'network' });
    expect(client.posts.map((p) => p.connectionId)).toEqual(['c2']);
    expect(connections.removed).toEqual([]);
  });

  it('names a post cut off at the deadline as such, not as a network fault', async () => {
    const client = poster({ failing: ['c1'], cutOff: ['c2'] });
    const connections = store(['c1', 'c2', 'c3']);
    await expect(
      new ApiGatewaySyncerFeed({ connections, client, log: memoryLog() }).notify(WS, 'lab', [message('web')]),
    ).rejects.toMatchObject({
      name: 'DeadlineExceededError',
      category: 'invocation-deadline',
      message: "Posting 1 message(s) to 2 of 3 change-feed connections of lab was cut off at the invocation's deadline",
    });
    expect(client.posts.map((p) => p.connectionId)).toEqual(['c3']);
  });

  it('splits more than 100 messages into frames, and leaves out carried objects that would not fit a frame', async () => {
    const client = poster();
    const connections = store(['c1']);
    const big = deployment('web', { metadata: { annotations: { blob: 'x'.repeat(SYNCER_FEED.maxFrameBytes) } } });
    const messages = [message('web', big), ...Array.from({ length: 100 }, (_, i) => message(`w${i}`))];
    await new ApiGatewaySyncerFeed({ connections, client, log: memoryLog() }).notify(WS, 'lab', messages);
    const frames = client.posts.map((p) => FeedFrameSchema.parse(p.frame));
    expect(frames.map((f) => f.messages.length)).toEqual([100, 1]);
    expect(frames[0]!.messages[0]).toEqual(message('web'));
    expect(frames[1]!.messages[0]).toEqual(message('w99'));
  });
});
