/**
 * Where a kind keeps its pod spec. Overrides (image, env) and dependency discovery (ConfigMaps, Secrets, …) both
 * need it; kinds not listed fall back to `spec.template.spec`, the shape most workload CRDs copy.
 */
export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function at(root: unknown, path: string[]): JsonObject | undefined {
  let cur: unknown = root;
  for (const key of path) {
    if (!isJsonObject(cur)) return undefined;
    cur = cur[key];
  }
  return isJsonObject(cur) ? cur : undefined;
}

/** The (mutable) pod spec inside `object`, or undefined for kinds without one. */
export function podSpecOf(object: JsonObject & { kind?: unknown }): JsonObject | undefined {
  switch (object.kind) {
    case 'Pod':
      return at(object, ['spec']);
    case 'CronJob':
      return at(object, ['spec', 'jobTemplate', 'spec', 'template', 'spec']);
    default:
      return at(object, ['spec', 'template', 'spec']);
  }
}

/** Every container of a pod spec, init and ephemeral ones included (they reference ConfigMaps and Secrets too). */
export function containersOf(podSpec: JsonObject): JsonObject[] {
  const lists = [podSpec.containers, podSpec.initContainers, podSpec.ephemeralContainers];
  return lists.flatMap((list) => (Array.isArray(list) ? list.filter(isJsonObject) : []));
}
