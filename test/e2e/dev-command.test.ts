import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';

/**
 * `npm start` as a user runs it: `tmc dev` in its own process reaches the banner, plain kubectl lists the three
 * simulated clusters as SyncTargets, and Ctrl-C (SIGINT) stops everything, the process exiting 0 on its own.
 */
describe('tmc dev (npm start)', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tmc-dev-'));
  let child: ChildProcess | undefined;
  let stdout = '';
  let stderr = '';

  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('reaches its banner, serves kubectl and stops cleanly on Ctrl-C', async () => {
    child = spawn(process.execPath, ['bin/tmc.mjs', 'dev', '--fresh', '--state-dir', stateDir, '--port', '0', '--no-schedules'], {
      cwd: join(__dirname, '..', '..'),
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'WARN' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));

    await waitFor('the readiness banner', async () => stdout.includes('tmc is running') || (child?.exitCode !== null ? Promise.reject(new Error(stderr)) : false), { timeoutMs: 60_000 });
    expect(stdout).toMatch(/API\s+http:\/\/127\.0\.0\.1:\d+/);
    const kcpKubeconfig = join(stateDir, 'kcp.kubeconfig');
    expect(existsSync(kcpKubeconfig)).toBe(true);
    for (const cluster of ['east', 'west', 'edge']) expect(existsSync(join(stateDir, 'clusters', `${cluster}.kubeconfig`))).toBe(true);

    const out = await kubectlOk(kcpKubeconfig, ['get', 'synctargets', '-o', 'name']);
    expect(out.trim().split('\n').sort()).toEqual(['synctarget.workload.kcp.io/east', 'synctarget.workload.kcp.io/edge', 'synctarget.workload.kcp.io/west']);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 90_000);
});
