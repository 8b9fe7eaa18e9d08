import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { kubectl, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

const run = promisify(execFile);

/**
 * The user's aggregated view through the real kubectl: `tmc vw kubeconfig` writes the kubeconfig, `kubectl get -A`
 * shows a row per copy with its cluster and the status the cluster reported, `-l tmc.kcp.io/cluster=…` selects a
 * cluster, `get <name> -o yaml` shows every copy of one object, and writes, watch and a missing token are refused.
 */
describe("the user's aggregated view end to end", () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  let vw: string;

  beforeAll(async () => {
    stack = await startE2eStack();
    const out = await run(process.execPath, ['bin/tmc.mjs', 'vw', 'kubeconfig', '--state-dir', stack.paths.root], {
      cwd: join(__dirname, '..', '..'),
      timeout: 120_000,
    });
    vw = join(stack.paths.root, 'vw.kubeconfig');
    expect(out.stdout).toContain('get deployments -A');
    await kubectlOk(
      stack.kcpKubeconfig,
      ['apply', '-f', '-'],
      [
        'apiVersion: v1',
        'kind: Namespace',
        'metadata: { name: shop, labels: { team: shop } }',
        '---',
        'apiVersion: scheduling.kcp.io/v1alpha1',
        'kind: Placement',
        'metadata: { name: shop-us }',
        'spec:',
        '  namespaceSelector: { matchLabels: { team: shop } }',
        '  clusterConstraints: { regions: [us-east-1, us-west-2] }',
        '',
      ].join('\n'),
    );
    await kubectlOk(stack.kcpKubeconfig, [
      'create',
      'deployment',
      'web',
      '-n',
      'shop',
      '--image=nginx:1.27',
      '--replicas=2',
    ]);
  }, 300_000);
  afterAll(async () => {
    await stack?.cleanup();
  });

  const copies = async (args: string[] = []): Promise<Array<Record<string, any>>> =>
    JSON.parse(await kubectlOk(vw, ['get', 'deployments', '-A', '-o', 'json', ...args])).items;

  it('lists a row per copy with its cluster, the reported status and its age', async () => {
    const ready = await waitFor(
      'both copies of shop/web reported ready',
      async () => {
        const items = await copies();
        const web = items.filter((o) => o.metadata.name === 'web' && o.metadata.namespace === 'shop');
        return web.length === 2 &&
          web.every((o) => o.status?.readyReplicas === 2 && o.metadata.annotations['tmc.kcp.io/status-reported-at'])
          ? web
          : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    expect(ready.map((o) => o.metadata.labels['tmc.kcp.io/cluster']).sort()).toEqual(['east', 'west']);
    expect(
      ready.every((o) => o.spec.replicas === 2 && o.metadata.annotations['tmc.kcp.io/sync-state'] === 'applied'),
    ).toBe(true);

    const table = await kubectlOk(vw, ['get', 'deployments', '-A']);
    const lines = table.trim().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual([
      'NAMESPACE',
      'NAME',
      'CLUSTER',
      'READY',
      'UP-TO-DATE',
      'AVAILABLE',
      'SYNC',
      'REPORTED',
    ]);
    const rows = lines.slice(1).map((l) => l.split(/\s+/));
    expect(rows.filter((r) => r[1] === 'web').map((r) => r.slice(0, 7))).toEqual([
      ['shop', 'web', 'east', '2/2', '2', '2', 'applied'],
      ['shop', 'web', 'west', '2/2', '2', '2', 'applied'],
    ]);
    // REPORTED is an age (`12s`), not a timestamp.
    expect(rows.every((r) => /^\d+[smhd]/.test(r[7]))).toBe(true);
  }, 180_000);

  it('selects copies by cluster with -l, and refuses a selector copies cannot answer', async () => {
    const east = await kubectlOk(vw, ['get', 'deployments', '-A', '-l', 'tmc.kcp.io/cluster=east', '--no-headers']);
    expect(
      east
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[2]),
    ).toEqual(['east']);
    const notEast = await copies(['-l', 'tmc.kcp.io/cluster!=east']);
    expect(notEast.map((o) => o.metadata.labels['tmc.kcp.io/cluster'])).toEqual(['west']);
    const other = await kubectl(vw, ['get', 'deployments', '-A', '-l', 'app=web']);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain('tmc.kcp.io/cluster');
  }, 120_000);

  it('shows every copy of one object with get <name>, in a namespace, as yaml', async () => {
    const yaml = parse(await kubectlOk(vw, ['get', 'deployment', 'web', '-n', 'shop', '-o', 'yaml']));
    expect(yaml.kind).toBe('List');
    expect(yaml.items.map((o: Record<string, any>) => o.metadata.labels['tmc.kcp.io/cluster']).sort()).toEqual([
      'east',
      'west',
    ]);
    const inNamespace = await kubectlOk(vw, ['get', 'deployments', '-n', 'shop', '-o', 'name']);
    expect(inNamespace.trim().split('\n')).toEqual(['deployment.apps/web', 'deployment.apps/web']);
    const missing = await kubectl(vw, ['get', 'deployment', 'nope', '-n', 'shop']);
    expect(missing.stderr).toContain('deployments.apps "nope" not found');
  }, 120_000);

  it('refuses writes and watch with a Status, and changes nothing', async () => {
    const del = await kubectl(vw, ['delete', 'deployment', 'web', '-n', 'shop']);
    expect(del.code).not.toBe(0);
    expect(del.stderr).toMatch(/MethodNotAllowed|read-only/);
    const create = await kubectl(vw, ['create', 'configmap', 'x', '-n', 'shop']);
    expect(create.code).not.toBe(0);
    expect(create.stderr).toContain('read-only');
    expect(await kubectlOk(stack.kcpKubeconfig, ['get', 'deployment', 'web', '-n', 'shop', '-o', 'name'])).toBe(
      'deployment.apps/web\n',
    );
    const watch = await kubectl(vw, ['get', 'deployments', '-A', '--watch', '--request-timeout=20s']);
    expect(watch.code).not.toBe(0);
    expect(watch.stderr).toContain('watch is not served');
  }, 120_000);

  it('answers 401 to a token it does not accept', async () => {
    const config = parse(readFileSync(vw, 'utf8'));
    // A wrong token rather than none: without credentials kubectl would ask for a username on 401.
    config.users[0].user = { token: 'not-the-webhook-token' };
    const anonymous = join(stack.paths.root, 'vw-wrong-token.kubeconfig');
    writeFileSync(anonymous, JSON.stringify(config), { mode: 0o600 });
    const res = await kubectl(anonymous, ['get', 'deployments', '-A'], '');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/Unauthorized|must be logged in/);
  }, 60_000);
});
