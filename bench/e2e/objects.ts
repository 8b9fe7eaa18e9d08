import type { KubeObject } from '../../lib/kube/object';

/** The benchmark's objects: N Deployments, each reading its own ConfigMap, in one namespace. */

export const NS = 'bench';
export const REVISION_ANNOTATION = 'bench.tmc.kcp.io/revision';
export const name = (i: number): string => `bench-${String(i).padStart(6, '0')}`;

/** Object i's ConfigMap; `objectName` for objects named otherwise (the churn phase's). */
export function configMap(i: number, objectName = name(i)): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: objectName, namespace: NS },
    data: { INDEX: String(i), GREETING: 'hello from tmc bench' },
  };
}

/** Object i's Deployment, reading its ConfigMap (envFrom). */
export function deployment(i: number, objectName = name(i)): KubeObject {
  const labels = { app: objectName };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: objectName, namespace: NS, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: { [REVISION_ANNOTATION]: '1' } },
        spec: { containers: [{ name: 'app', image: 'nginx:1.27', envFrom: [{ configMapRef: { name: objectName } }] }] },
      },
    },
  };
}
