import { loadEvent } from '../../support/events';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { makeApiHandler, type MetricsRenderer } from '../../../lib/api-http/api-router';
import { StaticTokenSource } from '../../../lib/auth/token-source';
import { WebhookAuthenticator } from '../../../lib/auth/webhook-authenticator';
import { observeCluster } from '../../../lib/health/rules';
import { InMemoryHealthStore } from '../../../lib/ports/health-store';

function event(name: string): APIGatewayProxyEventV2 {
  return loadEvent<APIGatewayProxyEventV2>('api', name);
}

describe('api handler', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const authenticator = new WebhookAuthenticator(new StaticTokenSource(['local-test-token']));

  async function handlerWith(
    options: { metricsRenderer?: MetricsRenderer } = {},
  ): Promise<ReturnType<typeof makeApiHandler>> {
    const store = new InMemoryHealthStore();
    await store.putCluster(
      observeCluster(undefined, 'east', {
        at: new Date(now - 30_000).toISOString(),
        ok: true,
        latencyMs: 12,
        source: 'probe',
      }),
      0,
    );
    await store.recordInvocation('health-probe', { ok: true, at: now - 30_000 });
    return makeApiHandler({ store, authenticator, now: () => now, ...options });
  }

  it('answers /healthz without a token and without I/O', async () => {
    const handler = makeApiHandler({
      store: { getCluster: () => Promise.reject(new Error('no I/O')) } as never,
      authenticator: { authenticate: () => Promise.reject(new Error('no auth')) },
    });
    expect(await handler(event('healthz.json'))).toMatchObject({ statusCode: 200, body: 'ok' });
  });

  it('refuses /health without a token (401) and with a wrong one', async () => {
    const handler = await handlerWith();
    expect(await handler(event('health-unauthenticated.json'))).toMatchObject({ statusCode: 401 });
    const wrong = event('health.json');
    wrong.headers.authorization = 'Bearer nope';
    expect(await handler(wrong)).toMatchObject({ statusCode: 401 });
  });

  it('serves the aggregate with components and clusters', async () => {
    const res = await (await handlerWith())(event('health.json'));
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(res.body ?? '{}');
    expect(body).toMatchObject({ state: 'Healthy', reason: 'AllHealthy' });
    expect(body.clusters).toEqual([expect.objectContaining({ name: 'east', state: 'Healthy', latencyMs: 12 })]);
    expect(body.components).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'health-probe', state: 'Healthy' }),
        expect.objectContaining({ name: 'placement', state: 'Unknown' }),
      ]),
    );
  });

  it('serves one cluster with history, and 404 naming an unknown one', async () => {
    const handler = await handlerWith();
    const res = await handler(event('health-cluster.json'));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body ?? '{}')).toMatchObject({
      name: 'east',
      state: 'Healthy',
      history: [expect.objectContaining({ ok: true })],
    });
    const missing = event('health-cluster.json');
    missing.rawPath = '/health/clusters/west';
    missing.pathParameters = { name: 'west' };
    const notFound = await handler(missing);
    expect(notFound.statusCode).toBe(404);
    expect(notFound.body).toContain('west');
  });

  it('answers /metrics with 503 until a renderer is configured, then with its text', async () => {
    const unconfigured = await (await handlerWith())(event('metrics.json'));
    expect(unconfigured.statusCode).toBe(503);
    expect(unconfigured.body).toContain('not configured');
    const renderer: MetricsRenderer = {
      render: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'tmc_up 1\n' }),
    };
    expect(await (await handlerWith({ metricsRenderer: renderer }))(event('metrics.json'))).toMatchObject({
      statusCode: 200,
      body: 'tmc_up 1\n',
    });
  });
});
