import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevProcess, type DevProcess } from '../support/dev-process';
import { kubectlOk } from '../support/kubectl';

/**
 * `npm start` as a user runs it: `tmc dev` in its own process reaches the banner, plain kubectl lists the three
 * simulated clusters as SyncTargets, READY already, and Ctrl-C (SIGINT) stops everything, the process exiting 0 on its own.
 */
describe('tmc dev (npm start)', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tmc-dev-'));
  let dev: DevProcess | undefined;

  afterAll(() => {
    if (dev && dev.child.exitCode === null) dev.child.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('reaches its banner, serves kubectl and stops cleanly on Ctrl-C', async () => {
    // The schedules at their own rates, as `npm start` runs them: health-probe's is a minute.
    dev = await startDevProcess(['--fresh', '--state-dir', stateDir, '--port', '0']);
    expect(dev.output().stdout).toMatch(/API\s+http:\/\/127\.0\.0\.1:\d+/);
    const kcpKubeconfig = join(stateDir, 'kcp.kubeconfig');
    for (const cluster of ['east', 'west', 'edge'])
      expect(existsSync(join(stateDir, 'clusters', `${cluster}.kubeconfig`))).toBe(true);

    const out = await kubectlOk(kcpKubeconfig, ['get', 'synctargets', '-o', 'name']);
    expect(out.trim().split('\n').sort()).toEqual([
      'synctarget.workload.kcp.io/east',
      'synctarget.workload.kcp.io/edge',
      'synctarget.workload.kcp.io/west',
    ]);

    // READY is filled when the banner shows, not after the probe's first minute.
    const ready = await kubectlOk(kcpKubeconfig, [
      'get',
      'synctargets',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}',
    ]);
    expect(ready.trim().split(' ').sort()).toEqual(['east=True', 'edge=True', 'west=True']);

    expect(await dev.interrupt()).toBe(0);
  }, 90_000);
});
