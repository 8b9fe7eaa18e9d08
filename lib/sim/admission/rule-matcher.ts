import type { AdmissionAttributes } from '../contracts';
import type { RuleWithOperations } from './webhook-configuration';

function includesOrStar(list: readonly string[] | null | undefined, value: string): boolean {
  return (list ?? []).some((item) => item === '*' || item === value);
}

/**
 * `deployments` matches only the main resource, `deployments/status` only that subresource, `*` every main
 * resource, `*\/status` every status subresource, `deployments/*` the resource and all its subresources, `*\/*`
 * everything (k8s.io/apiserver/pkg/admission/plugin/webhook/predicates/rules).
 */
function matchesResource(
  resources: readonly string[] | null | undefined,
  resource: string,
  subResource: string,
): boolean {
  return (resources ?? []).some((entry) => {
    const slash = entry.indexOf('/');
    const res = slash < 0 ? entry : entry.slice(0, slash);
    const sub = slash < 0 ? '' : entry.slice(slash + 1);
    return (res === '*' || res === resource) && (sub === '*' || sub === subResource);
  });
}

function matchesScope(scope: RuleWithOperations['scope'], clusterScoped: boolean): boolean {
  if (!scope || scope === '*') return true;
  return scope === (clusterScoped ? 'Cluster' : 'Namespaced');
}

/**
 * Whether a request is cluster-scoped for rule scope matching. Namespace objects are cluster-scoped even though
 * kube-apiserver fills the request's namespace with their own name.
 */
export function isClusterScoped(attrs: AdmissionAttributes): boolean {
  if (attrs.gvr.group === '' && attrs.gvr.resource === 'namespaces') return true;
  const resolved = attrs.store.resolve(attrs.gvr);
  return resolved ? !resolved.namespaced : !attrs.namespace;
}

/** True when any rule matches the request (matchPolicy Equivalent is treated as Exact). */
export function matchesRules(rules: readonly RuleWithOperations[], attrs: AdmissionAttributes): boolean {
  const clusterScoped = isClusterScoped(attrs);
  return rules.some(
    (rule) =>
      includesOrStar(rule.operations, attrs.operation) &&
      includesOrStar(rule.apiGroups, attrs.gvr.group) &&
      includesOrStar(rule.apiVersions, attrs.gvr.version) &&
      matchesResource(rule.resources, attrs.gvr.resource, attrs.subResource ?? '') &&
      matchesScope(rule.scope, clusterScoped),
  );
}
