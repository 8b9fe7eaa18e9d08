import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCall {
  path: string;
  headers: http.IncomingHttpHeaders;
  review: { request: Record<string, any> };
}

type Answer = { status?: number; body: unknown } | 'hang';

/** A real webhook target on 127.0.0.1: answers each AdmissionReview with what `respond` returns (or resolves to). */
export async function startWebhookServer(
  respond: (review: { request: Record<string, any> }, path: string) => Answer | Promise<Answer>,
): Promise<{
  url: (path: string) => string;
  calls: ReceivedCall[];
  close: () => Promise<void>;
}> {
  const calls: ReceivedCall[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const path = (req.url ?? '').split('?')[0];
      calls.push({ path: req.url ?? '', headers: req.headers, review });
      const answer = await respond(review, path);
      if (answer === 'hang') return;
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
      res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (connection refused). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function allow(
  review: { request: Record<string, any> },
  extra: Record<string, unknown> = {},
): { body: unknown } {
  return {
    body: {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: review.request.uid, allowed: true, ...extra },
    },
  };
}

export function deny(review: { request: Record<string, any> }, status?: Record<string, unknown>): { body: unknown } {
  return {
    body: {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: review.request.uid, allowed: false, ...(status ? { status } : {}) },
    },
  };
}

export function jsonPatch(review: { request: Record<string, any> }, patch: unknown[]): { body: unknown } {
  return allow(review, { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') });
}
