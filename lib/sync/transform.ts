import {
  CLUSTER_KEY_LABEL,
  STATUS_ANNOTATION_PREFIXES,
  GENERATION_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  SOURCE_ANNOTATION,
  SOURCE_UID_LABEL,
  STATE_LABEL_PREFIX,
  WORKSPACE_ANNOTATION,
  clusterKey,
  downstreamNamespace,
} from '../api/labels';
import { describeRef, type ObjectRef } from '../api/object-ref';
import type { KubeObject } from '../ports/kube-client';
import { ConfigurationError } from '../errors/tmc-error';
import { EXCLUDED_NAMESPACES } from '../ingress/selection';
import { isSecretObject, keyedHash, stableHash } from '../kube/canonical-hash';
import { cloneJson } from '../kube/clone-json';
import { applyOverrides, type ClusterOverride, type SkippedPatch } from './overrides';
import { isJsonObject, type JsonObject } from './pod-spec';

/** What one cluster should receive, besides the object itself: from the placement decision. */
export interface ClusterPlacement {
  /** SyncTarget name. */
  cluster: string;
  /** This cluster's replica share; absent when placement duplicates (every cluster runs spec.replicas). */
  replicas?: number;
  overrides?: readonly ClusterOverride[];
  /** The Placement whose overrides these are, for messages about them. */
  placement?: string;
}

/** Server-owned metadata: the cluster assigns its own, and carrying kcp's would be rejected or misleading. */
const STRIPPED_METADATA = [
  'uid',
  'resourceVersion',
  'managedFields',
  'creationTimestamp',
  'generation',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'finalizers',
  'selfLink',
  'generateName',
  // ownerReferences name kcp uids: downstream, the garbage collector would delete an object whose owner it cannot find.
  'ownerReferences',
];

const STRIPPED_ANNOTATIONS = ['kcp.io/cluster', 'kubectl.kubernetes.io/last-applied-configuration'];
const STRIPPED_ANNOTATION_PREFIXES = STATUS_ANNOTATION_PREFIXES;
const STRIPPED_LABEL_PREFIXES = [STATE_LABEL_PREFIX];

/** Labels the Job controller writes into selector and template; the cluster's controller writes its own. */
const JOB_CONTROLLER_LABELS = ['controller-uid', 'job-name'];
const JOB_CONTROLLER_LABEL_PREFIX = 'batch.kubernetes.io/';

function filterRecord(
  record: Record<string, string> | undefined,
  drop: (key: string) => boolean,
): Record<string, string> | undefined {
  if (!record) return undefined;
  const kept = Object.entries(record).filter(([k]) => !drop(k));
  return kept.length ? Object.fromEntries(kept) : undefined;
}

function isJobControllerLabel(key: string): boolean {
  return JOB_CONTROLLER_LABELS.includes(key) || key.startsWith(JOB_CONTROLLER_LABEL_PREFIX);
}

function stripService(spec: JsonObject): void {
  // clusterIP "None" makes a headless Service: that is the user's intent, not an allocation, so it stays.
  if (spec.clusterIP !== 'None') delete spec.clusterIP;
  if (!(Array.isArray(spec.clusterIPs) && spec.clusterIPs[0] === 'None')) delete spec.clusterIPs;
  delete spec.healthCheckNodePort;
}

function stripJob(spec: JsonObject): void {
  // Unless the user chose manualSelector, the selector was generated from kcp's controller-uid: the cluster's API
  // server rejects a Job whose selector it did not generate, so both selector and template labels go.
  if (spec.manualSelector !== true) delete spec.selector;
  const template = spec.template;
  if (isJsonObject(template) && isJsonObject(template.metadata) && isJsonObject(template.metadata.labels)) {
    const labels = filterRecord(template.metadata.labels as Record<string, string>, isJobControllerLabel);
    if (labels) template.metadata.labels = labels;
    else delete template.metadata.labels;
  }
}

function stripKindSpecific(object: KubeObject): void {
  const spec = object.spec;
  if (!isJsonObject(spec)) return;
  switch (object.kind) {
    case 'Service':
      stripService(spec);
      break;
    case 'Job':
      stripJob(spec);
      break;
    case 'PersistentVolumeClaim':
      delete spec.volumeName; // binds to a PersistentVolume of kcp's, which the cluster does not have
      break;
    case 'Pod':
      delete spec.nodeName;
      break;
  }
  if (object.kind === 'ServiceAccount') delete object.secrets; // token Secrets are per cluster
}

/** Namespaces every cluster has for itself: a reference to one names the cluster's own, never a mapped one. */
const CLUSTER_OWN_NAMESPACES = new Set(EXCLUDED_NAMESPACES);

/** Rewrites `holder[key]` from a kcp namespace name to the downstream name tmc gives it on every cluster. */
function mapNamespaceField(holder: unknown, key: string, workspace: string): void {
  if (!isJsonObject(holder)) return;
  const ns = holder[key];
  if (typeof ns === 'string' && ns !== '' && !CLUSTER_OWN_NAMESPACES.has(ns))
    holder[key] = downstreamNamespace(workspace, ns);
}

/**
 * Namespace names inside an object (a binding's ServiceAccount subjects, the Service a webhook or APIService calls)
 * name kcp namespaces; downstream they are the mapped namespaces, as the object's own namespace is.
 */
function mapNamespaceReferences(object: KubeObject, workspace: string): void {
  switch (object.kind) {
    case 'ClusterRoleBinding':
    case 'RoleBinding':
      if (Array.isArray(object.subjects))
        for (const subject of object.subjects)
          if (isJsonObject(subject) && subject.kind === 'ServiceAccount')
            mapNamespaceField(subject, 'namespace', workspace);
      break;
    case 'MutatingWebhookConfiguration':
    case 'ValidatingWebhookConfiguration':
      if (Array.isArray(object.webhooks))
        for (const hook of object.webhooks)
          if (isJsonObject(hook) && isJsonObject(hook.clientConfig))
            mapNamespaceField(hook.clientConfig.service, 'namespace', workspace);
      break;
    case 'APIService':
      if (isJsonObject(object.spec)) mapNamespaceField(object.spec.service, 'namespace', workspace);
      break;
  }
}

/**
 * The object as `placement.cluster` should hold it. Pure and deterministic (no clocks, no randomness), so its hash is
 * the identity of the desired state: the same kcp object and decision always give the same downstream object.
 */
export function toDownstream(
  source: KubeObject,
  ref: ObjectRef,
  placement: ClusterPlacement,
  onSkipped?: SkippedPatch,
): KubeObject {
  const describe = describeRef(ref);
  // Copied without what is dropped anyway (status, server-owned metadata such as managedFields).
  const { status: _status, ...desired } = source;
  const kept = { ...source.metadata };
  for (const key of STRIPPED_METADATA) delete kept[key];
  const object: KubeObject = cloneJson({ ...desired, metadata: kept });
  const metadata = object.metadata;

  const sourceUid = ref.uid ?? source.metadata.uid ?? '';
  const labels = filterRecord(metadata.labels, (k) => STRIPPED_LABEL_PREFIXES.some((p) => k.startsWith(p))) ?? {};
  const annotations =
    filterRecord(
      metadata.annotations,
      (k) => STRIPPED_ANNOTATIONS.includes(k) || STRIPPED_ANNOTATION_PREFIXES.some((p) => k.startsWith(p)),
    ) ?? {};
  metadata.labels = labels;
  metadata.annotations = annotations;
  metadata.name = ref.name;
  if (ref.namespace) metadata.namespace = downstreamNamespace(ref.workspace, ref.namespace);
  else delete metadata.namespace;

  stripKindSpecific(object);
  mapNamespaceReferences(object, ref.workspace);

  let result = object;
  if (placement.replicas !== undefined && isJsonObject(result.spec) && typeof result.spec.replicas === 'number') {
    result.spec.replicas = placement.replicas;
  }
  if (placement.overrides?.length) result = applyOverrides(result, placement.overrides, describe, onSkipped);

  // Ownership goes last so no override can remove or forge it.
  result.metadata.labels = {
    ...(result.metadata.labels ?? {}),
    [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
    [CLUSTER_KEY_LABEL]: clusterKey(ref.workspace, placement.cluster),
    [SOURCE_UID_LABEL]: sourceUid,
  };
  const sourceName = {
    group: ref.group,
    version: ref.version,
    resource: ref.resource,
    kind: ref.kind,
    namespace: ref.namespace,
    name: ref.name,
  };
  result.metadata.annotations = {
    ...(result.metadata.annotations ?? {}),
    [WORKSPACE_ANNOTATION]: ref.workspace,
    [SOURCE_ANNOTATION]: JSON.stringify(sourceName),
    ...(typeof source.metadata.generation === 'number'
      ? { [GENERATION_ANNOTATION]: String(source.metadata.generation) }
      : {}),
  };
  return result;
}

/**
 * The hash recorded as applied. Status is never part of the desired state, whatever the caller passes. A Secret is
 * hashed with the content key (`contentKeyFor`), so its stored hash cannot confirm a guessed value.
 */
export function downstreamHash(object: KubeObject, secretKey: Uint8Array | undefined): string {
  const { status: _status, ...rest } = object;
  if (!isSecretObject(object)) return stableHash(rest);
  if (!secretKey) throw new ConfigurationError('A Secret is hashed only with the content key, and none was given');
  return keyedHash(rest, secretKey);
}

export type Ownership = 'absent' | 'owned' | 'unmanaged' | 'foreign';

/**
 * Whose a downstream object is. tmc overwrites or deletes only `owned` (or `absent`) objects: `unmanaged` has no
 * ownership labels, `foreign` was written by tmc for another kcp object (another source uid).
 */
export function ownershipOf(existing: KubeObject | undefined, sourceUid: string): Ownership {
  if (!existing) return 'absent';
  const labels = existing.metadata.labels ?? {};
  if (labels[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) return 'unmanaged';
  if (sourceUid && labels[SOURCE_UID_LABEL] && labels[SOURCE_UID_LABEL] !== sourceUid) return 'foreign';
  return 'owned';
}
