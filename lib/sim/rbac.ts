import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { ApiError } from '../kube-api/api-error';
import type { KubeObject } from '../kube/object';
import type { SimUser, TokenAuthenticator } from './authentication';
import type { ObjectSpace } from './object-space';

/**
 * ServiceAccount tokens and RBAC for them, as kube-apiserver's TokenRequest API and RBAC authorizer do it. Only the
 * holders of issued ServiceAccount tokens are authorized: the simulator's static tokens stand for admins (tmc's functions, the operator's
 * kubectl), so everything else keeps working unchanged, while a workload given a ServiceAccount token (the syncer's
 * Deployment) gets exactly what the ClusterRoles and Roles bound to it allow. Not modelled: escalation checks on
 * writes of Roles and bindings (kube-apiserver's `escalate`/`bind`), aggregated ClusterRoles, impersonation.
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
    this.authenticator.register(token, {
      username: `${SA_PREFIX}${namespace}:${name}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`],
    });
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

/** Whether the ClusterRoles and Roles bound to `user` in `space` allow `attrs`. */
export function rbacAllows(space: ObjectSpace, user: SimUser, attrs: RequestAttributes): boolean {
  if ('path' in attrs && PUBLIC_PATHS.some((p) => p.test(attrs.path))) return true;
  const clusterRole = (name: string): Rule[] => rulesOf(space.get(type('clusterroles'), undefined, name));
  for (const object of space.list(type('clusterrolebindings'))) {
    const binding = BindingSchema.safeParse(object);
    if (!binding.success || binding.data.roleRef.kind !== 'ClusterRole' || !bound(binding.data, undefined, user))
      continue;
    if (clusterRole(binding.data.roleRef.name).some((rule) => matches(rule, attrs))) return true;
  }
  const namespace = 'path' in attrs ? undefined : attrs.namespace;
  if (namespace === undefined) return false;
  for (const object of space.list(type('rolebindings'), namespace)) {
    const binding = BindingSchema.safeParse(object);
    if (!binding.success || !bound(binding.data, namespace, user)) continue;
    const rules =
      binding.data.roleRef.kind === 'Role'
        ? rulesOf(space.get(type('roles'), namespace, binding.data.roleRef.name))
        : clusterRole(binding.data.roleRef.name);
    if (rules.some((rule) => matches(rule, attrs))) return true;
  }
  return false;
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
