import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { ROUTES, type RouteDefinition } from '../runtime/resources';
import {
  compileRoute,
  fromLambdaResult,
  gatewayError,
  MAX_REQUEST_BYTES,
  toApiGatewayEvent,
  type HttpResponse,
} from './api-gateway';
import { FunctionMissingError, type FunctionRuntime } from './function-runtime';
import { isFunctionTimeout } from './container-pool';
import type { Log } from '../observability/log';
import { selfSignedCertificate } from './self-signed-certificate';

export interface ApiServerOptions {
  runtime: FunctionRuntime;
  logger: Log;
  port: number;
  host?: string;
  routes?: RouteDefinition[];
  maxBodyBytes?: number;
}

export interface ApiServer {
  url: string;
  /** The same API over TLS on the same port (a self-signed certificate): kubectl sends credentials only over TLS. */
  tlsUrl: string;
  port: number;
  /** Requests being handled now (the stack is not idle while one runs). */
  readonly inFlight: number;
  close(): Promise<void>;
}

class BodyTooLargeError extends Error {}

/** The API's port is taken (another local stack, most often); `port` is the one asked for. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(`Port ${port} on 127.0.0.1 is already in use`, options);
    this.name = 'PortInUseError';
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) return Promise.reject(new BodyTooLargeError());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, response: HttpResponse): void {
  const headers: Record<string, string | string[]> = {
    ...response.headers,
    'content-length': String(response.body.length),
  };
  if (response.cookies.length > 0) headers['set-cookie'] = response.cookies;
  res.writeHead(response.statusCode, headers);
  res.end(response.body);
}

/**
 * The HTTP API: every route of ROUTES handed to its function as an API Gateway HTTP API (payload 2.0) event, with
 * API Gateway's own answers where no function runs (404 no route, 413 too large, 500 function error, 503 missing).
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const routes = (options.routes ?? ROUTES).map(compileRoute);
  const limit = options.maxBodyBytes ?? MAX_REQUEST_BYTES;
  let inFlight = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const path = url.split('?')[0];
    let pathParameters: Record<string, string> | undefined;
    const compiled = routes.find(
      (r) => (r.route.method === method || r.route.method === 'ANY') && (pathParameters = r.match(path)) !== undefined,
    );
    if (compiled === undefined || pathParameters === undefined) {
      send(res, gatewayError(404, 'Not Found'));
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, limit);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        res.setHeader('connection', 'close');
        send(res, gatewayError(413, 'Request Entity Too Large'));
        return;
      }
      throw err;
    }
    const event = toApiGatewayEvent(
      {
        method,
        url,
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        host: req.headers.host ?? 'localhost',
      },
      compiled,
      pathParameters,
    );
    try {
      const result = await options.runtime.invoke(compiled.route.target, event);
      send(res, fromLambdaResult(result));
    } catch (err) {
      if (err instanceof FunctionMissingError) {
        send(res, gatewayError(503, 'Service Unavailable'));
      } else if (isFunctionTimeout(err)) {
        options.logger.error(`Function ${compiled.route.target} timed out`, { routeKey: compiled.routeKey });
        send(res, gatewayError(503, 'Service Unavailable'));
      } else {
        options.logger.error(`Function ${compiled.route.target} failed`, { routeKey: compiled.routeKey, error: err });
        send(res, gatewayError(500, 'Internal Server Error'));
      }
    }
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    inFlight += 1;
    handle(req, res)
      .catch((err: unknown) => {
        options.logger.error('Request failed', { error: err });
        if (!res.headersSent) send(res, gatewayError(500, 'Internal Server Error'));
      })
      .finally(() => {
        inFlight -= 1;
      });
  };
  const server: Server = createServer(onRequest);
  const certificate = selfSignedCertificate();
  const tlsServer = createTlsServer({ key: certificate.keyPem, cert: certificate.certPem }, onRequest);
  for (const s of [server, tlsServer]) s.keepAliveTimeout = 5000;
  // One port for both: a connection whose first byte opens a TLS handshake (0x16) goes to the TLS server.
  const front = createTcpServer({ pauseOnConnect: true }, (socket: Socket) => {
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      (first[0] === 0x16 ? tlsServer : server).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
    socket.on('error', () => socket.destroy());
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    front.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(options.port, { cause: err }) : err),
    );
    front.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (front.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    tlsUrl: `https://127.0.0.1:${port}`,
    port,
    get inFlight(): number {
      return inFlight;
    },
    close: (): Promise<void> =>
      new Promise((resolve) => {
        front.close(() => resolve());
        server.closeAllConnections();
        tlsServer.closeAllConnections();
      }),
  };
}
