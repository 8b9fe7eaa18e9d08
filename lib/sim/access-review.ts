import type { KubeObject } from '../kube/object';
import type { ResourceInfo } from '../kube-api/resource-info';
import type { SimUser } from './authentication';

/**
 * The review kinds kube-apiserver answers and never stores: `kubectl auth can-i` (self subject access and rules
 * reviews), a controller's SubjectAccessReview and LocalSubjectAccessReview, `kubectl auth whoami`
 * (SelfSubjectReview).
 */
const REVIEW_RESOURCES: ReadonlySet<string> = new Set([
  'authorization.k8s.io/selfsubjectaccessreviews',
  'authorization.k8s.io/selfsubjectrulesreviews',
  'authorization.k8s.io/subjectaccessreviews',
  'authorization.k8s.io/localsubjectaccessreviews',
  'authentication.k8s.io/selfsubjectreviews',
]);

export function isAccessReview(info: Pick<ResourceInfo, 'group' | 'resource'>): boolean {
  return REVIEW_RESOURCES.has(`${info.group}/${info.resource}`);
}

/** The simulator authorizes every authenticated request (it has no RBAC), and says so. */
const REASON = 'the simulator authorizes every authenticated request';

/** The answer to a review: the request echoed with its status, as kube-apiserver answers it. */
export function answerAccessReview(
  info: Pick<ResourceInfo, 'resource'>,
  review: KubeObject,
  user: SimUser,
): KubeObject {
  const metadata = review.metadata;
  if (info.resource === 'selfsubjectreviews') {
    return { ...review, metadata, status: { userInfo: { username: user.username, groups: user.groups } } };
  }
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
  // A (Local)SubjectAccessReview asks about the user in its spec; the answer is the same for everyone.
  const subject = info.resource === 'selfsubjectaccessreviews' ? user.username : 'any user';
  return { ...review, metadata, status: { allowed: true, reason: `${REASON} (${subject})` } };
}
