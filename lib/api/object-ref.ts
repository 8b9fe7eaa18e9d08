import { z } from 'zod';
import { LogicalClusterNameSchema } from './logical-cluster';

/** Names one object in kcp: the logical cluster (workspace path), its resource and its name. */
export const ObjectRefSchema = z.object({
  workspace: LogicalClusterNameSchema, // logical cluster path, e.g. `root:default`
  group: z.string(), // '' for the core group
  version: z.string().min(1),
  resource: z.string().min(1), // plural, lower case
  kind: z.string().min(1),
  namespace: z.string().optional(), // absent for cluster-scoped objects
  name: z.string().min(1),
  uid: z.string().optional(),
});
export type ObjectRef = z.infer<typeof ObjectRefSchema>;

/** `apps/v1/deployments`, `v1/configmaps`: the group/version/resource part of a ref, as used in keys and logs. */
export function gvrKey(ref: Pick<ObjectRef, 'group' | 'version' | 'resource'>): string {
  return ref.group ? `${ref.group}/${ref.version}/${ref.resource}` : `${ref.version}/${ref.resource}`;
}

/** A stable identity for an object in kcp, independent of version: used as a DynamoDB partition key and a FIFO-free dedup key. */
export function objectKey(ref: ObjectRef): string {
  return [ref.workspace, ref.group || 'core', ref.resource, ref.namespace ?? '', ref.name].join('|');
}

/** The start every {@link objectKey} of one resource type in one workspace shares (a begins_with on the key). */
export function typeKeyPrefix(workspace: string, type: Pick<ObjectRef, 'group' | 'resource'>): string {
  return `${[workspace, type.group || 'core', type.resource].join('|')}|`;
}

/** The sync item a downstream namespace is recorded under: the kcp namespace, as a core/v1 object of its workspace. */
export function namespaceRef(workspace: string, namespace: string): ObjectRef {
  return { workspace, group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', name: namespace };
}

/** `Deployment default/web` — how logs and errors name an object. */
export function describeRef(ref: Pick<ObjectRef, 'kind' | 'namespace' | 'name'>): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}
