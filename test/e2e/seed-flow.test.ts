import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { objPk } from '../../lib/adapters/dynamodb/keys';
import { DELETED_RECORD_TTL_SECONDS } from '../../lib/adapters/dynamodb/table';
import { downstreamNamespace, stateLabel, SYNC_FINALIZER } from '../../lib/api/labels';
import { objectKey, type ObjectRef } from '../../lib/api/object-ref';
import { deleteExpiredItems } from '../../lib/local/expiry-sweep';
import { makeDynamoDocumentClient } from '../../lib/runtime/aws';
import { TABLE } from '../../lib/runtime/resources';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

const run = promisify(execFile);

/**
 * The seed README's flow on the whole local stack, driven by the real kubectl: register clusters, apply a Deployment
 * to kcp, it runs on a cluster, readiness flows back, delete removes it everywhere.
 */
describe('seed flow: kubectl → kcp → webhook → queue → placement → sync → cluster → status back', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  const ns = downstreamNamespace('root:default', 'default');

  beforeAll(async () => {
    stack = await startE2eStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  async function clustersRunning(name: string): Promise<string[]> {
    const found: string[] = [];
    for (const [cluster, kubeconfig] of Object.entries(stack.clusterKubeconfigs)) {
      if (await kubectlGetJson(kubeconfig, ['deployment', name, '-n', ns])) found.push(cluster);
    }
    return found;
  }

  it('lists the registered clusters as SyncTargets', async () => {
    const out = await kubectlOk(stack.kcpKubeconfig, ['get', 'synctargets', '-o', 'name']);
    expect(out.trim().split('\n').sort()).toEqual([
      'synctarget.workload.kcp.io/east',
      'synctarget.workload.kcp.io/edge',
      'synctarget.workload.kcp.io/west',
    ]);
  });

  it('places, applies, reports readiness and deletes the nginx Deployment', async () => {
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', 'examples/basic-setup/nginx.yaml']);

    const clusters = await waitFor('nginx on a cluster', async () => {
      const c = await clustersRunning('nginx');
      return c.length > 0 ? c : undefined;
    });
    expect(clusters).toHaveLength(1); // no Placement: one healthy cluster per namespace

    const upstream = await waitFor('readyReplicas 2 in kcp', async () => {
      const d = await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'nginx', '-n', 'default']);
      return d?.status?.readyReplicas === 2 ? d : undefined;
    });
    expect(upstream.metadata.labels[stateLabel('root:default', clusters[0])]).toBe('Sync');
    expect(upstream.metadata.finalizers).toContain(SYNC_FINALIZER);

    // Why it runs there, from the running stack's state with no flags but its state dir.
    const explained = await run(process.execPath, [
      'bin/tmc.mjs',
      'placement',
      'explain',
      'deployment/nginx',
      '-n',
      'default',
      '--state-dir',
      stack.paths.root,
    ]);
    expect(explained.stdout).toContain(clusters[0]);
    expect(explained.stdout).toMatch(/Scheduled/);

    const downstream = await kubectlGetJson(stack.clusterKubeconfigs[clusters[0]], ['deployment', 'nginx', '-n', ns]);
    expect(downstream?.spec.replicas).toBe(2);
    expect(downstream?.spec.template.spec.containers[0].image).toBe('nginx:1.27');

    // Every function on the path reported its invocations to component health.
    const health = await fetch(`${stack.apiUrl}/health`, {
      headers: { authorization: `Bearer ${stack.webhookToken}` },
    });
    const report = z
      .object({ components: z.array(z.object({ name: z.string(), state: z.string() })) })
      .parse(await health.json());
    const states = Object.fromEntries(report.components.map((c) => [c.name, c.state]));
    expect([states.ingress, states.placement, states['sync-apply'], states['status-up']]).toEqual([
      'Healthy',
      'Healthy',
      'Healthy',
      'Healthy',
    ]);

    await kubectlOk(stack.kcpKubeconfig, ['delete', 'deployment', 'nginx', '-n', 'default', '--wait=false']);
    await waitFor(
      'nginx gone from kcp',
      async () => (await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'nginx', '-n', 'default'])) === undefined,
    );
    expect(await clustersRunning('nginx')).toEqual([]);

    // Every record the deleted object left in the table expires, its cluster's status included, and the local
    // expiry sweep (DynamoDB's TTL in the cloud) removes them all once their time is up.
    const ref: ObjectRef = {
      workspace: 'root:default',
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
      kind: 'Deployment',
      namespace: 'default',
      name: 'nginx',
    };
    const doc = makeDynamoDocumentClient({ region: stack.env.AWS_REGION, dynamodbEndpoint: stack.endpoints.dynamodb });
    try {
      const partition = async (pk: string): Promise<Array<Record<string, unknown>>> =>
        (
          await doc.send(
            new QueryCommand({
              TableName: stack.tableName,
              KeyConditionExpression: '#pk = :pk',
              ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
              ExpressionAttributeValues: { ':pk': pk },
              ConsistentRead: true,
            }),
          )
        ).Items ?? [];
      const objectItems = await partition(objPk(ref));
      expect(objectItems.map((item) => item[TABLE.sortKey])).toEqual([
        'DECISION',
        `STATUS#${clusters[0]}`,
        `SYNC#${clusters[0]}`,
      ]);
      // Ingress's dedup record, where it keeps one for the kind.
      const left = [...objectItems, ...(await partition(`SEEN#${objectKey(ref)}`))];
      for (const item of left) expect(item).toHaveProperty(TABLE.ttlAttribute);
      await deleteExpiredItems(doc, stack.tableName, Date.now() + (DELETED_RECORD_TTL_SECONDS + 60) * 1000);
      expect([...(await partition(objPk(ref))), ...(await partition(`SEEN#${objectKey(ref)}`))]).toEqual([]);
    } finally {
      doc.destroy();
    }
  });
});
