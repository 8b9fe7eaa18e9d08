import type { Context, SQSEvent } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { handler as statusUpHandler } from '../../functions/status-up/handler';
import { DEFAULT_CLUSTERS } from '../../lib/local/clusters';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

/**
 * Issue 16: a managed cluster (EKS, GKE, AKS) cannot give its API server a bearer token for webhooks. The simulated
 * `east` here sends none; its status webhook URL carries its own credential, and status still reaches kcp without
 * the backstop (schedules are off). A call with a wrong or no credential is refused and enqueues nothing.
 */
describe('a managed cluster in push mode', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  const statusMessages: string[] = [];

  beforeAll(async () => {
    stack = await startE2eStack({
      clusters: [{ ...DEFAULT_CLUSTERS[0], managed: true }],
      handlers: {
        'status-up': async (event: unknown, context: Context) => {
          for (const record of (event as SQSEvent).Records ?? []) statusMessages.push(record.body);
          return statusUpHandler(event as SQSEvent, context);
        },
      },
    });
    await kubectlOk(
      stack.kcpKubeconfig,
      ['apply', '-f', '-'],
      [
        'apiVersion: v1',
        'kind: Namespace',
        'metadata: { name: apps, labels: { team: apps } }',
        '---',
        'apiVersion: scheduling.kcp.io/v1alpha1',
        'kind: Placement',
        'metadata: { name: apps-east }',
        'spec:',
        '  namespaceSelector: { matchLabels: { team: apps } }',
        '  clusterConstraints: { regions: [us-east-1] }',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('writes a status webhook whose URL carries the cluster credential, and sends no bearer token from the cluster', async () => {
    const config = await kubectlGetJson(stack.clusterKubeconfigs.east, [
      'validatingwebhookconfiguration',
      'tmc-status',
    ]);
    const url: string = config?.webhooks?.[0]?.clientConfig?.url ?? '';
    expect(url).toMatch(new RegExp(`^${stack.apiUrl}/webhooks/status/east/[A-Za-z0-9_-]{43}$`));
  });

  it('brings a Deployment status back to kcp through the status webhook alone', async () => {
    await kubectlOk(
      stack.kcpKubeconfig,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: 'apps' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] },
          },
        },
      }),
    );
    const ready = await waitFor('the Deployment ready in kcp', async () => {
      const d = await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'web', '-n', 'apps']);
      return d?.status?.readyReplicas === 2 ? d : undefined;
    });
    expect(ready.status.readyReplicas).toBe(2);
    expect(statusMessages.length).toBeGreaterThan(0);
  });

  const review = readFileSync(join(__dirname, '../../events/ingress/status-update-deployment.json'), 'utf8');
  it.each([
    ['a wrong credential', '/webhooks/status/east/not-the-credential'],
    ['no credential and no token', '/webhooks/status/east'],
    ['an empty credential segment', '/webhooks/status/east/%20'],
  ])('answers a status call with %s by 401 and enqueues nothing', async (_case, path) => {
    await stack.idle();
    const before = statusMessages.length;
    const response = await fetch(`${stack.apiUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: review,
    });
    expect(response.status).toBe(401);
    await stack.idle();
    expect(statusMessages.length).toBe(before);
  });
});
