import type { KubeObject } from '../../kube/object';
import type { AdmissionAttributes } from '../contracts';
import { isEmptyLabelSelector, matchesLabelSelector } from '../../kube-api/label-selector';
import type { Webhook } from './webhook-configuration';
import { type AdmissionFailure, notFound } from './admission-status';

const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

function labelsOf(object: KubeObject | undefined): Record<string, string> | undefined {
  return object?.metadata?.labels;
}

/**
 * kube-apiserver (1.21+) guarantees every namespace carries `kubernetes.io/metadata.name`, and webhooks select on
 * it (tmc excludes system namespaces that way), so it is supplied here when a store has not set it.
 */
function namespaceLabels(namespace: KubeObject | undefined, name: string): Record<string, string> {
  return { ...(labelsOf(namespace) ?? {}), [NAMESPACE_NAME_LABEL]: name };
}

/**
 * namespaceSelector as kube-apiserver evaluates it: cluster-scoped objects (other than namespaces) always match;
 * a Namespace being created or updated is tested on its own new labels; anything else on its namespace's labels,
 * and a namespace that does not exist is a 404 (only looked up when the selector is not empty).
 */
export function matchesNamespaceSelector(webhook: Webhook, attrs: AdmissionAttributes): boolean | AdmissionFailure {
  const isNamespace = attrs.gvr.group === '' && attrs.gvr.resource === 'namespaces';
  const namespaceName = isNamespace ? attrs.name : attrs.namespace;
  if (!namespaceName) return true;
  if (isEmptyLabelSelector(webhook.namespaceSelector)) return true;
  if (isNamespace && !attrs.subResource && (attrs.operation === 'CREATE' || attrs.operation === 'UPDATE')) {
    return matchesLabelSelector(webhook.namespaceSelector, namespaceLabels(attrs.object, namespaceName));
  }
  const namespace = attrs.store.get(NAMESPACES, undefined, namespaceName);
  if (!namespace) return notFound('namespaces', namespaceName);
  return matchesLabelSelector(webhook.namespaceSelector, namespaceLabels(namespace, namespaceName));
}

/** objectSelector matches when either the new or the old object carries matching labels. */
export function matchesObjectSelector(
  webhook: Webhook,
  object: KubeObject | undefined,
  oldObject: KubeObject | undefined,
): boolean {
  if (isEmptyLabelSelector(webhook.objectSelector)) return true;
  return (
    (object !== undefined && matchesLabelSelector(webhook.objectSelector, labelsOf(object))) ||
    (oldObject !== undefined && matchesLabelSelector(webhook.objectSelector, labelsOf(oldObject)))
  );
}
