import { z } from 'zod';
import { ApiError } from '../kube-api/api-error';
import type { KubeObject } from '../kube/object';
import type { ObjectSpace } from './object-space';

const PODS = { group: '', version: 'v1', resource: 'pods' };

const BindingSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string().optional(), annotations: z.record(z.string(), z.string()).optional() }),
  target: z.looseObject({ kind: z.string().optional(), name: z.string().optional() }).optional(),
});

/**
 * A Binding (`POST …/namespaces/<ns>/bindings`, or `…/pods/<name>/binding`): a scheduler assigns a Pod to a Node, as
 * kube-apiserver's BindingREST does. Nothing is stored; the Pod gets `spec.nodeName`, the Binding's annotations and a
 * `PodScheduled` condition, and the answer is a Success Status. A Pod already on a Node, or being deleted, is a 409.
 */
export function bindPod(
  space: ObjectSpace,
  namespace: string,
  body: KubeObject,
  podInUrl?: string,
): Record<string, unknown> {
  const parsed = BindingSchema.safeParse(body);
  if (!parsed.success) throw ApiError.badRequest('the object provided is unrecognized (must be of type Binding)');
  const binding = parsed.data;
  const name = binding.metadata.name ?? '';
  if (podInUrl !== undefined && podInUrl !== name)
    throw ApiError.badRequest('name in URL does not match name in Binding object');
  const target = binding.target ?? {};
  const causes: Array<{ field: string; message: string; reason?: string }> = [];
  if (!name) causes.push({ field: 'metadata.name', message: 'Required value: name or generateName is required' });
  if (target.kind !== undefined && target.kind !== '' && target.kind !== 'Node')
    causes.push({ field: 'target.kind', message: `Not supported: "${target.kind}": supported values: "Node"` });
  if (!target.name) causes.push({ field: 'target.name', message: 'Required value', reason: 'FieldValueRequired' });
  if (causes.length > 0) throw ApiError.invalid('Binding', name, causes);

  const info = space.info(PODS);
  const pod = space.get(info, namespace, name);
  if (!pod) throw ApiError.notFound(info, name);
  const refused = (why: string): ApiError =>
    new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": ${why}`, {
      name,
      kind: 'pods/binding',
    });
  if (pod.metadata.deletionTimestamp) throw refused(`pod ${name} is being deleted, cannot be assigned to a host`);
  const spec = (pod.spec ?? {}) as Record<string, unknown>;
  if (typeof spec.nodeName === 'string' && spec.nodeName !== '')
    throw refused(`pod ${name} is already assigned to node "${spec.nodeName}"`);

  const status = (pod.status ?? {}) as Record<string, unknown>;
  const conditions = Array.isArray(status.conditions)
    ? (status.conditions as Array<Record<string, unknown>>).filter((c) => c.type !== 'PodScheduled')
    : [];
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  space.replace(info, pod, {
    ...pod,
    metadata: {
      ...pod.metadata,
      annotations: { ...(pod.metadata.annotations ?? {}), ...(binding.metadata.annotations ?? {}) },
    },
    spec: { ...spec, nodeName: target.name },
    status: {
      ...status,
      conditions: [
        ...conditions,
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now },
      ],
    },
  });
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
}
