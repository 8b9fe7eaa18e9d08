import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSimulation, type Simulation } from '../../lib/sim';
import { kubectlOk } from '../support/kubectl';

const run = promisify(execFile);

/**
 * `tmc webhooks install|uninstall` as an operator runs it against a kcp and a cluster it reaches by kubeconfig:
 * the configurations appear, a second install changes nothing, uninstall removes them.
 */
describe('tmc webhooks install / uninstall', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tmc-webhooks-'));
  let sim: Simulation;
  let kcp: string;
  let east: string;

  beforeAll(async () => {
    sim = await startSimulation({ kcp: { workspaces: ['root:org:ws'] }, clusters: [{ name: 'east' }], kubeconfigDir: dir });
    kcp = sim.kubeconfigs?.kcp ?? '';
    east = sim.kubeconfigs?.clusters.east ?? '';
  });
  afterAll(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const tmc = async (...args: string[]): Promise<string> =>
    (await run(process.execPath, ['bin/tmc.mjs', 'webhooks', ...args], { cwd: join(__dirname, '..', '..'), timeout: 60_000 })).stdout;
  const registered = async (kubeconfig: string): Promise<string[]> =>
    (await kubectlOk(kubeconfig, ['get', 'mutatingwebhookconfigurations,validatingwebhookconfigurations', '-o', 'name'])).trim().split('\n').filter(Boolean).sort();

  it('registers, is idempotent, and removes', async () => {
    const common = ['--kubeconfig', kcp, '--workspace', 'root:org:ws', '--cluster', `east=${east}`];
    const out = await tmc('install', ...common, '--url', 'https://tmc.example.com', '--token', 'a-token-of-32-characters-or-more-xx');
    expect(out).toMatch(/tmc-workloads/);
    const inKcp = await registered(kcp);
    expect(inKcp).toEqual(['mutatingwebhookconfiguration.admissionregistration.k8s.io/tmc-workloads', 'validatingwebhookconfiguration.admissionregistration.k8s.io/tmc-apis']);
    expect(await registered(east)).toEqual(['validatingwebhookconfiguration.admissionregistration.k8s.io/tmc-status']);
    const url = await kubectlOk(kcp, ['get', 'mutatingwebhookconfiguration', 'tmc-workloads', '-o', 'jsonpath={.webhooks[0].clientConfig.url}']);
    expect(url).toBe('https://tmc.example.com/webhooks/admission/root%3Aorg%3Aws');

    const rv = await kubectlOk(kcp, ['get', 'mutatingwebhookconfiguration', 'tmc-workloads', '-o', 'jsonpath={.metadata.resourceVersion}']);
    const y1 = await kubectlOk(kcp, ['get', 'mutatingwebhookconfiguration', 'tmc-workloads', '-o', 'yaml', '--show-managed-fields']);
    await tmc('install', ...common, '--url', 'https://tmc.example.com', '--token', 'a-token-of-32-characters-or-more-xx');
    const y2 = await kubectlOk(kcp, ['get', 'mutatingwebhookconfiguration', 'tmc-workloads', '-o', 'yaml', '--show-managed-fields']);
    expect(y2).toBe(y1);
    expect(await kubectlOk(kcp, ['get', 'mutatingwebhookconfiguration', 'tmc-workloads', '-o', 'jsonpath={.metadata.resourceVersion}'])).toBe(rv);

    await tmc('uninstall', ...common);
    expect(await registered(kcp)).toEqual([]);
    expect(await registered(east)).toEqual([]);
  }, 120_000);
});
