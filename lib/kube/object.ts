/**
 * The shape of a Kubernetes object as tmc handles it: any kind, any CRD. Production code, the simulator and the
 * tests share these types; outside data is parsed with lib/api's schemas before it becomes one.
 */

export interface GroupVersionResource {
  group: string; // '' for the core group
  version: string;
  resource: string; // plural, lower case
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: Array<Record<string, unknown>>;
  managedFields?: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}
