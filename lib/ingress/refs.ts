import { z } from 'zod';
import {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  SOURCE_ANNOTATION,
  SOURCE_UID_LABEL,
  WORKSPACE_ANNOTATION,
} from '../api/labels';
import { isLogicalClusterName } from '../api/logical-cluster';
import type { KubeObjectShape } from '../api/messages';
import type { ObjectRef } from '../api/object-ref';

/** `Deployment` → `deployments`, `Ingress` → `ingresses`, `NetworkPolicy` → `networkpolicies`: built-in kinds' rule. */
export function pluralOf(kind: string): string {
  const lower = kind.toLowerCase();
  if (/(s|x|z|ch|sh)$/.test(lower)) return `${lower}es`;
  if (/[^aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}

/** `apps/v1` → {group: 'apps', version: 'v1'}; `v1` → core. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** kcp sets this annotation on every object to its logical cluster. */
export const KCP_CLUSTER_ANNOTATION = 'kcp.io/cluster';

export function annotation(object: KubeObjectShape | undefined, key: string): string | undefined {
  const annotations = object?.metadata.annotations;
  if (typeof annotations !== 'object' || annotations === null) return undefined;
  return str((annotations as Record<string, unknown>)[key]);
}

export function label(object: KubeObjectShape | undefined, key: string): string | undefined {
  const labels = object?.metadata.labels;
  if (typeof labels !== 'object' || labels === null) return undefined;
  return str((labels as Record<string, unknown>)[key]);
}

export function buildRef(input: {
  workspace: string;
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespace?: string | null;
  name?: string | null;
  object?: KubeObjectShape;
}): ObjectRef | undefined {
  const name = str(input.name) ?? str(input.object?.metadata.name);
  if (!name) return undefined;
  const namespace = str(input.namespace) ?? str(input.object?.metadata.namespace);
  const uid = str(input.object?.metadata.uid);
  return {
    workspace: input.workspace,
    group: input.group,
    version: input.version,
    resource: input.resource,
    kind: input.kind,
    ...(namespace ? { namespace } : {}),
    name,
    ...(uid ? { uid } : {}),
  };
}

const SourceAnnotationSchema = z.object({
  group: z.string(),
  version: z.string().min(1),
  resource: z.string().min(1),
  kind: z.string().min(1),
  namespace: z.string().optional(),
  name: z.string().min(1),
});

/**
 * The kcp object a downstream object was synced from, from the labels and annotations sync-apply writes
 * (lib/api/labels.ts). Undefined when the object is not tmc's or the annotations are missing or malformed.
 */
export function upstreamRefOf(downstream: KubeObjectShape): ObjectRef | undefined {
  if (label(downstream, MANAGED_BY_LABEL) !== MANAGED_BY_VALUE) return undefined;
  const workspace = annotation(downstream, WORKSPACE_ANNOTATION);
  const source = annotation(downstream, SOURCE_ANNOTATION);
  // The annotation is on the cluster's copy, where anyone who can edit it can write it: only a valid logical cluster
  // path may name the kcp object status goes to.
  if (!workspace || !source || !isLogicalClusterName(workspace)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(source);
  } catch {
    return undefined;
  }
  const parsed = SourceAnnotationSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const uid = label(downstream, SOURCE_UID_LABEL);
  return { workspace, ...parsed.data, ...(uid ? { uid } : {}) };
}
