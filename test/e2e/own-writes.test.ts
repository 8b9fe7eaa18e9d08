import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { LambdaHandler } from '../../lib/local/container-pool';
import { ENV } from '../../lib/runtime/resources';
import { DEFAULT_TMC_USER } from '../../lib/webhooks';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';
import { deployment } from '../support/builders';

/**
 * Issue 9: tmc's own writes to kcp (placement's state labels, the status reporter's per-cluster annotations, finalizer
 * removal) do not come back to tmc through the workloads admission webhook: kcp skips it for tmc's username
 * (matchConditions). Counted where it costs, at ingress (in the cloud each call is an API Gateway request and a Lambda
 * invocation), and in the simulated kcp's request log, which names the user of every request.
 */
/**
 * A merge patch of a default-namespace Deployment with a kubeconfig's bearer token, as tmc's client sends it (kubectl
 * sends no token to an http:// server, and the simulator serves http).
 */
async function patchAs(kubeconfig: string, name: string, patch: unknown): Promise<void> {
  const config = parse(readFileSync(kubeconfig, 'utf8')) as {
    clusters: Array<{ cluster: { server: string } }>;
    users: Array<{ user: { token: string } }>;
  };
  const response = await fetch(
    `${config.clusters[0].cluster.server}/apis/apps/v1/namespaces/default/deployments/${name}`,
    {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${config.users[0].user.token}`,
        'content-type': 'application/merge-patch+json',
      },
      body: JSON.stringify(patch),
    },
  );
  expect(response.status).toBe(200);
}

describe("tmc's own writes to kcp skip tmc's admission webhook", () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  // The admission calls ingress answered, by the object they were about (`<OPERATION> <kind>/<name> <user>`).
  const admissions: string[] = [];
  const admissionsOf = (name: string): string[] => admissions.filter((a) => a.includes(`/${name} `));

  const deploymentJson = (name: string): string => JSON.stringify(deployment(name, { container: 'c' }));

  beforeAll(async () => {
    const { handler: ingress } = (await import('../../functions/ingress/handler')) as { handler: LambdaHandler };
    stack = await startE2eStack({
      handlers: {
        ingress: async (event, context) => {
          const { rawPath, body } = event as { rawPath?: string; body?: string };
          if (rawPath?.startsWith('/webhooks/admission/') && body) {
            const { request } = JSON.parse(body) as {
              request: { operation: string; kind: { kind: string }; name: string; userInfo: { username: string } };
            };
            admissions.push(`${request.operation} ${request.kind.kind}/${request.name} ${request.userInfo.username}`);
          }
          return ingress(event, context);
        },
      },
    });
    await stack.idle();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('a Deployment created, placed, synced and reported calls the webhook once, for the user’s create', async () => {
    const kcpLog = stack.simulation!.kcp.requests;
    const tmcWritesBefore = kcpLog.count({
      writes: true,
      user: DEFAULT_TMC_USER,
      resource: 'deployments',
      name: 'solo',
    });
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], deploymentJson('solo'));
    await waitFor('solo reported from its clusters', async () => {
      const annotations =
        (await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'solo', '-n', 'default']))?.metadata?.annotations ??
        {};
      return Object.keys(annotations).some((key) => key.startsWith('experimental.status.workload.kcp.io/'));
    });
    await stack.idle();
    // tmc did write the Deployment in kcp (its state labels and status annotations), as its own user…
    expect(
      kcpLog.count({ writes: true, user: DEFAULT_TMC_USER, resource: 'deployments', name: 'solo' }) - tmcWritesBefore,
    ).toBeGreaterThanOrEqual(2);
    // …and none of those writes reached ingress: only the user's CREATE did.
    expect(admissionsOf('solo')).toEqual(['CREATE Deployment/solo system:anonymous']);
  });

  it('an update by tmc’s identity is not sent to ingress; the same update by a user is', async () => {
    const tmcKubeconfig = stack.env[ENV.kcpKubeconfig];
    expect(tmcKubeconfig).not.toBe(stack.kcpKubeconfig);
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], deploymentJson('both'));
    await stack.idle();
    admissions.splice(0);

    await patchAs(tmcKubeconfig, 'both', { metadata: { annotations: { 'tmc.kcp.io/probe': '1' } } });
    expect(admissionsOf('both')).toEqual([]);
    await kubectlOk(stack.kcpKubeconfig, [
      'annotate',
      'deployment',
      'both',
      '-n',
      'default',
      'team.example.com/owner=web',
    ]);
    // A patch that meets a concurrent status write is retried by the API server, which runs admission again (as
    // kube-apiserver's GuaranteedUpdate does): every call is the user's, none is tmc's own.
    const usersOnly = (): void => {
      expect(admissionsOf('both').length).toBeGreaterThanOrEqual(1);
      expect(new Set(admissionsOf('both'))).toEqual(new Set(['UPDATE Deployment/both system:anonymous']));
    };
    usersOnly();
    await stack.idle();
    usersOnly();
  });

  it('deleting still reaches tmc, and tmc’s finalizer removal does not', async () => {
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], deploymentJson('gone'));
    await stack.idle();
    admissions.splice(0);
    await kubectlOk(stack.kcpKubeconfig, ['delete', 'deployment', 'gone', '-n', 'default', '--wait=false']);
    await waitFor(
      'gone deleted from kcp',
      async () => (await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'gone', '-n', 'default'])) === undefined,
    );
    await stack.idle();
    expect(admissionsOf('gone')).toEqual(['DELETE Deployment/gone system:anonymous']);
  });
});
