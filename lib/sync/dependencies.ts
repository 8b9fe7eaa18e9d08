import type { KubeObject } from '../ports/kube-client';
import { containersOf, isJsonObject, podSpecOf, type JsonObject } from './pod-spec';

/** A core/v1 object in the same namespace that a pod template needs on the cluster before the workload starts. */
export interface DependencyRef {
  resource: 'configmaps' | 'secrets' | 'serviceaccounts' | 'persistentvolumeclaims';
  kind: 'ConfigMap' | 'Secret' | 'ServiceAccount' | 'PersistentVolumeClaim';
  name: string;
}

const KINDS = {
  configmaps: 'ConfigMap',
  secrets: 'Secret',
  serviceaccounts: 'ServiceAccount',
  persistentvolumeclaims: 'PersistentVolumeClaim',
} as const;

/** Upper bound on dependencies synced inline for one workload: keeps one message's work (and Lambda time) bounded. */
export const MAX_INLINE_DEPENDENCIES = 16;

function name(value: unknown, key: string): string | undefined {
  if (!isJsonObject(value)) return undefined;
  const n = value[key];
  return typeof n === 'string' && n.length > 0 ? n : undefined;
}

function list(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.filter(isJsonObject) : [];
}

/**
 * What `object`'s pod template references by name, de-duplicated, in a stable order (ServiceAccount, ConfigMaps,
 * Secrets, PVCs). `optional: true` references are included: syncing them when they exist is harmless, and the
 * caller skips what kcp does not have. The `default` ServiceAccount is every namespace's own and is never synced.
 */
export function podTemplateReferences(object: KubeObject): DependencyRef[] {
  const podSpec = podSpecOf(object);
  if (!podSpec) return [];
  const found = new Map<string, DependencyRef>();
  const add = (resource: DependencyRef['resource'], n: string | undefined): void => {
    if (n) found.set(`${resource}/${n}`, { resource, kind: KINDS[resource], name: n });
  };

  const serviceAccount = name(podSpec, 'serviceAccountName') ?? name(podSpec, 'serviceAccount');
  if (serviceAccount !== 'default') add('serviceaccounts', serviceAccount);

  for (const volume of list(podSpec.volumes)) {
    add('configmaps', name(volume.configMap, 'name'));
    add('secrets', name(volume.secret, 'secretName'));
    add('persistentvolumeclaims', name(volume.persistentVolumeClaim, 'claimName'));
    const projected = isJsonObject(volume.projected) ? list(volume.projected.sources) : [];
    for (const source of projected) {
      add('configmaps', name(source.configMap, 'name'));
      add('secrets', name(source.secret, 'name'));
    }
  }
  for (const container of containersOf(podSpec)) {
    for (const env of list(container.env)) {
      const from = isJsonObject(env.valueFrom) ? env.valueFrom : undefined;
      add('configmaps', name(from?.configMapKeyRef, 'name'));
      add('secrets', name(from?.secretKeyRef, 'name'));
    }
    for (const envFrom of list(container.envFrom)) {
      add('configmaps', name(envFrom.configMapRef, 'name'));
      add('secrets', name(envFrom.secretRef, 'name'));
    }
  }
  for (const pullSecret of list(podSpec.imagePullSecrets)) add('secrets', name(pullSecret, 'name'));

  const order: DependencyRef['resource'][] = ['serviceaccounts', 'configmaps', 'secrets', 'persistentvolumeclaims'];
  return [...found.values()].sort(
    (a, b) => order.indexOf(a.resource) - order.indexOf(b.resource) || a.name.localeCompare(b.name),
  );
}
