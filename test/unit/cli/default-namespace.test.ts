import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultNamespace, withDefaultNamespace } from '../../../lib/cli/commands/default-namespace';

const dir = mkdtempSync(join(tmpdir(), 'tmc-ns-'));
function kubeconfig(namespace?: string): string {
  const file = join(dir, `kc-${namespace ?? 'none'}`);
  const context = namespace ? `{ cluster: kcp, user: u, namespace: ${namespace} }` : '{ cluster: kcp, user: u }';
  writeFileSync(
    file,
    `clusters: [{ name: kcp, cluster: { server: "http://127.0.0.1:1/clusters/root:default" } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: c, context: ${context} }]
current-context: c
`,
  );
  return file;
}

describe('the namespace a tmc command means without -n (as kubectl decides it)', () => {
  it.each([
    ['the kubeconfig context has one', kubeconfig('team-a'), 'team-a'],
    ['the context has none', kubeconfig(), 'default'],
    ['there is no kubeconfig file', join(dir, 'missing'), 'default'],
  ])('%s', (_case, file, expected) => {
    expect(defaultNamespace(file)).toBe(expected);
  });

  it.each([
    ['namespaced kind, no -n', { resource: 'deployments', namespace: undefined }, undefined, 'team-a'],
    ['-n given', { resource: 'deployments', namespace: 'prod' }, 'prod', 'prod'],
    ['cluster-scoped kind', { resource: 'clusterroles', namespace: undefined }, undefined, undefined],
  ])('%s', (_case, ref, flag, expected) => {
    expect(withDefaultNamespace(ref, flag, kubeconfig('team-a')).namespace).toBe(expected);
  });
});
