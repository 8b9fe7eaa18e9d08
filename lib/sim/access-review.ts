import { z } from 'zod';
import { ApiError } from '../kube-api/api-error';
import type { KubeObject } from '../kube/object';
import type { ResourceInfo } from '../kube-api/resource-info';
import type { SimUser, TokenAuthenticator } from './authentication';
import type { ObjectSpace } from './object-space';
import { rbacDecision, rbacRules, type RequestAttributes } from './rbac';

/**
 * The review kinds kube-apiserver answers and never stores: `kubectl auth can-i` (self subject access and rules
 * reviews), a controller's SubjectAccessReview and LocalSubjectAccessReview, `kubectl auth whoami`
 * (SelfSubjectReview), and a TokenReview.
 */
const REVIEW_RESOURCES: ReadonlySet<string> = new Set([
  'authorization.k8s.io/selfsubjectaccessreviews',
  'authorization.k8s.io/selfsubjectrulesreviews',
  'authorization.k8s.io/subjectaccessreviews',
  'authorization.k8s.io/localsubjectaccessreviews',
  'authentication.k8s.io/selfsubjectreviews',
  'authentication.k8s.io/tokenreviews',
]);

export function isAccessReview(info: Pick<ResourceInfo, 'group' | 'resource'>): boolean {
  return REVIEW_RESOURCES.has(`${info.group}/${info.resource}`);
}

/** Who asks a review, and what answers it: the same RBAC evaluation the server applies to requests. */
export interface ReviewContext {
  space: ObjectSpace;
  /** The requester, after impersonation (`kubectl --as`). */
  user: SimUser;
  /** Whether RBAC decides for the requester (an issued ServiceAccount token, or an impersonated user). */
  rbacSubject: boolean;
  authenticator: Pick<TokenAuthenticator, 'userOfToken' | 'isAdmin'>;
}

const ADMIN_REASON = "the simulator's static tokens are admins";

const ResourceAttributesSchema = z.looseObject({
  namespace: z.string().optional(),
  verb: z.string().optional(),
  group: z.string().optional(),
  resource: z.string().optional(),
  subresource: z.string().optional(),
  name: z.string().optional(),
});
const NonResourceAttributesSchema = z.looseObject({ path: z.string().optional(), verb: z.string().optional() });
const AccessReviewSpecSchema = z.looseObject({
  resourceAttributes: ResourceAttributesSchema.optional(),
  nonResourceAttributes: NonResourceAttributesSchema.optional(),
  user: z.string().optional(),
  groups: z.array(z.string()).optional(),
  namespace: z.string().optional(),
  token: z.string().optional(),
  audiences: z.array(z.string()).optional(),
});
type AccessReviewSpec = z.infer<typeof AccessReviewSpecSchema>;

function specOf(review: KubeObject): AccessReviewSpec {
  const parsed = AccessReviewSpecSchema.safeParse(review.spec ?? {});
  if (!parsed.success)
    throw ApiError.invalid(review.kind, review.metadata.name ?? '', [{ field: 'spec', message: parsed.error.message }]);
  return parsed.data;
}

/** The review's question in RBAC's terms; a 422 unless exactly one kind of attributes is given, as kube checks. */
function attributesOf(review: KubeObject, spec: AccessReviewSpec, namespace?: string): RequestAttributes {
  const resource = spec.resourceAttributes;
  const nonResource = spec.nonResourceAttributes;
  if ((resource === undefined) === (nonResource === undefined))
    throw ApiError.invalid(review.kind, review.metadata.name ?? '', [
      {
        field: 'spec.resourceAttributes',
        message: 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
      },
    ]);
  if (nonResource) return { path: nonResource.path ?? '', verb: nonResource.verb ?? '' };
  return {
    verb: resource?.verb ?? '',
    group: resource?.group ?? '',
    resource: resource?.resource ?? '',
    subresource: resource?.subresource || undefined,
    namespace: namespace ?? (resource?.namespace || undefined),
    name: resource?.name || undefined,
  };
}

/** RBAC's answer for `subject`, or an admin's yes. */
function decide(
  ctx: ReviewContext,
  subject: SimUser,
  rbac: boolean,
  attrs: RequestAttributes,
): { allowed: boolean; reason?: string } {
  if (!rbac) return { allowed: true, reason: ADMIN_REASON };
  if (subject.groups.includes('system:masters')) return { allowed: true, reason: '' };
  const decision = rbacDecision(ctx.space, subject, attrs);
  return decision.allowed ? decision : { allowed: false };
}

/**
 * The answer to a review: the request echoed with its status, as kube-apiserver answers it. Access reviews are
 * decided by the RBAC evaluation requests get (lib/sim/rbac.ts) for ServiceAccount users and impersonated users; the
 * static tokens' users are admins. `namespace` is a LocalSubjectAccessReview's, from its URL.
 */
export function answerAccessReview(
  info: Pick<ResourceInfo, 'resource'>,
  review: KubeObject,
  ctx: ReviewContext,
  namespace?: string,
): KubeObject {
  const metadata = review.metadata;
  const { user } = ctx;
  if (info.resource === 'selfsubjectreviews') {
    return { ...review, metadata, status: { userInfo: { username: user.username, groups: user.groups } } };
  }
  const spec = specOf(review);
  if (info.resource === 'tokenreviews') {
    const tokenUser = ctx.authenticator.userOfToken(spec.token ?? '');
    const status = tokenUser
      ? {
          authenticated: true,
          user: { username: tokenUser.username, groups: tokenUser.groups },
          audiences: spec.audiences ?? ['https://kubernetes.default.svc'],
        }
      : { user: {}, error: '[invalid bearer token, token lookup failed]' };
    return { ...review, metadata, status };
  }
  if (info.resource === 'selfsubjectrulesreviews') {
    const status = ctx.rbacSubject
      ? { ...rbacRules(ctx.space, user, spec.namespace || undefined), incomplete: false }
      : {
          resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
          nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
          incomplete: false,
        };
    return { ...review, metadata, status };
  }
  const attrs = attributesOf(review, spec, namespace);
  if (info.resource === 'selfsubjectaccessreviews')
    return { ...review, metadata, status: decide(ctx, user, ctx.rbacSubject, attrs) };
  // A (Local)SubjectAccessReview asks about the user in its spec: RBAC decides unless a static token names it.
  const subject: SimUser = { username: spec.user ?? '', groups: spec.groups ?? [] };
  const rbac = !ctx.authenticator.isAdmin(subject.username) || subject.username.startsWith('system:serviceaccount:');
  return { ...review, metadata, status: decide(ctx, subject, rbac, attrs) };
}
