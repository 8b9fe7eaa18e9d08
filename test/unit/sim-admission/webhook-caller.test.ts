import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createWebhookCaller, type WebhookCaller } from '../../../lib/sim/admission/webhook-caller';

/**
 * A webhook target that answers the first request of each connection and keeps the connection alive, but closes it
 * without an answer when a later request arrives on it (`closeReused`), or closes every connection unanswered
 * (`closeAll`): what a server whose keep-alive timer fired before it read the next request does.
 */
async function startTarget(mode: 'closeReused' | 'closeAll'): Promise<{
  url: string;
  answered: number;
  closedUnanswered: number;
  connections: number;
  close: () => Promise<void>;
}> {
  const served = new WeakMap<Socket, number>();
  const target = {
    url: '',
    answered: 0,
    closedUnanswered: 0,
    connections: 0,
    close: (): Promise<void> =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const before = served.get(req.socket) ?? 0;
    served.set(req.socket, before + 1);
    req.resume();
    if (mode === 'closeAll' || before > 0) {
      target.closedUnanswered++;
      req.socket.destroy();
      return;
    }
    req.on('end', () => {
      target.answered++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ response: { allowed: true } }));
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', () => target.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/status/east`;
  return target;
}

describe('webhook caller', () => {
  let caller: WebhookCaller;
  beforeEach(() => (caller = createWebhookCaller()));
  afterEach(() => caller.close());

  it('sends a call again on a new connection when the server closed the kept-alive one without answering', async () => {
    const target = await startTarget('closeReused');
    try {
      expect(await caller.call({ url: target.url, body: {}, timeoutSeconds: 5 })).toEqual({
        ok: true,
        body: { response: { allowed: true } },
      });
      // The agent reuses the first connection; the server closes it unanswered (the call would fail open, and a status
      // report be lost): the call goes again on a second connection and is answered.
      expect(await caller.call({ url: target.url, body: {}, timeoutSeconds: 5 })).toEqual({
        ok: true,
        body: { response: { allowed: true } },
      });
      expect({
        answered: target.answered,
        closedUnanswered: target.closedUnanswered,
        connections: target.connections,
      }).toEqual({ answered: 2, closedUnanswered: 1, connections: 2 });
    } finally {
      await target.close();
    }
  });

  it('fails a call whose new connection closes unanswered, once: the failure policy decides, as for any failed call', async () => {
    const target = await startTarget('closeAll');
    try {
      const result = await caller.call({ url: target.url, body: {}, timeoutSeconds: 5 });
      expect(result).toEqual({ ok: false, reason: expect.stringMatching(/^failed to call webhook: Post ".*": EOF$/) });
      expect({ closedUnanswered: target.closedUnanswered, connections: target.connections }).toEqual({
        closedUnanswered: 1,
        connections: 1,
      });
    } finally {
      await target.close();
    }
  });
});
