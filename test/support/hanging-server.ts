import { connect, createServer, type Server, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';

/** A service that hangs, for timeout tests: `url` to point a client at, `requests` it got, `stop` to end it. */
export interface HangingServer {
  url: string;
  requests: () => number;
  stop: () => Promise<void>;
}

/** A TCP server that takes every request and never answers: a service that hangs. Counts the requests it got. */
export async function startHangingServer(): Promise<HangingServer> {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => {
      requests += chunk.toString('latin1').match(/^(POST|GET|PUT|PATCH|DELETE) \//gm)?.length ?? 0;
    });
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests: () => requests,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/*
 * The listener lives in a worker thread that blocks right after listening, so nothing accepts: the kernel completes
 * handshakes only while the listen backlog has room, and drops the SYNs after that. (A listener on the main thread
 * cannot do this: Node accepts every connection.)
 */
const BLOCKED_LISTENER = `
const { createServer } = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const server = createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  Atomics.wait(new Int32Array(workerData), 0, 0);
});
`;

/**
 * An endpoint whose TCP connect never completes, as a cluster behind a firewall that drops packets or an API server
 * whose accept queue is full: the listen backlog is filled first, so a new connection's SYN goes unanswered. `requests`
 * is always 0 (nothing is ever read).
 */
export async function startUnconnectableServer(): Promise<HangingServer> {
  const release = new SharedArrayBuffer(4);
  const worker = new Worker(BLOCKED_LISTENER, { eval: true, workerData: release });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  // Fill the backlog (its length plus one on Linux); the last of these may itself hang, which is the point.
  const fillers: Socket[] = [];
  for (let i = 0; i < 3; i += 1) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    fillers.push(socket);
    await new Promise<void>((resolve) => {
      socket.once('connect', () => resolve());
      setTimeout(resolve, 200);
    });
  }
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => 0,
    stop: async () => {
      for (const socket of fillers) socket.destroy();
      Atomics.store(new Int32Array(release), 0, 1);
      Atomics.notify(new Int32Array(release), 0);
      await worker.terminate();
    },
  };
}
