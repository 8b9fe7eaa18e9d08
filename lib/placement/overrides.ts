import type { KubeObject } from '../kube/object';
import type { JsonPatchOperation, Override } from '../api/crds';

/** Where the pod spec lives in the common workload kinds (image and env overrides patch its containers). */
function podSpecPath(object: KubeObject): string | undefined {
  const spec = object.spec as Record<string, unknown> | undefined;
  if (!spec) return undefined;
  if (object.kind === 'Pod') return '/spec';
  if (object.kind === 'CronJob') return '/spec/jobTemplate/spec/template/spec';
  return typeof spec.template === 'object' ? '/spec/template/spec' : undefined;
}

function readPath(object: KubeObject, pointer: string): unknown {
  let node: unknown = object;
  for (const part of pointer.split('/').slice(1)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** RFC 6901: `~` and `/` in a key. */
export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

interface Container {
  name?: string;
  env?: Array<{ name: string }>;
}

/** Whether an override changes this object: `kinds` scopes it (Karmada's resourceSelectors); absent, every kind. */
export function overrideAppliesTo(object: KubeObject, override: Pick<Override, 'kinds'>): boolean {
  return override.kinds === undefined || override.kinds.includes(object.kind);
}

/**
 * One override as RFC 6902 operations against this object, so sync-apply needs nothing but a JSON patch library.
 * `replicas` is not a patch: it replaces the cluster's share in the decision. An override scoped to other kinds
 * yields no operations.
 */
export function overrideToPatch(object: KubeObject, override: Override): JsonPatchOperation[] {
  if (!overrideAppliesTo(object, override)) return [];
  const ops: JsonPatchOperation[] = [];
  if (override.labels) {
    const existing = object.metadata.labels;
    if (!existing) ops.push({ op: 'add', path: '/metadata/labels', value: { ...override.labels } });
    else
      for (const [k, v] of Object.entries(override.labels))
        ops.push({ op: 'add', path: `/metadata/labels/${escapePointer(k)}`, value: v });
  }
  const podPath = podSpecPath(object);
  const containers = podPath ? (readPath(object, `${podPath}/containers`) as Container[] | undefined) : undefined;
  if (podPath && Array.isArray(containers)) {
    containers.forEach((container, i) => {
      const base = `${podPath}/containers/${i}`;
      for (const img of override.image ?? []) {
        if (img.container === undefined || img.container === container.name)
          ops.push({ op: 'replace', path: `${base}/image`, value: img.image });
      }
      const envs = (override.env ?? []).filter((e) => e.container === undefined || e.container === container.name);
      if (envs.length === 0) return;
      if (!Array.isArray(container.env)) {
        ops.push({ op: 'add', path: `${base}/env`, value: envs.map((e) => ({ name: e.name, value: e.value })) });
        return;
      }
      for (const e of envs) {
        const j = container.env.findIndex((x) => x.name === e.name);
        if (j >= 0) ops.push({ op: 'replace', path: `${base}/env/${j}`, value: { name: e.name, value: e.value } });
        else ops.push({ op: 'add', path: `${base}/env/-`, value: { name: e.name, value: e.value } });
      }
    });
  }
  for (const op of override.jsonPatch ?? []) ops.push(op);
  return ops;
}
