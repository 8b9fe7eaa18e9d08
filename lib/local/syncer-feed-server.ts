import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import { SYNCER_FEED, type FunctionName } from '../runtime/resources';
import { syncerSubject } from '../vw/syncer-view';
import { LOCAL_ACCOUNT, LOCAL_FEED_API_ID } from './iam';
import type { Log } from '../observability/log';

export interface SyncerFeedServer {
  /** Where syncers connect (`ws://…/feed`), the SyncTarget in the query, as the cloud's `wss://…/feed`. */
  url: string;
  /** The @connections endpoint functions post to (SYNCER_FEED.env.endpoint), as API Gateway's. */
  endpoint: string;
  /** Open connections of a SyncTarget. */
  connections(workspace: string, cluster: string): number;
  stop(): Promise<void>;
}

const AuthorizerResultSchema = z.object({
  principalId: z.string(),
  policyDocument: z.object({ Statement: z.array(z.object({ Effect: z.enum(['Allow', 'Deny']) })).min(1) }),
  context: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
const RouteResultSchema = z.object({ statusCode: z.number().int() }).loose();

const STATUS_TEXT: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 500: 'Internal Server Error' };

/** API Gateway's connection ids: 12 random bytes, base64 (`L0SM9cOFvHcCIhw=`). */
function newConnectionId(): string {
  return randomBytes(10).toString('base64');
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers[req.rawHeaders[i]!] = req.rawHeaders[i + 1]!;
  return headers;
}

/**
 * The local stack's change feed, playing the API Gateway WebSocket API's part (infra/syncer-feed.ts) with the same
 * functions: a WebSocket upgrade runs `$connect`'s authorizer (`syncer-feed-authorizer`, REQUEST, identity sources
 * the Authorization header and the SyncTarget's query parameters) and then the `$connect` route (`syncer-feed`); a
 * message runs `$default`, a close `$disconnect`. Functions post frames to `POST /feed/@connections/<id>` as to API
 * Gateway's @connections API (410 GoneException for a connection that is not open), so sync-apply's feed adapter is
 * the cloud's.
 */
export async function startSyncerFeedServer(options: {
  invoke(name: FunctionName, event: unknown): Promise<unknown>;
  region: string;
  logger: Log;
  /** Default: a free port. */
  port?: number;
}): Promise<SyncerFeedServer> {
  const stagePath = `/${SYNCER_FEED.stageName}`;
  const open = new Map<string, { socket: WebSocket; subject: string }>();
  let stopping = false;
  const wss = new WebSocketServer({ noServer: true, maxPayload: SYNCER_FEED.maxFrameBytes });
  const requestContext = (connectionId: string, routeKey: string, eventType: string): Record<string, unknown> => ({
    routeKey,
    eventType,
    connectionId,
    stage: SYNCER_FEED.stageName,
    apiId: LOCAL_FEED_API_ID,
    domainName: '127.0.0.1',
    requestId: randomBytes(8).toString('base64url'),
    requestTimeEpoch: Date.now(),
    connectedAt: Date.now(),
  });

  const route = async (
    connectionId: string,
    routeKey: string,
    eventType: string,
    authorizer: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ): Promise<number> => {
    const result = await options.invoke(SYNCER_FEED.function, {
      requestContext: { ...requestContext(connectionId, routeKey, eventType), authorizer },
      isBase64Encoded: false,
      ...extra,
    });
    return RouteResultSchema.parse(result).statusCode;
  };

  /** `$connect`: the authorizer, then the route; the status code the handshake is refused with, or the context. */
  const connect = async (
    req: IncomingMessage,
    connectionId: string,
  ): Promise<{ refused: number } | { authorizer: Record<string, unknown> }> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const headers = headersOf(req);
    const query = Object.fromEntries(url.searchParams);
    // Identity sources: API Gateway refuses (401) without invoking the authorizer when one is missing.
    const authorization = Object.entries(headers).find(([name]) => name.toLowerCase() === 'authorization');
    if (
      authorization === undefined ||
      query[SYNCER_FEED.query.workspace] === undefined ||
      query[SYNCER_FEED.query.syncTarget] === undefined
    )
      return { refused: 401 };
    let answer: z.infer<typeof AuthorizerResultSchema>;
    try {
      answer = AuthorizerResultSchema.parse(
        await options.invoke(SYNCER_FEED.authorizer, {
          type: 'REQUEST',
          methodArn: `arn:aws:execute-api:${options.region}:${LOCAL_ACCOUNT}:${LOCAL_FEED_API_ID}/${SYNCER_FEED.stageName}/$connect`,
          headers,
          queryStringParameters: query,
          requestContext: requestContext(connectionId, '$connect', 'CONNECT'),
        }),
      );
    } catch (err) {
      // An authorizer failing with exactly "Unauthorized" is API Gateway's 401; any other failure its 500.
      if (err instanceof Error && err.message === 'Unauthorized') return { refused: 401 };
      options.logger.warn('The change feed authorizer failed', { error: String(err) });
      return { refused: 500 };
    }
    if (answer.policyDocument.Statement.some((s) => s.Effect !== 'Allow')) return { refused: 403 };
    const authorizer = { ...answer.context, principalId: answer.principalId };
    const status = await route(connectionId, '$connect', 'CONNECT', authorizer, {
      headers,
      queryStringParameters: query,
    });
    return status >= 200 && status < 300 ? { authorizer } : { refused: status };
  };

  const post = async (req: IncomingMessage, res: ServerResponse, connectionId: string): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(Buffer.from(chunk as Uint8Array));
    const data = Buffer.concat(chunks);
    const error = (status: number, type: string, message: string): void =>
      void res
        .writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type })
        .end(JSON.stringify({ message }));
    if (data.byteLength > SYNCER_FEED.maxFrameBytes) return error(413, 'PayloadTooLargeException', 'Payload too large');
    const connection = open.get(connectionId);
    if (connection === undefined || connection.socket.readyState !== WebSocket.OPEN)
      return error(410, 'GoneException', `Connection ${connectionId} is gone`);
    connection.socket.send(data.toString('utf8'));
    res.writeHead(200).end();
  };

  const CONNECTIONS = new RegExp(`^${stagePath}/@connections/([^/?]+)$`);
  const server = createServer((req, res) => {
    const match = CONNECTIONS.exec((req.url ?? '').split('?')[0]!);
    if (match === null) return void res.writeHead(404).end();
    const connectionId = decodeURIComponent(match[1]!);
    if (req.method === 'POST') {
      post(req, res, connectionId).catch((err: unknown) => {
        options.logger.warn('Posting to a change-feed connection failed', { error: String(err) });
        if (!res.headersSent) res.writeHead(500).end();
      });
      return;
    }
    if (req.method === 'DELETE') {
      const connection = open.get(connectionId);
      connection?.socket.close();
      return void res
        .writeHead(connection ? 204 : 410, connection ? {} : { 'x-amzn-errortype': 'GoneException' })
        .end();
    }
    res.writeHead(405).end();
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node's HTTP server stops listening for the socket's errors when it hands an upgrade over, and the authorizer and
    // $connect run for a while before ws takes it: a syncer that drops meanwhile (a reset) must end this attempt only,
    // not raise an unhandled 'error' in the process serving every other connection.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      options.logger.debug('A syncer dropped its change-feed connection while it was being opened', {
        error: err.code ?? err.message,
      });
      socket.destroy();
    });
    const refuse = (code: number): void => {
      if (socket.destroyed) return;
      socket.end(`HTTP/1.1 ${code} ${STATUS_TEXT[code] ?? 'Error'}\r\nContent-Length: 0\r\n\r\n`);
    };
    if ((req.url ?? '').split('?')[0] !== stagePath) return refuse(403);
    const connectionId = newConnectionId();
    connect(req, connectionId)
      .then((outcome) => {
        if ('refused' in outcome) return refuse(outcome.refused);
        const { authorizer } = outcome;
        if (socket.destroyed) {
          // Gone during $connect, which recorded it: API Gateway runs $disconnect for it, so nothing posts to it.
          route(connectionId, '$disconnect', 'DISCONNECT', authorizer).catch((err: unknown) =>
            options.logger.debug('The change feed $disconnect route failed', { error: String(err) }),
          );
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => {
          const subject = syncerSubject(String(authorizer.workspace), String(authorizer.syncTarget));
          open.set(connectionId, { socket: ws, subject });
          ws.on('message', (data) => {
            route(connectionId, '$default', 'MESSAGE', authorizer, { body: data.toString() }).catch((err: unknown) =>
              options.logger.warn('The change feed $default route failed', { error: String(err) }),
            );
          });
          ws.on('close', () => {
            open.delete(connectionId);
            if (stopping) return;
            route(connectionId, '$disconnect', 'DISCONNECT', authorizer).catch((err: unknown) =>
              options.logger.debug('The change feed $disconnect route failed', { error: String(err) }),
            );
          });
          ws.on('error', () => ws.terminate());
        });
      })
      .catch((err: unknown) => {
        options.logger.warn('Connecting a syncer to the change feed failed', { error: String(err) });
        refuse(500);
      });
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const base = `127.0.0.1:${(server.address() as AddressInfo).port}${stagePath}`;
  return {
    url: `ws://${base}`,
    endpoint: `http://${base}`,
    connections: (workspace, cluster) =>
      [...open.values()].filter((c) => c.subject === syncerSubject(workspace, cluster)).length,
    stop: async () => {
      stopping = true;
      for (const { socket } of open.values()) socket.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
