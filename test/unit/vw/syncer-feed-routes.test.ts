import { silentLog } from '../../../lib/observability/log';
import type { SyncerConnectionStore } from '../../../lib/ports/syncer-connection-store';
import { makeFeedAuthorizer, makeFeedRoutes } from '../../../lib/vw/syncer-feed-routes';
import { syncerSubject } from '../../../lib/vw/syncer-view';
import { loadEvent } from '../../support/events';

const LAB = syncerSubject('root:default', 'lab');
const CONNECTION = 'L0SM9cOFvHcCIhw=';
const quiet = silentLog;

/** Connections in memory, with every call recorded. */
function memoryConnections(): SyncerConnectionStore & { items: Map<string, Set<string>>; calls: string[] } {
  const items = new Map<string, Set<string>>();
  const calls: string[] = [];
  return {
    items,
    calls,
    add: async (subject, id) => {
      calls.push(`add ${subject} ${id}`);
      items.set(subject, new Set([...(items.get(subject) ?? []), id]));
    },
    remove: async (subject, id) => {
      calls.push(`remove ${subject} ${id}`);
      items.get(subject)?.delete(id);
    },
    list: async (subject) => [...(items.get(subject) ?? [])],
  };
}

describe("the change feed's $connect authorizer", () => {
  const credentials: Record<string, string> = { [LAB]: 'lab-syncer-credential' };
  const asked: string[] = [];
  const authorizer = makeFeedAuthorizer({
    authenticate: async (subject, token) => {
      asked.push(subject);
      return credentials[subject] === token;
    },
    logger: quiet,
  });

  it("admits the SyncTarget's syncer, scoped to that SyncTarget, on this $connect only", async () => {
    const event = loadEvent<{ methodArn: string }>('syncer-feed-authorizer', 'connect.json');
    await expect(authorizer(event)).resolves.toEqual({
      principalId: LAB,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
      },
      context: { workspace: 'root:default', syncTarget: 'lab' },
    });
  });

  it("refuses another SyncTarget's credential with API Gateway's 401 (an error named exactly Unauthorized)", async () => {
    await expect(authorizer(loadEvent('syncer-feed-authorizer', 'connect-wrong-credential.json'))).rejects.toThrow(
      /^Unauthorized$/,
    );
  });

  it.each([
    ['no Authorization header', { headers: {} }],
    ['a token that is not a bearer token', { headers: { authorization: 'Basic bGFiOmxhYg==' } }],
    ['no SyncTarget in the query', { queryStringParameters: { workspace: 'root:default' } }],
    ['a workspace that is not a kcp path', { queryStringParameters: { workspace: '../x', syncTarget: 'lab' } }],
    [
      'a SyncTarget name kcp would not accept',
      { queryStringParameters: { workspace: 'root:default', syncTarget: 'Lab|x' } },
    ],
  ])('refuses %s without checking any credential', async (_, change) => {
    const before = asked.length;
    const event = { ...loadEvent<Record<string, unknown>>('syncer-feed-authorizer', 'connect.json'), ...change };
    await expect(authorizer(event)).rejects.toThrow(/^Unauthorized$/);
    expect(asked.length).toBe(before);
  });

  it('fails (API Gateway 500) instead of refusing or admitting when the credentials cannot be read', async () => {
    const failing = makeFeedAuthorizer({
      authenticate: async () => {
        throw new Error('ProvisionedThroughputExceededException');
      },
      logger: quiet,
    });
    await expect(failing(loadEvent('syncer-feed-authorizer', 'connect.json'))).rejects.toThrow(
      'ProvisionedThroughputExceededException',
    );
  });
});

describe("the change feed's routes", () => {
  it('$connect records the connection under the SyncTarget of its authorizer context', async () => {
    const connections = memoryConnections();
    const routes = makeFeedRoutes({ connections, logger: quiet });
    await expect(routes(loadEvent('syncer-feed', 'connect.json'))).resolves.toEqual({ statusCode: 200 });
    expect(connections.calls).toEqual([`add ${LAB} ${CONNECTION}`]);
  });

  it('$connect without an authorizer context is refused and records nothing', async () => {
    const connections = memoryConnections();
    const routes = makeFeedRoutes({ connections, logger: quiet });
    const event = loadEvent<{ requestContext: Record<string, unknown> }>('syncer-feed', 'connect.json');
    const { authorizer: _authorizer, ...requestContext } = event.requestContext;
    await expect(routes({ ...event, requestContext })).rejects.toThrow(/authorizer context/);
    expect(connections.calls).toEqual([]);
  });

  it('$disconnect forgets exactly that connection', async () => {
    const connections = memoryConnections();
    await connections.add(LAB, CONNECTION);
    await connections.add(LAB, 'Other0cOFvHcCIhw=');
    const routes = makeFeedRoutes({ connections, logger: quiet });
    await expect(routes(loadEvent('syncer-feed', 'disconnect.json'))).resolves.toEqual({ statusCode: 200 });
    expect(await connections.list(LAB)).toEqual(['Other0cOFvHcCIhw=']);
  });

  it('$default answers a keepalive and refuses anything else without touching the table', async () => {
    const connections = memoryConnections();
    const routes = makeFeedRoutes({ connections, logger: quiet });
    const keepalive = loadEvent<{ body: string }>('syncer-feed', 'keepalive.json');
    await expect(routes(keepalive)).resolves.toEqual({ statusCode: 200 });
    await expect(routes({ ...keepalive, body: '{"type":"work","messages":[]}' })).resolves.toEqual({ statusCode: 400 });
    await expect(routes({ ...keepalive, body: 'not json' })).resolves.toEqual({ statusCode: 400 });
    expect(connections.calls).toEqual([]);
  });
});
