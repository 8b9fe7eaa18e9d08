import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import { loadKubeconfig } from '../adapters/kube';

export interface KubeconfigSpec {
  /** Cluster, user and context name: unique per endpoint (client-node caches exec tokens by user name). */
  name: string;
  server: string;
  token?: string;
  namespace?: string;
  /** Default: skipped for an https server (the simulator's self-signed certificates); a deployment's is verified. */
  insecureSkipTlsVerify?: boolean;
}

/** A kubeconfig with one cluster, user and context, as plain kubectl reads it. */
export function renderKubeconfig(spec: KubeconfigSpec): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: spec.name,
        cluster: {
          server: spec.server,
          ...((spec.insecureSkipTlsVerify ?? !spec.server.startsWith('http:'))
            ? { 'insecure-skip-tls-verify': true }
            : {}),
        },
      },
    ],
    users: [{ name: spec.name, user: spec.token === undefined ? {} : { token: spec.token } }],
    contexts: [
      {
        name: spec.name,
        context: { cluster: spec.name, user: spec.name, ...(spec.namespace ? { namespace: spec.namespace } : {}) },
      },
    ],
    'current-context': spec.name,
    preferences: {},
  });
}

export function writeKubeconfig(path: string, spec: KubeconfigSpec): void {
  mkdirSync(dirname(path), { recursive: true });
  // Kubeconfigs hold credentials: readable by the owner only.
  writeFileSync(path, renderKubeconfig(spec), { mode: 0o600 });
}

/** The server URL of a kubeconfig file's current context (validated like every kubeconfig tmc reads). */
export function kubeconfigServer(path: string, name: string): string {
  return loadKubeconfig(readFileSync(path, 'utf8'), { uniqueName: name }).server;
}
