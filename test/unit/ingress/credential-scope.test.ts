import { clusterSecretName, secretOutsideWorkspace } from '../../../lib/api/cluster-credentials';
import type { PlacementMessage } from '../../../lib/api/messages';
import { createIngress } from '../../../lib/ingress/ingress';
import { makeDeps, RecordingQueue, request } from './fakes';

const arn = (name: string): string => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`;

function syncTargetReview(credentials: Record<string, unknown>): unknown {
  const object = {
    apiVersion: 'workload.kcp.io/v1alpha1',
    kind: 'SyncTarget',
    metadata: { name: 'east' },
    spec: { workloadCluster: { name: 'east', endpoint: 'https://east.example:6443', credentials } },
  };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u-1',
      kind: { group: 'workload.kcp.io', version: 'v1alpha1', kind: 'SyncTarget' },
      resource: { group: 'workload.kcp.io', version: 'v1alpha1', resource: 'synctargets' },
      name: 'east',
      operation: 'CREATE',
      object,
    },
  };
}

async function admit(workspace: string, credentials: Record<string, unknown>) {
  const placement = new RecordingQueue<PlacementMessage>('placement');
  const ingress = createIngress(makeDeps({ placementQueue: placement }));
  const response = await ingress.handle(request('admission', syncTargetReview(credentials), { query: { workspace } }));
  const review = JSON.parse(response.body) as {
    response: { allowed: boolean; status?: { code: number; message: string } };
  };
  return { statusCode: response.statusCode, review: review.response, placement };
}

describe('SyncTarget credentials at admission', () => {
  it("denies a SyncTarget in root:b naming root:a's credentials secret, with a message saying which are allowed", async () => {
    const { statusCode, review, placement } = await admit('root:b', {
      secretsManagerArn: arn('tmc/prod/clusters/root.a/east'),
    });
    expect(statusCode).toBe(200);
    expect(review.allowed).toBe(false);
    expect(review.status?.code).toBe(403);
    expect(review.status?.message).toBe(
      "spec.workloadCluster.credentials.secretsManagerArn: secret tmc/prod/clusters/root.a/east-AbCdEf is not one of this workspace's cluster credentials (it belongs to workspace root:a): a SyncTarget in root:b may use only secrets named tmc/<stage>/clusters/root.b/<name>",
    );
    expect(placement.sent).toHaveLength(0);
  });

  it('allows the same SyncTarget in root:a, and enqueues it', async () => {
    const { review, placement } = await admit('root:a', { secretsManagerArn: arn('tmc/prod/clusters/root.a/east') });
    expect(review.allowed).toBe(true);
    expect(placement.sent.map((m) => m.ref.name)).toEqual(['east']);
  });

  it('allows a secretRef: it is read through the SyncTarget’s own workspace', async () => {
    const { review } = await admit('root:b', { secretRef: { namespace: 'tmc-system', name: 'east-kubeconfig' } });
    expect(review.allowed).toBe(true);
  });
});

describe('secretOutsideWorkspace', () => {
  it.each([
    [clusterSecretName('prod', 'root:org:team', 'east'), 'root:org:team', true],
    [arn(clusterSecretName('prod', 'root:org:team', 'east')), 'root:org:team', true],
    [arn('tmc/prod/clusters/root.org.team/east'), 'root:org', false],
    [arn('tmc/prod/clusters/root.org/team/east'), 'root:org:team', false],
    ['tmc/prod/clusters/root.org/', 'root:org', false],
    [arn('tmc/prod/clusters/east'), 'root', false],
    [arn('tmc/prod/kcp-kubeconfig'), 'root', false],
    [arn('x/tmc/prod/clusters/root/east'), 'root', false],
  ])('%s for %s: allowed %s', (secret, workspace, allowed) => {
    expect(secretOutsideWorkspace(secret, workspace) === undefined).toBe(allowed);
  });
});
