import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { ApiError } from '../kube-api/api-error';
import type { KubeObject } from '../kube/object';
import type { SimUser, TokenAuthenticator } from './authentication';
import type { ObjectSpace } from './object-space';

/**
 * ServiceAccount tokens and RBAC for them, as kube-apiserver's TokenRequest API and RBAC authorizer do it. Only the
 * holders of issued ServiceAccount tokens, and users a request impersonates (`kubectl --as`), are authorized by RBAC:
 * the simulator's static tokens stand for admins (tmc's functions, the operator's kubectl), so everything else keeps
 * working unchanged, while a workload given a ServiceAccount token (the syncer's Deployment) gets exactly what the
 * ClusterRoles and Roles bound to it allow. Access reviews (`kubectl auth can-i`) are answered by the same evaluation.
 * Not modelled: escalation checks on writes of Roles and bindings (kube-apiserver's `escalate`/`bind`), aggregated
 * ClusterRoles.
 */

const SA_PREFIX = 'system:serviceaccount:';

/** `system:serviceaccount:<namespace>:<name>` → its namespace and name. */
function serviceAccountOf(user: SimUser): { namespace: string; name: string } | undefined {
  if (!user.username.startsWith(SA_PREFIX)) return undefined;
  const [namespace, name] = user.username.slice(SA_PREFIX.length).split(':');
  return namespace && name ? { namespace, name } : undefined;
}

/**
 * The ServiceAccount tokens this server issued (`kubectl create token`): only their holders are authorized by RBAC.
 * A static token registered under a ServiceAccount-style name (tmc's functions' own, in the local stack) stays an admin.
 */
export class ServiceAccountTokens {
  private readonly issued = new Set<string>();

  constructor(private readonly authenticator: TokenAuthenticator) {}

  /** Whether the request carries a token this server issued to a ServiceAccount. */
  holds(req: IncomingMessage): boolean {
    const auth = req.headers.authorization ?? '';
    return auth.startsWith('Bearer ') && this.issued.has(auth.slice('Bearer '.length));
  }

  /**
   * `POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token`: a new bearer token that authenticates as the
   * ServiceAccount, answered as a TokenRequest. 404 when the ServiceAccount does not exist.
   */
  issue(space: ObjectSpace, namespace: string, name: string): KubeObject {
    if (!space.get({ group: '', version: 'v1', resource: 'serviceaccounts' }, namespace, name))
      throw ApiError.notFound({ group: '', resource: 'serviceaccounts' }, name);
    const token = `sa-${randomBytes(24).toString('base64url')}`;
    this.authenticator.register(
      token,
      {
        username: `${SA_PREFIX}${namespace}:${name}`,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`],
      },
      true,
    );
    this.issued.add(token);
    const expires = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    return {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: { name, namespace },
      spec: { audiences: ['https://kubernetes.default.svc'], expirationSeconds: 3600 },
      status: { token, expirationTimestamp: expires },
    };
  }
}

/** What a request asks to do, in RBAC's terms. */
export type RequestAttributes =
  | {
      verb: string;
      group: string;
      resource: string;
      subresource?: string;
      namespace?: string;
      name?: string;
    }
  | { path: string; verb: string };

const RuleSchema = z.object({
  apiGroups: z.array(z.string()).optional(),
  resources: z.array(z.string()).optional(),
  resourceNames: z.array(z.string()).optional(),
  verbs: z.array(z.string()),
  nonResourceURLs: z.array(z.string()).optional(),
});
type Rule = z.infer<typeof RuleSchema>;
const RoleSchema = z.looseObject({ rules: z.array(RuleSchema).nullish() });
const BindingSchema = z.looseObject({
  roleRef: z.object({ kind: z.string(), name: z.string() }),
  subjects: z.array(z.object({ kind: z.string(), name: z.string(), namespace: z.string().optional() })).nullish(),
});

const RBAC = 'rbac.authorization.k8s.io';
const type = (resource: string): { group: string; version: string; resource: string } => ({
  group: RBAC,
  version: 'v1',
  resource,
});

/** What the bootstrap roles `system:discovery` and `system:public-info-viewer` give every authenticated user. */
const PUBLIC_PATHS = [
  /^\/api(\/.*)?$/,
  /^\/apis(\/.*)?$/,
  /^\/openapi(\/.*)?$/,
  /^\/version$/,
  /^\/(healthz|livez|readyz)$/,
];

/**
 * The rules kube-apiserver's bootstrap ClusterRoles `system:basic-user` and `system:discovery` give every
 * authenticated user (through the `system:authenticated` group), as a rules review lists them.
 */
const AUTHENTICATED_RULES: Rule[] = [
  {
    verbs: ['create'],
    apiGroups: ['authorization.k8s.io'],
    resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
  },
  { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
  {
    verbs: ['get'],
    nonResourceURLs: [
      '/api',
      '/api/*',
      '/apis',
      '/apis/*',
      '/healthz',
      '/livez',
      '/openapi',
      '/openapi/*',
      '/readyz',
      '/version',
      '/version/',
    ],
  },
];

function bound(binding: z.infer<typeof BindingSchema>, bindingNamespace: string | undefined, user: SimUser): boolean {
  const sa = serviceAccountOf(user);
  return (binding.subjects ?? []).some((s) => {
    if (s.kind === 'ServiceAccount')
      return sa !== undefined && s.name === sa.name && (s.namespace ?? bindingNamespace) === sa.namespace;
    if (s.kind === 'User') return s.name === user.username;
    if (s.kind === 'Group') return user.groups.includes(s.name);
    return false;
  });
}

function rulesOf(object: KubeObject | undefined): Rule[] {
  const parsed = RoleSchema.safeParse(object);
  return parsed.success ? (parsed.data.rules ?? []) : [];
}

function matches(rule: Rule, attrs: RequestAttributes): boolean {
  if (!rule.verbs.includes('*') && !rule.verbs.includes(attrs.verb)) return false;
  if ('path' in attrs)
    return (rule.nonResourceURLs ?? []).some((u) =>
      u.endsWith('*') ? attrs.path.startsWith(u.slice(0, -1)) : u === attrs.path,
    );
  const groups = rule.apiGroups ?? [];
  if (!groups.includes('*') && !groups.includes(attrs.group)) return false;
  const wanted = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const resources = rule.resources ?? [];
  const resourceOk = resources.some(
    (r) => r === '*' || r === wanted || (attrs.subresource !== undefined && r === `*/${attrs.subresource}`),
  );
  if (!resourceOk) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (attrs.name !== undefined && names.includes(attrs.name));
}

/** kube's name for a binding's subject in an RBAC reason (`ServiceAccount "ns/name"`, `User "alice"`). */
function subjectName(user: SimUser): string {
  const sa = serviceAccountOf(user);
  return sa ? `ServiceAccount "${sa.namespace}/${sa.name}"` : `User "${user.username}"`;
}

/** One binding that applies to a user, with the rules of the role it grants. */
interface Grant {
  /** RBAC's description of the grant, as its allow reason names it. */
  describe: string;
  rules: Rule[];
}

/** Every grant `user` holds in `space`: cluster-wide ones, and a namespace's RoleBindings when one is named. */
function grantsOf(space: ObjectSpace, user: SimUser, namespace: string | undefined): Grant[] {
  const clusterRole = (name: string): Rule[] => rulesOf(space.get(type('clusterroles'), undefined, name));
  const grants: Grant[] = [];
  for (const object of space.list(type('clusterrolebindings'))) {
    const binding = BindingSchema.safeParse(object);
    if (!binding.success || binding.data.roleRef.kind !== 'ClusterRole' || !bound(binding.data, undefined, user))
      continue;
    const { name } = binding.data.roleRef;
    grants.push({
      describe: `ClusterRoleBinding "${object.metadata.name ?? ''}" of ClusterRole "${name}"`,
      rules: clusterRole(name),
    });
  }
  if (namespace === undefined) return grants;
  for (const object of space.list(type('rolebindings'), namespace)) {
    const binding = BindingSchema.safeParse(object);
    if (!binding.success || !bound(binding.data, namespace, user)) continue;
    const { kind, name } = binding.data.roleRef;
    grants.push({
      describe: `RoleBinding "${object.metadata.name ?? ''}/${namespace}" of ${kind} "${name}"`,
      rules: kind === 'Role' ? rulesOf(space.get(type('roles'), namespace, name)) : clusterRole(name),
    });
  }
  return grants;
}

/**
 * RBAC's decision for `user` asking `attrs` in `space`, with kube-apiserver's reason when allowed (`RBAC: allowed by
 * ClusterRoleBinding "x" of ClusterRole "y" to ServiceAccount "ns/name"`). The one evaluation behind both a request's
 * 403 and an access review's answer.
 */
export function rbacDecision(
  space: ObjectSpace,
  user: SimUser,
  attrs: RequestAttributes,
): { allowed: boolean; reason: string } {
  if ('path' in attrs && PUBLIC_PATHS.some((p) => p.test(attrs.path)) && attrs.verb === 'get')
    return {
      allowed: true,
      reason:
        'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"',
    };
  if (user.groups.includes('system:authenticated') && AUTHENTICATED_RULES.some((rule) => matches(rule, attrs)))
    return {
      allowed: true,
      reason:
        'RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated"',
    };
  const namespace = 'path' in attrs ? undefined : attrs.namespace;
  for (const grant of grantsOf(space, user, namespace))
    if (grant.rules.some((rule) => matches(rule, attrs)))
      return { allowed: true, reason: `RBAC: allowed by ${grant.describe} to ${subjectName(user)}` };
  return { allowed: false, reason: '' };
}

/** Whether the ClusterRoles and Roles bound to `user` in `space` allow `attrs`. */
export function rbacAllows(space: ObjectSpace, user: SimUser, attrs: RequestAttributes): boolean {
  return rbacDecision(space, user, attrs).allowed;
}

/** What `user` may do in `namespace` (a SelfSubjectRulesReview): every rule of every grant, bootstrap ones included. */
export function rbacRules(
  space: ObjectSpace,
  user: SimUser,
  namespace: string | undefined,
): { resourceRules: Rule[]; nonResourceRules: Rule[] } {
  const rules = [
    ...(user.groups.includes('system:authenticated') ? AUTHENTICATED_RULES : []),
    ...grantsOf(space, user, namespace).flatMap((g) => g.rules),
  ];
  return {
    resourceRules: rules
      .filter((r) => (r.resources ?? []).length > 0)
      .map(({ verbs, apiGroups, resources, resourceNames }) => ({ verbs, apiGroups, resources, resourceNames })),
    nonResourceRules: rules
      .filter((r) => (r.nonResourceURLs ?? []).length > 0)
      .map(({ verbs, nonResourceURLs }) => ({ verbs, nonResourceURLs })),
  };
}

/** What impersonating `username` asks of RBAC: `impersonate` on that ServiceAccount, or on that user. */
export function impersonationAttributes(username: string): RequestAttributes {
  const sa = serviceAccountOf({ username, groups: [] });
  return sa
    ? { verb: 'impersonate', group: '', resource: 'serviceaccounts', namespace: sa.namespace, name: sa.name }
    : { verb: 'impersonate', group: '', resource: 'users', name: username };
}

/**
 * Throws kube-apiserver's 403 when the holder of an issued ServiceAccount token may not do what it asks. A server-side
 * apply is a `patch`, and also a `create` when the object does not exist yet (as kube-apiserver checks it).
 */
export function authorizeRequest(
  space: ObjectSpace,
  user: SimUser,
  attrs: RequestAttributes,
  exists: () => boolean,
): void {
  const verbs =
    'path' in attrs
      ? [attrs.verb]
      : attrs.verb === 'apply'
        ? exists()
          ? ['patch']
          : ['patch', 'create']
        : [attrs.verb];
  for (const verb of verbs) {
    const asked = { ...attrs, verb };
    if (rbacAllows(space, user, asked)) continue;
    if ('path' in asked)
      throw new ApiError(403, 'Forbidden', `forbidden: User "${user.username}" cannot ${verb} path "${asked.path}"`);
    const qualified = asked.group ? `${asked.resource}.${asked.group}` : asked.resource;
    const resource = asked.subresource ? `${asked.resource}/${asked.subresource}` : asked.resource;
    throw new ApiError(
      403,
      'Forbidden',
      `${qualified}${asked.name ? ` "${asked.name}"` : ''} is forbidden: User "${user.username}" cannot ${verb} resource "${resource}" in API group "${asked.group}" ${asked.namespace ? `in the namespace "${asked.namespace}"` : 'at the cluster scope'}`,
      { name: asked.name, group: asked.group || undefined, kind: asked.resource },
    );
  }
}
