import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { FunctionRuntime } from '../../../lib/local/function-runtime';
import { startApiServer, type ApiServer } from '../../../lib/local/http-server';
import { createStackLogger } from '../../../lib/local/log';
import { ROUTES } from '../../../lib/runtime/resources';

describe('local HTTP API → API Gateway payload 2.0 events', () => {
  let server: ApiServer;
  const events: APIGatewayProxyEventV2[] = [];
  let reply: unknown;

  beforeAll(async () => {
    const logger = createStackLogger({ level: 'silent' });
    const runtime = new FunctionRuntime({
      projectRoot: '/nonexistent',
      region: 'us-east-1',
      logger,
      handlers: {
        ingress: async (event) => {
          events.push(event as APIGatewayProxyEventV2);
          return reply;
        },
      },
    });
    server = await startApiServer({ runtime, logger, port: 0, routes: ROUTES });
  });
  beforeEach(() => {
    events.length = 0;
    reply = { statusCode: 200, body: '{}' };
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers TLS on the same port (kubectl sends a token only over TLS), and a greedy ANY route takes every method', async () => {
    const logger = createStackLogger({ level: 'silent' });
    const seen: APIGatewayProxyEventV2[] = [];
    const runtime = new FunctionRuntime({
      projectRoot: '/nonexistent',
      region: 'us-east-1',
      logger,
      handlers: {
        api: async (event) => (
          seen.push(event as APIGatewayProxyEventV2),
          { statusCode: 405, body: '{"kind":"Status"}' }
        ),
      },
    });
    const both = await startApiServer({ runtime, logger, port: 0, routes: ROUTES });
    try {
      const answer = await new Promise<{ status: number; body: string; altNames: string }>((resolve, reject) => {
        const url = `${both.tlsUrl}/services/aggregated/clusters/root:default/apis/apps/v1/namespaces/a/deployments/web`;
        const req = httpsRequest(
          url,
          { method: 'DELETE', rejectUnauthorized: false, agent: false, headers: { Authorization: 'Bearer t' } },
          (res) => {
            const altNames = String((res.socket as TLSSocket).getPeerCertificate().subjectaltname);
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body, altNames }));
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(both.tlsUrl).toBe(both.url.replace('http:', 'https:'));
      expect(answer).toEqual({
        status: 405,
        body: '{"kind":"Status"}',
        altNames: expect.stringContaining('IP Address:127.0.0.1'),
      });
      expect(seen[0]).toMatchObject({
        routeKey: 'ANY /services/aggregated/{proxy+}',
        pathParameters: { proxy: 'clusters/root:default/apis/apps/v1/namespaces/a/deployments/web' },
        requestContext: { http: { method: 'DELETE' } },
        headers: expect.objectContaining({ authorization: 'Bearer t' }),
      });
      // Plain http on the same port still works.
      expect((await fetch(`${both.url}/services/aggregated/clusters/root:default/api`)).status).toBe(405);
    } finally {
      await both.close();
    }
  });

  it('maps path parameters, lower-cased headers, query and a JSON body', async () => {
    reply = { statusCode: 202, headers: { 'X-Tmc': 'yes' }, body: '{"ok":true}' };
    const res = await fetch(`${server.url}/webhooks/status/east?timeout=10s&a=1&a=2`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer t', 'X-Custom': 'v' },
      body: '{"kind":"AdmissionReview"}',
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-tmc')).toBe('yes');
    expect(await res.json()).toEqual({ ok: true });
    const event = events[0];
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /webhooks/status/{cluster}',
      rawPath: '/webhooks/status/east',
      rawQueryString: 'timeout=10s&a=1&a=2',
      queryStringParameters: { timeout: '10s', a: '1,2' },
      pathParameters: { cluster: 'east' },
      isBase64Encoded: false,
      body: '{"kind":"AdmissionReview"}',
    });
    expect(event.headers).toMatchObject({
      'content-type': 'application/json',
      authorization: 'Bearer t',
      'x-custom': 'v',
    });
    expect(event.requestContext.http).toMatchObject({
      method: 'POST',
      path: '/webhooks/status/east',
      sourceIp: expect.any(String),
    });
    expect(event.requestContext.requestId).toEqual(expect.any(String));
    expect(event.requestContext.timeEpoch).toBeGreaterThan(0);
  });

  it('base64-encodes a binary body', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    await fetch(`${server.url}/webhooks/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(events[0].isBase64Encoded).toBe(true);
    expect(Buffer.from(events[0].body ?? '', 'base64')).toEqual(bytes);
  });

  it('answers a result without statusCode as API Gateway does: 200 JSON of the value', async () => {
    reply = { allowed: true };
    const res = await fetch(`${server.url}/webhooks/admission`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ allowed: true });
  });

  it('answers 413 over 10 MiB without invoking the function', async () => {
    const res = await fetch(`${server.url}/webhooks/admission`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(10 * 1024 * 1024 + 1),
    });
    expect(res.status).toBe(413);
    expect(events).toHaveLength(0);
  });

  it('answers 404 for no route and 503 for a function that is not built', async () => {
    expect((await fetch(`${server.url}/nowhere`)).status).toBe(404);
    expect((await fetch(`${server.url}/webhooks/admission`)).status).toBe(404); // GET has no route
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
  });

  it('answers 500 when the function throws', async () => {
    reply = undefined;
    const failing = new FunctionRuntime({
      projectRoot: '/nonexistent',
      region: 'us-east-1',
      logger: createStackLogger({ level: 'silent' }),
      handlers: { ingress: async () => Promise.reject(new Error('boom')) },
    });
    const other = await startApiServer({ runtime: failing, logger: createStackLogger({ level: 'silent' }), port: 0 });
    try {
      const res = await fetch(`${other.url}/webhooks/admission`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ message: 'Internal Server Error' });
    } finally {
      await other.close();
    }
  });
});
