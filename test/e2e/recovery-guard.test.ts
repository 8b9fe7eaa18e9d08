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
    // A real orphan is confirmed by a sweep at least this long after the first: short here, 50 s by default. Not
    // shorter: the orphan step and the lost-admission pass's vanished check (lib/recovery/vanished.ts) of one sweep
    // share the absence ledger, and on a loaded machine they run seconds apart; within this delay the second one only
    // notes the absence too, so the copy is the orphan sweep's to delete and not placement's.
    process.env.TMC_RECOVERY_ABSENT_CONFIRM_SECONDS = '10';
    stack = await startE2eStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
    delete process.env.TMC_RECOVERY_ABSENT_CONFIRM_SECONDS;
  });

  /**
   * A liveness limit, never a measure of speed: CI's loaded machine runs 2–3× slower than a quiet one. The longest wait
   * is the stack's idle after the sweep that deletes the orphan: it asks placement, whose removal of a vanished object
   * waits removalConfirmSeconds (15 s) in a delayed message.
   */
  const LIVENESS_MS = 90_000;
  type SweepReport = { actions: Record<string, number>; failures: string[] };
  const invokeSweep = async (): Promise<SweepReport> =>
    (await stack.invoke('recovery-sweep', scheduled)) as SweepReport;
  const sweep = async (): Promise<Record<string, number>> => {
    const report = await invokeSweep();
    expect(report.failures).toEqual([]);
    await stack.idle({ timeoutMs: LIVENESS_MS });
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
    const holding: Array<Record<string, number>> = [];
    await waitFor(
      'the sweep holding the deletions',
      async () => {
        holding.push(await sweep());
        return holding.at(-1)?.['deletion-hold:held'] === 1 ? true : undefined;
      },
      { timeoutMs: LIVENESS_MS, history: () => holding },
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
    // Each report is kept as its sweep returns, before anything can fail: the sweep that deletes the orphan is the only
    // one that can say so (a later one finds nothing to delete), so none runs after it and a failed wait for the stack
    // to go idle after it (placement's 15 s) is waited for again instead of losing its report.
    kcp.delete(CONFIGMAPS, 'default', 'c6');
    const deletedAt = Date.now();
    const reports: Array<SweepReport & { secondsAfterDelete: number }> = [];
    const deleted = (): boolean => reports.some((r) => r.actions['orphan-delete:succeeded'] === 1);
    await waitFor(
      'the confirmed orphan deleted by a later sweep',
      async () => {
        if (!deleted()) {
          const report = await invokeSweep();
          reports.push({ ...report, secondsAfterDelete: Math.round((Date.now() - deletedAt) / 1000) });
          expect(report.failures).toEqual([]);
        }
        await stack.idle({ timeoutMs: LIVENESS_MS });
        return deleted() ? true : undefined;
      },
      { timeoutMs: LIVENESS_MS, history: () => reports },
    );
    expect(reports.at(-1)?.failures).toEqual([]);
    const seen = reports.map((r) => r.actions);
    expect(seen.filter((a) => a['orphan-delete:waiting'] === 1).length).toBeGreaterThanOrEqual(1); // noted first, not deleted
    expect(seen.slice(0, -1).every((a) => a['orphan-delete:succeeded'] === undefined)).toBe(true);
    expect(await copiesOn(cluster)).toEqual(names.slice(0, 5));
  }, 300_000);
});
