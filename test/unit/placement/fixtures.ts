import type { Location, Placement, PlacementSpec } from '../../../lib/api/crds';
import type { KubeObject } from '../../../lib/kube/object';
import type { ClusterInfo } from '../../../lib/placement';

export const NOW = Date.parse('2025-01-01T00:00:00Z');

export function cluster(name: string, over: Partial<ClusterInfo> = {}): ClusterInfo {
  return { name, labels: {}, taints: [], unschedulable: false, health: 'Healthy', ...over };
}

export function regional(name: string, region: string, zone = `${region}a`, provider = 'aws', extra: Partial<ClusterInfo> = {}): ClusterInfo {
  return cluster(name, { labels: { 'topology.kubernetes.io/region': region, 'topology.kubernetes.io/zone': zone, 'tmc.kcp.io/provider': provider }, ...extra });
}

export function placement(name: string, spec: PlacementSpec = {}): Placement {
  return { apiVersion: 'scheduling.kcp.io/v1alpha1', kind: 'Placement', metadata: { name }, spec };
}

export function location(name: string, labels: Record<string, string>, instanceSelector: Location['spec']['instanceSelector']): Location {
  return { apiVersion: 'scheduling.kcp.io/v1alpha1', kind: 'Location', metadata: { name, labels }, spec: { resource: { group: 'workload.kcp.io', version: 'v1alpha1', resource: 'synctargets' }, instanceSelector } };
}

export function deployment(name: string, opts: { namespace?: string; replicas?: number; cpu?: string; memory?: string; labels?: Record<string, string>; generation?: number } = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: opts.namespace ?? 'default', labels: opts.labels, generation: opts.generation ?? 1, uid: `uid-${name}`, resourceVersion: '1' },
    spec: {
      replicas: opts.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'nginx:1.27', resources: { requests: { ...(opts.cpu ? { cpu: opts.cpu } : {}), ...(opts.memory ? { memory: opts.memory } : {}) } } }] },
      },
    },
  };
}

export function configMap(name: string, namespace = 'default'): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { a: 'b' } };
}
