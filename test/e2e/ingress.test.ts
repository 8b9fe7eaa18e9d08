import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import type { LambdaHandler } from '../../lib/local/container-pool';
import { kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

const BodySchema = z.object({ ref: z.object({ kind: z.string(), name: z.string() }), reason: z.string() });

/**
 * Issue 3's ingress checks on the whole local stack: one kubectl apply is one placement message; a request without
 * the token, or with a body that is not an AdmissionReview, is refused and enqueues nothing.
 */
describe('webhook ingress on the local stack', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  // Every placement message the placement function receives, by SQS message id (a deferred message comes back with
  // the same id, so distinct ids count the messages ingress enqueued).
  const received = new Map<string, { kind: string; name: string; reason: string }>();

  beforeAll(async () => {
    const { handler: placement } = (await import('../../functions/placement/handler')) as { handler: LambdaHandler };
    stack = await startE2eStack({
      handlers: {
        placement: async (event, context) => {
          for (const record of (event as SQSEvent).Records) {
            const body = BodySchema.parse(JSON.parse(record.body));
            received.set(record.messageId, { ...body.ref, reason: body.reason });
          }
          return placement(event, context);
        },
      },
    });
    await stack.idle();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  const messagesFor = (name: string): Array<{ kind: string; name: string; reason: string }> =>
    [...received.values()].filter((m) => m.name === name);

  it('turns one kubectl apply of a Deployment into exactly one placement message', async () => {
    const manifest = JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'once', namespace: 'default' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'once' } },
        template: { metadata: { labels: { app: 'once' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } },
      },
    });
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], manifest);
    await waitFor('the placement message', async () => messagesFor('once').length > 0);
    await stack.idle();
    // Placement's own writes back to kcp (the state label) come through admission again but are not new versions.
    expect(messagesFor('once')).toEqual([{ kind: 'Deployment', name: 'once', reason: 'admission' }]);
  });

  it.each([
    ['no token', undefined, JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }), 401],
    [
      'a wrong token',
      'not-the-token',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }),
      401,
    ],
    ['a body that is not JSON', 'TOKEN', '{"apiVersion":', 400],
    [
      'an AdmissionReview without a request',
      'TOKEN',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }),
      400,
    ],
  ])('answers a request with %s by %d and enqueues nothing', async (_case, token, body, status) => {
    const before = received.size;
    const response = await fetch(`${stack.apiUrl}/webhooks/admission/${encodeURIComponent('root:default')}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token === 'TOKEN' ? stack.webhookToken : token}` } : {}),
      },
      body,
    });
    expect(response.status).toBe(status);
    const answer = z.object({ message: z.string().min(1) }).safeParse(await response.json());
    expect(answer.success).toBe(true);
    await stack.idle();
    expect(received.size).toBe(before);
  });

  // Issue 14: each of these was accepted and queued, and tmc then called kcp outside /clusters/<workspace>.
  const review = readFileSync(join(__dirname, '../../events/ingress/admission-create-deployment.json'), 'utf8');
  const deep = (depth: number): string =>
    review.replace('"spec": {', `"spec": {"deep": ${'{"a":'.repeat(depth)}1${'}'.repeat(depth)},`);
  const events = readFileSync(join(__dirname, '../../events/ingress/events-batch.json'), 'utf8');
  const badEvents = events.replace('"workspace": "root:default"', '"workspace": "../../x"');
  it('the bodies below carry their change', () => {
    expect(deep(3).length).toBeGreaterThan(review.length);
    expect(badEvents).toContain('"../../x"');
  });
  it.each([
    ['a workspace ..%2F..%2Fhealth in the URL', '/webhooks/admission/..%2F..%2Fhealth', review],
    ['a workspace root:default%2F..%2F..%2Fapi in the URL', '/webhooks/admission/root:default%2F..%2F..%2Fapi', review],
    ['an event whose workspace is ../../x', '/webhooks/events', badEvents],
    ['a body nested 100,000 deep', '/webhooks/admission/root:default', deep(100_000)],
  ])('answers %s by 400 over HTTP and enqueues nothing', async (_case, path, body) => {
    const before = received.size;
    const response = await fetch(`${stack.apiUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.webhookToken}` },
      body,
    });
    expect(response.status).toBe(400);
    await stack.idle();
    expect(received.size).toBe(before);
  });
});
