import type { Location, Placement, PlacementSpec } from '../../../lib/api/crds';
import type { KubeObject } from '../../../lib/kube/object';
import type { ClusterInfo } from '../../../lib/placement';
import { configMap as buildConfigMap, deployment as buildDeployment } from '../../support/builders';

export const NOW = Date.parse('2025-01-01T00:00:00Z');

export function cluster(name: string, over: Partial<ClusterInfo> = {}): ClusterInfo {
  return { name, labels: {}, taints: [], unschedulable: false, health: 'Healthy', ...over };
}

export function regional(
  name: string,
  region: string,
  zone = `${region}a`,
  provider = 'aws',
  extra: Partial<ClusterInfo> = {},
): ClusterInfo {
  return cluster(name, {
    labels: {
      'topology.kubernetes.io/region': region,
      'topology.kubernetes.io/zone': zone,
      'tmc.kcp.io/provider': provider,
    },
    ...extra,
  });
}

export function placement(name: string, spec: PlacementSpec = {}): Placement {
  return { apiVersion: 'scheduling.kcp.io/v1alpha1', kind: 'Placement', metadata: { name }, spec };
}

export function location(
  name: string,
  labels: Record<string, string>,
  instanceSelector: Location['spec']['instanceSelector'],
): Location {
  return {
    apiVersion: 'scheduling.kcp.io/v1alpha1',
    kind: 'Location',
    metadata: { name, labels },
    spec: { resource: { group: 'workload.kcp.io', version: 'v1alpha1', resource: 'synctargets' }, instanceSelector },
  };
}

/** A Deployment as placement reads it: stored (uid, resourceVersion) at generation 1 unless told. */
export function deployment(
  name: string,
  opts: {
    namespace?: string;
    replicas?: number;
    cpu?: string;
    memory?: string;
    labels?: Record<string, string>;
    generation?: number;
  } = {},
): KubeObject {
  const { generation, ...rest } = opts;
  return buildDeployment(name, {
    ...rest,
    metadata: { generation: generation ?? 1, uid: `uid-${name}`, resourceVersion: '1' },
  });
}

export function configMap(name: string, namespace = 'default'): KubeObject {
  return buildConfigMap(name, { namespace });
}
