import { IGNORE_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../api/labels';
import type { KubeObject } from '../ports/kube-client';
import { EXCLUDED_NAMESPACES } from '../ingress/selection';

export const WORKLOADS_WEBHOOK = 'tmc-workloads';
export const APIS_WEBHOOK = 'tmc-apis';
export const STATUS_WEBHOOK = 'tmc-status';

export const MUTATING_TYPE = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  resource: 'mutatingwebhookconfigurations',
  kind: 'MutatingWebhookConfiguration',
} as const;
export const VALIDATING_TYPE = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  resource: 'validatingwebhookconfigurations',
  kind: 'ValidatingWebhookConfiguration',
} as const;

export interface WebhookEndpoint {
  /** tmc's HTTP API base URL (`https://abc.execute-api.eu-west-1.amazonaws.com`). */
  apiUrl: string;
  /** PEM CA bundle for a private CA; API Gateway's public certificates need none. */
  caBundle?: string;
}

function url(apiUrl: string, path: string): string {
  return `${apiUrl.replace(/\/+$/, '')}${path}`;
}

function clientConfig(endpoint: WebhookEndpoint, path: string): Record<string, unknown> {
  return {
    url: url(endpoint.apiUrl, path),
    ...(endpoint.caBundle ? { caBundle: Buffer.from(endpoint.caBundle).toString('base64') } : {}),
  };
}

const metadata = (name: string): KubeObject['metadata'] => ({ name, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } });

/** The admission URL for a workspace: the workspace path travels in the URL path, since webhook URLs may not carry a query. */
export function admissionPath(workspace: string): string {
  return `/webhooks/admission/${encodeURIComponent(workspace)}`;
}

/**
 * The kcp username tmc's own kubeconfig authenticates as, unless told otherwise: the service account `tmc` in the
 * workspace's `tmc-system` namespace (a namespace the workloads webhook already leaves alone). The local stack gives
 * tmc's functions a token for this user (docs/webhooks.md, "tmc's own writes").
 */
export const DEFAULT_TMC_USER = 'system:serviceaccount:tmc-system:tmc';

/**
 * kcp skips the webhook for UPDATEs made by tmc itself: placement's state labels, the status reporter's per-cluster
 * annotations, finalizer removal. Ingress acts on none of them (it compares the placement fingerprints of oldObject and
 * object, which leave out exactly those fields, and answers with no I/O), so each was an HTTP round trip holding the
 * kcp write, an API Gateway request and a Lambda invocation for nothing. Only UPDATE: tmc creates and deletes nothing
 * in kcp today, and if it ever does, those still reach placement. The username is a CEL string literal; JSON's string
 * escapes are a subset of CEL's, so any username is quoted safely.
 */
export function skipOwnUpdates(tmcUser: string): { name: string; expression: string } {
  return {
    name: 'not-an-update-by-tmc',
    expression: `!(request.operation == 'UPDATE' && request.userInfo.username == ${JSON.stringify(tmcUser)})`,
  };
}

/**
 * Events are never workloads (ingress drops them): kcp need not call tmc for any, tmc's own `Placed`/`Applied` Events
 * (docs/syncer.md) and kcp's controllers' included, in either API group.
 */
export const NOT_AN_EVENT = {
  name: 'not-an-event',
  expression: "!(request.resource.resource == 'events' && request.resource.group in ['', 'events.k8s.io'])",
} as const;

/**
 * Every namespaced write in the workspace: tmc adds its finalizer and enqueues placement. Fail open (Ignore): if tmc is
 * down kcp keeps working and the scheduled resync catches up. With `tmcUser`, tmc's own updates skip it
 * ({@link skipOwnUpdates}); an empty string keeps every write.
 */
export function workloadsWebhook(
  endpoint: WebhookEndpoint,
  workspace: string,
  tmcUser: string = DEFAULT_TMC_USER,
): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: metadata(WORKLOADS_WEBHOOK),
    webhooks: [
      {
        name: 'workloads.tmc.kcp.io',
        admissionReviewVersions: ['v1'],
        clientConfig: clientConfig(endpoint, admissionPath(workspace)),
        // `*` matches no subresource: `*/scale` is named so that `kubectl scale` (and an HPA) reaches placement.
        rules: [
          {
            operations: ['CREATE', 'UPDATE', 'DELETE'],
            apiGroups: ['*'],
            apiVersions: ['*'],
            resources: ['*', '*/scale'],
            scope: 'Namespaced',
          },
          // Cluster-scoped writes too: a namespace's labels choose its Placement (relabelling one re-places it and what
          // it holds), and cluster-scoped kinds (ClusterRoles, …) are synced when a Placement's objectSelectors name them.
          {
            operations: ['CREATE', 'UPDATE', 'DELETE'],
            apiGroups: ['*'],
            apiVersions: ['*'],
            resources: ['*'],
            scope: 'Cluster',
          },
        ],
        objectSelector: { matchExpressions: [{ key: IGNORE_LABEL, operator: 'DoesNotExist' }] },
        namespaceSelector: {
          matchExpressions: [
            { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [...EXCLUDED_NAMESPACES] },
          ],
        },
        // An evaluation error follows failurePolicy (Ignore): the write goes through uncalled, as when tmc is down.
        matchConditions: [...(tmcUser !== '' ? [skipOwnUpdates(tmcUser)] : []), NOT_AN_EVENT],
        failurePolicy: 'Ignore',
        matchPolicy: 'Equivalent',
        reinvocationPolicy: 'Never',
        sideEffects: 'NoneOnDryRun',
        timeoutSeconds: 5,
      },
    ],
  };
}

/** tmc's own kinds: fail closed (Fail), because an invalid Placement must never be stored. */
export function apisWebhook(endpoint: WebhookEndpoint, workspace: string): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: metadata(APIS_WEBHOOK),
    webhooks: [
      {
        name: 'apis.tmc.kcp.io',
        admissionReviewVersions: ['v1'],
        clientConfig: clientConfig(endpoint, admissionPath(workspace)),
        rules: [
          // No DELETE here: with failurePolicy Fail a down tmc would make SyncTargets undeletable (see the next webhook).
          {
            operations: ['CREATE', 'UPDATE'],
            apiGroups: ['workload.kcp.io'],
            apiVersions: ['*'],
            resources: ['synctargets'],
            scope: '*',
          },
          {
            operations: ['CREATE', 'UPDATE'],
            apiGroups: ['scheduling.kcp.io'],
            apiVersions: ['*'],
            resources: ['locations', 'placements'],
            scope: '*',
          },
        ],
        failurePolicy: 'Fail',
        matchPolicy: 'Equivalent',
        sideEffects: 'NoneOnDryRun',
        timeoutSeconds: 5,
      },
      {
        // SyncTarget deletes, fail open (Ignore): a down tmc never blocks them, and health-probe's comparison of kcp
        // with placement's mirror drains a delete this call missed.
        name: 'synctarget-deletes.tmc.kcp.io',
        admissionReviewVersions: ['v1'],
        clientConfig: clientConfig(endpoint, admissionPath(workspace)),
        rules: [
          {
            operations: ['DELETE'],
            apiGroups: ['workload.kcp.io'],
            apiVersions: ['*'],
            resources: ['synctargets'],
            scope: '*',
          },
        ],
        failurePolicy: 'Ignore',
        matchPolicy: 'Equivalent',
        sideEffects: 'NoneOnDryRun',
        timeoutSeconds: 5,
      },
    ],
  };
}

/** `/webhooks/status/<cluster>`, or `/webhooks/status/<cluster>/<credential>` for a path-authenticated cluster. */
export function statusPath(cluster: string, credential?: string): string {
  const base = `/webhooks/status/${encodeURIComponent(cluster)}`;
  return credential === undefined ? base : `${base}/${encodeURIComponent(credential)}`;
}

/**
 * On a physical cluster: status updates of tmc's downstream objects come back to tmc. Fail open. With `credential`,
 * the URL carries the cluster's own credential in its path, so a managed cluster whose API server sends no
 * Authorization header is still authenticated (docs/webhooks.md).
 */
export function statusWebhook(endpoint: WebhookEndpoint, cluster: string, credential?: string): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: metadata(STATUS_WEBHOOK),
    webhooks: [
      {
        name: 'status.tmc.kcp.io',
        admissionReviewVersions: ['v1'],
        clientConfig: clientConfig(endpoint, statusPath(cluster, credential)),
        rules: [{ operations: ['UPDATE'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*/status'], scope: '*' }],
        objectSelector: { matchLabels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } },
        failurePolicy: 'Ignore',
        matchPolicy: 'Equivalent',
        sideEffects: 'None',
        timeoutSeconds: 5,
      },
    ],
  };
}
