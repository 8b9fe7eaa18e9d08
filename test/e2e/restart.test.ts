import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downstreamNamespace } from '../../lib/api/labels';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startDevProcess } from '../support/dev-process';

/**
 * State survives a restart without --fresh: kcp's objects, the clusters' objects and DynamoDB come back together, so
 * tmc keeps managing what it placed before (a change after the restart reaches the cluster; a delete cleans up).
 */
describe('restarting the local stack', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tmc-restart-'));
  const ns = downstreamNamespace('root:default', 'default');
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  const kcp = join(stateDir, 'kcp.kubeconfig');
  async function runningOn(): Promise<Array<[string, number]>> {
    const found: Array<[string, number]> = [];
    for (const cluster of ['east', 'west', 'edge']) {
      const d = await kubectlGetJson(join(stateDir, 'clusters', `${cluster}.kubeconfig`), [
        'deployment',
        'nginx',
        '-n',
        ns,
      ]);
      if (d) found.push([cluster, d.spec.replicas]);
    }
    return found;
  }

  it('keeps kcp, the clusters and tmc state, and goes on syncing', async () => {
    // Two processes, as a user restarts `npm start`; the API port changes, the state dir stays.
    const args = ['--state-dir', stateDir, '--port', '0', '--no-schedules'];
    const first = await startDevProcess(['--fresh', ...args]);
    let placedOn: string;
    try {
      await kubectlOk(kcp, ['apply', '-f', 'examples/basic-setup/nginx.yaml']);
      // 120 s: a liveness bound for a freshly started `tmc dev` (a second process beside other test files), not a timing.
      await waitFor(
        'nginx ready in kcp',
        async () => (await kubectlGetJson(kcp, ['deployment', 'nginx', '-n', 'default']))?.status?.readyReplicas === 2,
        { timeoutMs: 120_000 },
      );
      const before = await runningOn();
      expect(before).toHaveLength(1);
      placedOn = before[0][0];
    } finally {
      expect(await first.interrupt()).toBe(0);
    }

    const second = await startDevProcess(args);
    try {
      const upstream = await kubectlGetJson(kcp, ['deployment', 'nginx', '-n', 'default']);
      expect(upstream?.status?.readyReplicas).toBe(2);
      expect(await runningOn()).toEqual([[placedOn, 2]]);

      await kubectlOk(kcp, ['scale', 'deployment', 'nginx', '--replicas', '3']);
      await waitFor(
        '3 replicas downstream',
        async () => JSON.stringify(await runningOn()) === JSON.stringify([[placedOn, 3]]),
      );

      await kubectlOk(kcp, ['delete', 'deployment', 'nginx', '--wait=false']);
      await waitFor(
        'nginx gone from kcp',
        async () => (await kubectlGetJson(kcp, ['deployment', 'nginx', '-n', 'default'])) === undefined,
      );
      expect(await runningOn()).toEqual([]);
    } finally {
      expect(await second.interrupt()).toBe(0);
    }
  }, 300_000);
});
