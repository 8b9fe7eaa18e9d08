import type { SQSRecord } from 'aws-lambda';
/**
 * Builders for the Kubernetes objects tests apply, shared by every test folder: a test states only what it cares
 * about, and every other field has one default here.
 */
import type { KubeObject, ObjectMeta } from '../../lib/kube/object';
import type { PlacementMessage } from '../../lib/api/messages';
import type { ObjectRef } from '../../lib/api/object-ref';
import type { StoredDecision } from '../../lib/ports/decision-store';

export interface DeploymentOptions {
  /** Default `default`; `null` leaves it out (kubectl's `-n` or the client decides). */
  namespace?: string | null;
  /** metadata.labels; left out when not given. */
  labels?: Record<string, string>;
  /** Default 1; `null` leaves spec.replicas out. */
  replicas?: number | null;
  /** The pod template's labels; default `{ app: <name> }`. */
  podLabels?: Record<string, string>;
  /** spec.selector.matchLabels; default the pod template's labels. */
  selector?: Record<string, string>;
  podAnnotations?: Record<string, string>;
  /** The one container's name (default `app`) and image (default `nginx:1.27`). */
  container?: string;
  image?: string;
  envFrom?: Array<Record<string, unknown>>;
  /** Further containers after the first, each a name and an image. */
  sidecars?: Array<{ name: string; image: string }>;
  /** CPU and memory requests of the container; no `resources` when neither is given. */
  cpu?: string;
  memory?: string;
  /** Further metadata (uid, generation, resourceVersion, finalizers, annotations), set last. */
  metadata?: Partial<ObjectMeta>;
}

/** An apps/v1 Deployment with one container (and any `sidecars`). */
export function deployment(name: string, opts: DeploymentOptions = {}): KubeObject {
  const podLabels = opts.podLabels ?? { app: name };
  const requests = { ...(opts.cpu ? { cpu: opts.cpu } : {}), ...(opts.memory ? { memory: opts.memory } : {}) };
  const container: Record<string, unknown> = {
    name: opts.container ?? 'app',
    image: opts.image ?? 'nginx:1.27',
    ...(opts.envFrom ? { envFrom: opts.envFrom } : {}),
    ...(Object.keys(requests).length > 0 ? { resources: { requests } } : {}),
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      ...namespaced(opts.namespace),
      ...(opts.labels ? { labels: opts.labels } : {}),
      ...opts.metadata,
    },
    spec: {
      ...(opts.replicas === null ? {} : { replicas: opts.replicas ?? 1 }),
      selector: { matchLabels: opts.selector ?? podLabels },
      template: {
        metadata: { labels: podLabels, ...(opts.podAnnotations ? { annotations: opts.podAnnotations } : {}) },
        spec: { containers: [container, ...(opts.sidecars ?? [])] },
      },
    },
  };
}

export interface ConfigMapOptions {
  /** Default `default`; `null` leaves it out. */
  namespace?: string | null;
  labels?: Record<string, string>;
  /** Default `{ a: 'b' }`. */
  data?: Record<string, unknown>;
  metadata?: Partial<ObjectMeta>;
}

/** A v1 ConfigMap. */
export function configMap(name: string, opts: ConfigMapOptions = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      ...namespaced(opts.namespace),
      ...(opts.labels ? { labels: opts.labels } : {}),
      ...opts.metadata,
    },
    data: opts.data ?? { a: 'b' },
  };
}

/** A core/v1 Event about Deployment `regarding` (default `web`), as tmc's recorder writes one. */
export function event(
  name: string,
  opts: { namespace?: string | null; regarding?: string; lastTimestamp?: string; metadata?: Partial<ObjectMeta> } = {},
): KubeObject {
  const namespace = namespaced(opts.namespace);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, ...namespace, ...opts.metadata },
    involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: opts.regarding ?? 'web', ...namespace },
    type: 'Normal',
    reason: 'Applied',
    message: 'Applied to east',
    count: 1,
    ...(opts.lastTimestamp ? { firstTimestamp: opts.lastTimestamp, lastTimestamp: opts.lastTimestamp } : {}),
    source: { component: 'tmc' },
  };
}

/** A v1 Service on port 80, optionally with a fixed cluster IP. */
export function service(name: string, opts: { namespace?: string | null; clusterIP?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, ...namespaced(opts.namespace) },
    spec: { ports: [{ port: 80 }], ...(opts.clusterIP ? { clusterIP: opts.clusterIP } : {}) },
  };
}

export interface SyncTargetOptions {
  labels?: Record<string, string>;
  /** The cluster's API endpoint; default `https://<name>.example`. */
  endpoint?: string;
  /** Further spec fields (unschedulable, evictAfter, …). */
  spec?: Record<string, unknown>;
}

/** A workload.kcp.io SyncTarget whose credentials are the Secret `tmc/<name>`. */
export function syncTarget(name: string, opts: SyncTargetOptions = {}): KubeObject {
  return {
    apiVersion: 'workload.kcp.io/v1alpha1',
    kind: 'SyncTarget',
    metadata: { name, ...(opts.labels ? { labels: opts.labels } : {}) },
    spec: {
      workloadCluster: {
        name,
        endpoint: opts.endpoint ?? `https://${name}.example`,
        credentials: { secretRef: { namespace: 'tmc', name } },
      },
      ...opts.spec,
    },
  };
}

function namespaced(namespace: string | null | undefined): { namespace?: string } {
  return namespace === null ? {} : { namespace: namespace ?? 'default' };
}

/** The `widgets.example.com` CRD (namespaced Widget, v1, any fields): the custom kind application-install tests use. */
export function widgetCrd(): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  };
}

/**
 * A CRD with a structural schema (`spec.size` of `sizeType`, `spec.extra` preserving unknown fields): its custom
 * resources' other fields are pruned.
 */
export function gadgetCrd(sizeType = 'integer'): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'gadgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  properties: {
                    size: { type: sizeType },
                    extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}

/** The types the tests name refs of most. */
export const TYPES = {
  deployments: { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment' },
  configmaps: { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap' },
  namespaces: { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace' },
  synctargets: { group: 'workload.kcp.io', version: 'v1alpha1', resource: 'synctargets', kind: 'SyncTarget' },
  placements: { group: 'scheduling.kcp.io', version: 'v1alpha1', resource: 'placements', kind: 'Placement' },
} as const;

/** A ref to `name` of `type` in `workspace`; namespaced types sit in `namespace` (default: `default`). */
export function ref(
  workspace: string,
  type: (typeof TYPES)[keyof typeof TYPES],
  name: string,
  namespace = 'default',
): ObjectRef {
  const namespaced = type.resource === 'deployments' || type.resource === 'configmaps';
  return { workspace, ...type, ...(namespaced ? { namespace } : {}), name };
}

/** `ref`'s placement decision v1 onto `clusters` (all added, nothing explained); `extra` overrides any field. */
export function storedDecision(
  ref: ObjectRef,
  clusters: string[] = ['east'],
  extra: Partial<StoredDecision> = {},
): StoredDecision {
  const reason = extra.reason ?? 'Scheduled';
  return {
    ref,
    decisionVersion: 1,
    generation: 1,
    contentHash: 'h',
    clusters: clusters.map((name) => ({ name })),
    scheduled: reason === 'Scheduled',
    reason,
    message: '',
    explanation: [],
    explanationOmitted: 0,
    weights: {},
    diff: { added: clusters, removed: [], changed: [], unchanged: [] },
    decidedAt: '2026-01-01T00:00:00Z',
    ...extra,
  };
}

/** A placement message for `ref`, with a fixed trace. */
export function placementMessage(ref: ObjectRef, reason: PlacementMessage['reason'] = 'event'): PlacementMessage {
  return { type: 'placement', ref, reason, trace: { traceId: 't-1', enqueuedAt: new Date(0).toISOString() } };
}

/** One SQS record as Lambda's event source delivers it, carrying `body` as JSON. */
export function sqsRecord(
  id: string,
  body: unknown,
  options: { receiveCount?: number; receiptHandle?: string } = {},
): SQSRecord {
  return {
    messageId: id,
    receiptHandle: options.receiptHandle ?? id,
    body: JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: '0',
      SenderId: 'tmc',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn',
    awsRegion: 'us-east-1',
  };
}
