import { existsSync, readFileSync } from 'node:fs';
import { loadKubeconfig } from '../../adapters/kube/kubeconfig';
import type { ObjectRef } from '../../api/object-ref';

/** Kinds tmc places or mirrors that have no namespace; every other kind gets one, as kubectl gives it. */
export const CLUSTER_SCOPED: ReadonlySet<string> = new Set([
  'namespaces',
  'synctargets',
  'locations',
  'placements',
  'customresourcedefinitions',
  'clusterroles',
  'clusterrolebindings',
  'storageclasses',
  'ingressclasses',
  'persistentvolumes',
  'validatingwebhookconfigurations',
  'mutatingwebhookconfigurations',
  'priorityclasses',
  'apiservices',
]);

/**
 * The namespace a namespaced `tmc` command means when `-n` is not given, as kubectl decides it: the kubeconfig's
 * current context's namespace, then `default`. A missing kubeconfig file is not an error: tmc reads its own state.
 */
export function defaultNamespace(kubeconfigPath: string): string {
  if (!existsSync(kubeconfigPath)) return 'default';
  const { config } = loadKubeconfig(readFileSync(kubeconfigPath, 'utf8'), { uniqueName: 'tmc-cli' });
  return config.getContextObject(config.getCurrentContext())?.namespace ?? 'default';
}

/** `ref` with its namespace filled in when `-n` was not given and the kind is namespaced. */
export function withDefaultNamespace<T extends Pick<ObjectRef, 'resource' | 'namespace'>>(
  ref: T,
  flag: string | undefined,
  kubeconfigPath: string,
): T {
  if (flag !== undefined || CLUSTER_SCOPED.has(ref.resource)) return ref;
  return { ...ref, namespace: defaultNamespace(kubeconfigPath) };
}
