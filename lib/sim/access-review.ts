import type { KubeObject } from '../kube/object';
import type { ResourceInfo } from '../kube-api/resource-info';
import type { SimUser } from './authentication';

/** The review kinds `kubectl auth can-i` creates: answered, never stored (as kube-apiserver does). */
export const ACCESS_REVIEW_RESOURCES: ReadonlySet<string> = new Set([
  'selfsubjectaccessreviews',
  'selfsubjectrulesreviews',
]);

export function isAccessReview(info: Pick<ResourceInfo, 'group' | 'resource'>): boolean {
  return info.group === 'authorization.k8s.io' && ACCESS_REVIEW_RESOURCES.has(info.resource);
}

/** The simulator authorizes every authenticated request (it has no RBAC), and says so. */
const REASON = 'the simulator authorizes every authenticated request';

/**
 * The answer to a SelfSubjectAccessReview (`kubectl auth can-i get pods`) or SelfSubjectRulesReview
 * (`kubectl auth can-i --list`): the request echoed with its status, as kube-apiserver answers it.
 */
export function answerAccessReview(
  info: Pick<ResourceInfo, 'resource'>,
  review: KubeObject,
  user: SimUser,
): KubeObject {
  const metadata = review.metadata;
  if (info.resource === 'selfsubjectrulesreviews') {
    return {
      ...review,
      metadata,
      status: {
        resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
        nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
        incomplete: false,
      },
    };
  }
  return { ...review, metadata, status: { allowed: true, reason: `${REASON} (${user.username})` } };
}
