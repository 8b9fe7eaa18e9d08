import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

/**
 * A kubeconfig for one endpoint. Names are unique per endpoint (`kcp-root-default`, `cluster-east`) because
 * client-node caches credentials by user name: clusters must never share one.
 */
export function kubeconfigFor(name: string, server: string, token: string): string {
  const id = name.replace(/[^a-zA-Z0-9-]/g, '-');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: id, cluster: { server } }],
    users: [{ name: id, user: { token } }],
    contexts: [{ name: id, context: { cluster: id, user: id } }],
    'current-context': id,
    preferences: {},
  });
}

export function writeKubeconfigFile(file: string, name: string, server: string, token: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, kubeconfigFor(name, server, token), { mode: 0o600 });
}
