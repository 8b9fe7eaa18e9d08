import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSimulation, type Simulation } from '../../lib/sim';
import { kubectlOk } from '../support/kubectl';
import { MANAGED_BY_LABEL, SYNC_FINALIZER } from '../../lib/api/labels';
import * as build from '../support/builders';

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
    sim = await startSimulation({
      kcp: { workspaces: ['root:org:ws'] },
      clusters: [{ name: 'east' }],
      kubeconfigDir: dir,
    });
    kcp = sim.kubeconfigs?.kcp ?? '';
    east = sim.kubeconfigs?.clusters.east ?? '';
  });
  afterAll(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const tmcCli = async (...args: string[]): Promise<string> =>
    (await run(process.execPath, ['bin/tmc.mjs', ...args], { cwd: join(__dirname, '..', '..'), timeout: 60_000 }))
      .stdout;
  const tmc = (...args: string[]): Promise<string> => tmcCli('webhooks', ...args);
  const registered = async (kubeconfig: string): Promise<string[]> =>
    (
      await kubectlOk(kubeconfig, [
        'get',
        'mutatingwebhookconfigurations,validatingwebhookconfigurations',
        '-o',
        'name',
      ])
    )
      .trim()
      .split('\n')
      .filter(Boolean)
      .sort();

  it('registers, is idempotent, and removes', async () => {
    const common = ['--kubeconfig', kcp, '--workspace', 'root:org:ws', '--cluster', `east=${east}`];
    const out = await tmc(
      'install',
      ...common,
      '--url',
      'https://tmc.example.com',
      '--token',
      'a-token-of-32-characters-or-more-xx',
    );
    expect(out).toMatch(/tmc-workloads/);
    const inKcp = await registered(kcp);
    expect(inKcp).toEqual([
      'mutatingwebhookconfiguration.admissionregistration.k8s.io/tmc-workloads',
      'validatingwebhookconfiguration.admissionregistration.k8s.io/tmc-apis',
    ]);
    expect(await registered(east)).toEqual(['validatingwebhookconfiguration.admissionregistration.k8s.io/tmc-status']);
    const url = await kubectlOk(kcp, [
      'get',
      'mutatingwebhookconfiguration',
      'tmc-workloads',
      '-o',
      'jsonpath={.webhooks[0].clientConfig.url}',
    ]);
    expect(url).toBe('https://tmc.example.com/webhooks/admission/root%3Aorg%3Aws');

    const rv = await kubectlOk(kcp, [
      'get',
      'mutatingwebhookconfiguration',
      'tmc-workloads',
      '-o',
      'jsonpath={.metadata.resourceVersion}',
    ]);
    const y1 = await kubectlOk(kcp, [
      'get',
      'mutatingwebhookconfiguration',
      'tmc-workloads',
      '-o',
      'yaml',
      '--show-managed-fields',
    ]);
    await tmc(
      'install',
      ...common,
      '--url',
      'https://tmc.example.com',
      '--token',
      'a-token-of-32-characters-or-more-xx',
    );
    const y2 = await kubectlOk(kcp, [
      'get',
      'mutatingwebhookconfiguration',
      'tmc-workloads',
      '-o',
      'yaml',
      '--show-managed-fields',
    ]);
    expect(y2).toBe(y1);
    expect(
      await kubectlOk(kcp, [
        'get',
        'mutatingwebhookconfiguration',
        'tmc-workloads',
        '-o',
        'jsonpath={.metadata.resourceVersion}',
      ]),
    ).toBe(rv);

    await tmc('uninstall', ...common);
    expect(await registered(kcp)).toEqual([]);
    expect(await registered(east)).toEqual([]);
  }, 120_000);

  it('install --ca-bundle writes the CA into every webhook; --admission-kubeconfig writes the token file, owner-only', async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
    writeFileSync(join(dir, 'ca.pem'), pem);
    const admission = join(dir, 'admission.kubeconfig');
    const common = ['--kubeconfig', kcp, '--workspace', 'root:org:ws', '--cluster', `east=${east}`];
    await tmc(
      'install',
      ...common,
      '--url',
      'https://tmc.internal.example',
      '--token',
      'a-token-of-32-characters-or-more-xx',
      '--ca-bundle',
      join(dir, 'ca.pem'),
      '--admission-kubeconfig',
      admission,
    );
    const encoded = Buffer.from(pem).toString('base64');
    expect(
      await kubectlOk(kcp, [
        'get',
        'mutatingwebhookconfiguration',
        'tmc-workloads',
        '-o',
        'jsonpath={.webhooks[*].clientConfig.caBundle}',
      ]),
    ).toBe(encoded);
    expect(
      await kubectlOk(east, [
        'get',
        'validatingwebhookconfiguration',
        'tmc-status',
        '-o',
        'jsonpath={.webhooks[*].clientConfig.caBundle}',
      ]),
    ).toBe(encoded);
    expect(readFileSync(admission, 'utf8')).toContain('token: a-token-of-32-characters-or-more-xx');
    expect(readFileSync(admission, 'utf8')).toContain('name: tmc.internal.example');
    expect(statSync(admission).mode & 0o777).toBe(0o600);
    await tmc('uninstall', ...common);
  }, 120_000);

  it('tmc uninstall: webhooks and finalizers leave kcp, workloads keep running on the cluster unless --purge', async () => {
    const common = ['--kubeconfig', kcp, '--workspace', 'root:org:ws', '--cluster', `east=${east}`];
    await tmc(
      'install',
      ...common,
      '--url',
      'https://tmc.example.com',
      '--token',
      'a-token-of-32-characters-or-more-xx',
    );
    const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
    sim.kcp.store('root:org:ws').create(
      DEPLOYMENTS,
      build.deployment('web', {
        namespace: 'default',
        labels: { 'state.workload.kcp.io/east': 'Sync', app: 'web' },
        metadata: { finalizers: [SYNC_FINALIZER, 'example.com/keep'] },
      }),
    );
    sim.clusters.east
      .store()
      .create(
        { group: '', version: 'v1', resource: 'namespaces' },
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kcp-abc' } },
      );
    sim.clusters.east
      .store()
      .create(DEPLOYMENTS, build.deployment('web', { namespace: 'kcp-abc', labels: { [MANAGED_BY_LABEL]: 'tmc' } }));
    sim.clusters.east.store().create(DEPLOYMENTS, build.deployment('theirs', { namespace: 'kcp-abc' }));

    // Nobody to ask (no terminal) and no --yes: nothing changes.
    await expect(tmcCli('uninstall', ...common)).rejects.toMatchObject({ stderr: expect.stringContaining('--yes') });
    expect(await registered(kcp)).toHaveLength(2);

    const out = await tmcCli('uninstall', ...common, '--yes');
    expect(out).toContain('kcp objects released (tmc finalizer and placement labels removed): 1');
    expect(out).toContain('east: left 1 object(s) tmc applied running');
    expect(await registered(kcp)).toEqual([]);
    expect(await registered(east)).toEqual([]);
    const web = sim.kcp.store('root:org:ws').get(DEPLOYMENTS, 'default', 'web');
    expect(web?.metadata.finalizers).toEqual(['example.com/keep']);
    expect(web?.metadata.labels).toEqual({ app: 'web' });
    expect(sim.clusters.east.store().get(DEPLOYMENTS, 'kcp-abc', 'web')).toBeDefined();

    // Again, with --purge: idempotent for kcp, and what tmc applied (only that) is deleted.
    const purged = await tmcCli('uninstall', ...common, '--yes', '--purge');
    expect(purged).toContain('kcp objects released (tmc finalizer and placement labels removed): 0');
    expect(purged).toContain('east: deleted 1 object(s) tmc applied');
    expect(sim.clusters.east.store().get(DEPLOYMENTS, 'kcp-abc', 'web')).toBeUndefined();
    expect(sim.clusters.east.store().get(DEPLOYMENTS, 'kcp-abc', 'theirs')).toBeDefined();
  }, 180_000);
});
