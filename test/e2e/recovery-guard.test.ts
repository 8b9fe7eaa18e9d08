import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { downstreamNamespace } from '../../lib/api/labels';
import type { KubeObject } from '../../lib/kube/object';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

const run = promisify(execFile);
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };

/**
 * The mass-deletion guard on the whole local stack. kcp "briefly lists nothing" (its objects vanish from the
 * simulator's store with no event, as an outage answering empty lists would look): the orphan sweep sees every copy
 * orphaned, deletes none, raises DeletionsHeld on the SyncTarget until `tmc recovery confirm`. A single real orphan is
 * deleted.
 */
describe('recovery: a kcp that briefly lists nothing does not cause deletions', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  const ns = downstreamNamespace('root:default', 'default');
  const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };
  const names = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];

  beforeAll(async () => {
    stack = await startE2eStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  const sweep = async (): Promise<Record<string, number>> => {
    const report = (await stack.invoke('recovery-sweep', scheduled)) as { actions: Record<string, number>; failures: string[] };
    expect(report.failures).toEqual([]);
    await stack.idle();
    return report.actions;
  };
  const copiesOn = async (cluster: string): Promise<string[]> => {
    const list = await kubectlGetJson<{ items: KubeObject[] }>(stack.clusterKubeconfigs[cluster], ['configmaps', '-n', ns, '-l', 'tmc.kcp.io/managed-by=tmc']);
    return (list?.items ?? []).map((o) => o.metadata.name ?? '').sort();
  };
  const heldCondition = async (cluster: string): Promise<string | undefined> => {
    const st = await kubectlGetJson(stack.kcpKubeconfig, ['synctarget', cluster]);
    return st?.status?.conditions?.find((c: { type: string }) => c.type === 'DeletionsHeld')?.status;
  };

  it('holds the deletions of an empty kcp, and deletes one real orphan', async () => {
    const sim = stack.simulation;
    if (!sim) throw new Error('The e2e stack runs the simulator');
    const manifest = names.map((n) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${n}, namespace: default }\ndata: { k: ${n} }\n`).join('---\n');
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], manifest);
    const cluster = await waitFor('six copies on one cluster', async () => {
      for (const c of Object.keys(stack.clusterKubeconfigs)) if ((await copiesOn(c)).length === names.length) return c;
      return undefined;
    });
    await stack.idle();
    expect(await sweep()).toEqual({});

    // The outage: kcp answers with nothing. No copy is deleted; the hold is raised and shown on the SyncTarget.
    const kcp = sim.kcp.store('root:default');
    const saved = kcp.list(CONFIGMAPS, 'default').filter((o) => names.includes(o.metadata.name ?? ''));
    for (const o of saved) kcp.delete(CONFIGMAPS, 'default', o.metadata.name ?? '');
    const clusterWrites = sim.clusters[cluster].requests.count({ writes: true });
    const held = await sweep();
    expect(held['deletion-hold:held']).toBe(1);
    expect(await copiesOn(cluster)).toEqual(names);
    expect(await heldCondition(cluster)).toBe('True');

    // kcp lists again: still nothing deleted, and the hold waits for a person.
    for (const o of saved) kcp.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: o.metadata.name, namespace: 'default' }, data: o.data });
    expect((await sweep())['orphan-delete:succeeded']).toBeUndefined();
    expect(sim.clusters[cluster].requests.count({ writes: true })).toBe(clusterWrites);

    const cli = await run('node', ['bin/tmc.mjs', 'recovery', 'confirm', `cluster:${cluster}`, '--by', 'e2e', '--dynamodb-endpoint', stack.endpoints.dynamodb, '--table', stack.tableName]);
    expect(cli.stdout).toContain(`Confirmed the held deletions in cluster:${cluster}`);
    await sweep();
    expect(await heldCondition(cluster)).toBe('False');

    // One object really gone from kcp (below the guard's threshold): its copy is an orphan and is deleted.
    kcp.delete(CONFIGMAPS, 'default', 'c6');
    expect((await sweep())['orphan-delete:succeeded']).toBe(1);
    expect(await copiesOn(cluster)).toEqual(names.slice(0, 5));
  });
});
