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
 * The deletion gate on the whole local stack. kcp "briefly lists nothing" (its objects vanish from the simulator's
 * store with no event, as an outage answering empty lists would look): the orphan sweep sees every copy of the type
 * orphaned, deletes none, raises DeletionsHeld on the SyncTarget, shown by `tmc recovery holds`; once kcp lists them
 * again the hold resolves by itself. A single real orphan is deleted, but only when a later sweep confirms it.
 */
describe('recovery: a kcp that briefly lists nothing does not cause deletions', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  const ns = downstreamNamespace('root:default', 'default');
  const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };
  const names = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];

  beforeAll(async () => {
    // A real orphan is confirmed by a sweep at least this long after the first: short here, 50 s by default.
    process.env.TMC_RECOVERY_ABSENT_CONFIRM_SECONDS = '1';
    stack = await startE2eStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
    delete process.env.TMC_RECOVERY_ABSENT_CONFIRM_SECONDS;
  });

  const sweep = async (): Promise<Record<string, number>> => {
    const report = (await stack.invoke('recovery-sweep', scheduled)) as {
      actions: Record<string, number>;
      failures: string[];
    };
    expect(report.failures).toEqual([]);
    await stack.idle();
    return report.actions;
  };
  const copiesOn = async (cluster: string): Promise<string[]> => {
    const list = await kubectlGetJson<{ items: KubeObject[] }>(stack.clusterKubeconfigs[cluster], [
      'configmaps',
      '-n',
      ns,
      '-l',
      'tmc.kcp.io/managed-by=tmc',
    ]);
    return (list?.items ?? []).map((o) => o.metadata.name ?? '').sort();
  };
  const heldCondition = async (cluster: string): Promise<{ status?: string; reason?: string } | undefined> => {
    const st = await kubectlGetJson(stack.kcpKubeconfig, ['synctarget', cluster]);
    return st?.status?.conditions?.find((c: { type: string }) => c.type === 'DeletionsHeld');
  };
  const tmc = (args: string[]): Promise<{ stdout: string }> =>
    run('node', [
      'bin/tmc.mjs',
      'recovery',
      ...args,
      '--dynamodb-endpoint',
      stack.endpoints.dynamodb,
      '--table',
      stack.tableName,
    ]);

  it('holds the deletions of an empty kcp list, resolves the hold when kcp lists them again, and deletes one confirmed orphan', async () => {
    const sim = stack.simulation;
    if (!sim) throw new Error('The e2e stack runs the simulator');
    const manifest = names
      .map((n) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${n}, namespace: default }\ndata: { k: ${n} }\n`)
      .join('---\n');
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], manifest);
    const cluster = await waitFor('six copies on one cluster', async () => {
      for (const c of Object.keys(stack.clusterKubeconfigs)) if ((await copiesOn(c)).length === names.length) return c;
      return undefined;
    });
    await stack.idle();
    expect(await sweep()).toEqual({});
    const scope = `cluster:${cluster}/root:default/v1/configmaps`;

    // The outage: kcp answers with nothing. No copy is deleted; the hold is raised and shown on the SyncTarget.
    const kcp = sim.kcp.store('root:default');
    const saved = kcp.list(CONFIGMAPS, 'default').filter((o) => names.includes(o.metadata.name ?? ''));
    for (const o of saved) kcp.delete(CONFIGMAPS, 'default', o.metadata.name ?? '');
    const clusterWrites = sim.clusters[cluster].requests.count({ writes: true });
    // Copies tmc wrote within 5 s of a kcp list are not judged by it: sweeps do nothing until the copies are older.
    await waitFor('the sweep holding the deletions', async () =>
      (await sweep())['deletion-hold:held'] === 1 ? true : undefined,
    );
    expect(await copiesOn(cluster)).toEqual(names);
    expect(await heldCondition(cluster)).toMatchObject({ status: 'True', reason: 'MassDeletionSuspected' });
    const listed = await tmc(['holds']);
    expect(listed.stdout).toContain(scope);
    expect(listed.stdout).toContain('6 of 6 objects would be deleted');

    // kcp lists again: nothing to delete in that scope any more, so the hold resolves; still nothing was deleted.
    for (const o of saved)
      kcp.create(CONFIGMAPS, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: o.metadata.name, namespace: 'default' },
        data: o.data,
      });
    expect((await sweep())['orphan-delete:succeeded']).toBeUndefined();
    expect(sim.clusters[cluster].requests.count({ writes: true })).toBe(clusterWrites);
    expect(await heldCondition(cluster)).toMatchObject({ status: 'False', reason: 'Resolved' });
    expect((await tmc(['holds'])).stdout).not.toContain(scope);

    // One object really gone from kcp (below the guard's thresholds): the first sweep only notes its absence; a
    // sweep at least TMC_RECOVERY_ABSENT_CONFIRM_SECONDS later confirms it and deletes the copy.
    kcp.delete(CONFIGMAPS, 'default', 'c6');
    const seen: Array<Record<string, number>> = [];
    await waitFor('the confirmed orphan deleted by a later sweep', async () => {
      seen.push(await sweep());
      return seen.at(-1)?.['orphan-delete:succeeded'] === 1 ? true : undefined;
    });
    expect(seen.filter((a) => a['orphan-delete:waiting'] === 1).length).toBeGreaterThanOrEqual(1); // noted first, not deleted
    expect(seen.slice(0, -1).every((a) => a['orphan-delete:succeeded'] === undefined)).toBe(true);
    expect(await copiesOn(cluster)).toEqual(names.slice(0, 5));
  });
});
