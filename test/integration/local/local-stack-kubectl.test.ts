import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createStackLogger } from '../../../lib/local/log';
import { startLocalStack, type LocalStack } from '../../../lib/local/stack';

const run = promisify(execFile);

// The whole local stack on the simulator: what `npm start` promises a user, checked with the real kubectl.
describe('startLocalStack on the simulator', () => {
  let dir: string;
  let stack: LocalStack;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tmc-stack-sim-'));
    stack = await startLocalStack({
      stateDir: dir,
      port: 0,
      schedules: false,
      pollWaitSeconds: 1,
      logger: createStackLogger({ level: 'silent' }),
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the kcp and cluster kubeconfigs into the state dir', () => {
    expect(stack.kcpKubeconfig).toBe(join(dir, 'kcp.kubeconfig'));
    for (const name of ['east', 'west', 'edge'])
      expect(existsSync(join(dir, 'clusters', `${name}.kubeconfig`))).toBe(true);
  });

  it('registers every cluster as a SyncTarget that plain kubectl lists', async () => {
    const { stdout } = await run('kubectl', [
      '--kubeconfig',
      join(dir, 'kcp.kubeconfig'),
      'get',
      'synctargets',
      '-o',
      'name',
    ]);
    expect(stdout.trim().split('\n').sort()).toEqual([
      'synctarget.workload.kcp.io/east',
      'synctarget.workload.kcp.io/edge',
      'synctarget.workload.kcp.io/west',
    ]);
    const { stdout: labels } = await run('kubectl', [
      '--kubeconfig',
      join(dir, 'kcp.kubeconfig'),
      'get',
      'synctarget',
      'east',
      '-o',
      'jsonpath={.metadata.labels.region}',
    ]);
    expect(labels).toBe('us-east-1');
  });

  it('serves each simulated cluster through its own kubeconfig', async () => {
    const { stdout } = await run('kubectl', [
      '--kubeconfig',
      join(dir, 'clusters', 'west.kubeconfig'),
      'get',
      'namespaces',
      '-o',
      'name',
    ]);
    expect(stdout).toContain('namespace/default');
  });
});
