/**
 * Patch merge keys of the built-in types (the `x-kubernetes-patch-merge-key` / list-map keys kube-apiserver knows from
 * its Go types). Lists under these field names merge item by item; every other list is replaced whole. Written by
 * hand because no JavaScript library carries Kubernetes' strategic-merge metadata.
 */
const BY_FIELD: Record<string, string | ((item: Record<string, unknown>) => string)> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  ownerReferences: 'uid',
  conditions: 'type',
  // Container ports merge by containerPort, Service ports by port.
  ports: (item) => ('containerPort' in item ? 'containerPort' : 'port'),
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
};

/** Lists of scalars that merge as sets rather than being replaced. */
export const SET_LISTS = new Set(['finalizers']);

export function mergeKeyFor(field: string, sample: unknown): string | undefined {
  const k = BY_FIELD[field];
  if (!k) return undefined;
  if (typeof k === 'string') return k;
  return sample && typeof sample === 'object' ? k(sample as Record<string, unknown>) : undefined;
}
