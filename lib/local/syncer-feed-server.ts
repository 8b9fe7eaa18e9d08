import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { FeedPushSchema } from '../vw/syncer-feed-protocol';
import { syncerSubject } from '../vw/syncer-view';
import type { Log } from '../observability/log';

export interface SyncerFeedServer {
  /** Where syncers connect: `<connectUrl>/<workspace>/<SyncTarget>`, with the SyncTarget's bearer credential. */
  connectUrl: string;
  /** Where functions post pushes, with the webhook token. */
  pushUrl: string;
  /** Open connections per `workspace|SyncTarget`. */
  connections(workspace: string, cluster: string): number;
  stop(): Promise<void>;
}

const PATH = /^\/feed\/([^/]+)\/([^/]+)$/;

/**
 * The local stack's change feed: the role the API Gateway WebSocket API plays in the cloud (docs/virtual-workspace.md).
 * A syncer connects with its SyncTarget's credential (checked as `$connect` checks it); a push is sent on every
 * connection of its SyncTarget, and a push that finds none is dropped (the syncer lists its work on reconnect).
 */
export async function startSyncerFeedServer(options: {
  authenticate(subject: string, token: string): Promise<boolean>;
  pushToken: string;
  logger: Log;
  /** Default: a free port. */
  port?: number;
}): Promise<SyncerFeedServer> {
  const sockets = new Map<string, Set<WebSocket>>();
  const wss = new WebSocketServer({ noServer: true });
  const bearer = (req: IncomingMessage): string | undefined => {
    const auth = req.headers.authorization ?? '';
    return auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
  };

  const push = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (bearer(req) !== options.pushToken) return void res.writeHead(401).end();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let parsed;
    try {
      parsed = FeedPushSchema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    } catch {
      return void res.writeHead(400).end();
    }
    if (!parsed.success) return void res.writeHead(400).end();
    const { workspace, cluster, frame } = parsed.data;
    const text = JSON.stringify(frame);
    const open = [...(sockets.get(syncerSubject(workspace, cluster)) ?? [])];
    for (const ws of open) ws.send(text);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ connections: open.length }));
  };

  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/push') {
      push(req, res).catch((err: unknown) => {
        options.logger.warn('Pushing to the syncer feed failed', { error: String(err) });
        if (!res.headersSent) res.writeHead(500).end();
      });
      return;
    }
    res.writeHead(404).end();
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (code: number): void =>
      void socket.end(`HTTP/1.1 ${code} ${code === 401 ? 'Unauthorized' : 'Not Found'}\r\nContent-Length: 0\r\n\r\n`);
    const match = PATH.exec((req.url ?? '').split('?')[0]);
    const token = bearer(req);
    if (!match) return refuse(404);
    const subject = syncerSubject(decodeURIComponent(match[1]), decodeURIComponent(match[2]));
    if (token === undefined) return refuse(401);
    options
      .authenticate(subject, token)
      .then((ok) => {
        if (!ok) return refuse(401);
        wss.handleUpgrade(req, socket, head, (ws) => {
          const set = sockets.get(subject) ?? new Set<WebSocket>();
          set.add(ws);
          sockets.set(subject, set);
          ws.on('close', () => set.delete(ws));
          ws.on('error', () => set.delete(ws));
        });
      })
      .catch((err: unknown) => {
        options.logger.warn('Checking a syncer feed connection failed', { error: String(err) });
        socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
      });
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    connectUrl: `ws://${base}/feed`,
    pushUrl: `http://${base}/push`,
    connections: (workspace, cluster) => sockets.get(syncerSubject(workspace, cluster))?.size ?? 0,
    stop: async () => {
      for (const set of sockets.values()) for (const ws of set) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
