import { systemClock, type Clock } from '../ports/clock';
import {
  LocationSchema,
  LOCATION_RESOURCE,
  PlacementSchema,
  PLACEMENT_RESOURCE,
  SCHEDULING_GROUP,
  SCHEDULING_VERSION,
  type Location,
  type Placement,
} from '../api/crds';
import type { KubeConnector, KubeObject } from '../ports/kube-client';
import type { Log } from '../observability/log';

export interface WorkspacePolicies {
  placements: Placement[];
  locations: Location[];
}

/** Placements, Locations and namespace labels of a workspace, as the engine needs them. */
export interface PolicySource {
  load(workspace: string): Promise<WorkspacePolicies>;
  namespaceLabels(workspace: string, namespace: string): Promise<Record<string, string> | undefined>;
  /** The kcp Namespace itself (cached like its labels); undefined when kcp has none. */
  namespace(workspace: string, namespace: string): Promise<KubeObject | undefined>;
  /** Drops a workspace's cached policies (a Placement or Location changed), or with `namespace` that cached Namespace. */
  invalidate(workspace: string, namespace?: string): void;
}

/**
 * Reads policies from kcp and caches them per container for `ttlMs`: a batch of ten messages from one workspace
 * lists Placements once, not ten times; a Placement change invalidates at once in the container that sees it, and
 * other containers within ttlMs (the placement-change fan-out runs after that, so it sees the new policy).
 */
export function makePolicySource(
  kube: KubeConnector,
  log: Log,
  options: { ttlMs?: number; now?: Clock } = {},
): PolicySource {
  const ttl = options.ttlMs ?? 5000;
  const now = options.now ?? systemClock;
  const policies = new Map<string, { at: number; value: Promise<WorkspacePolicies> }>();
  const namespaces = new Map<string, { at: number; value: Promise<KubeObject | undefined> }>();

  async function read(workspace: string): Promise<WorkspacePolicies> {
    const kcp = await kube.kcp(workspace);
    const gv = { group: SCHEDULING_GROUP, version: SCHEDULING_VERSION };
    // Any failure (503, 429, timeout, even a 404 on the collection) rejects: decisions computed as if the workspace
    // had no Placements would move objects and delete copies. The message is retried; only a successful read is truth.
    const [rawPlacements, rawLocations] = await Promise.all([
      kcp.list({ ...gv, resource: PLACEMENT_RESOURCE }),
      kcp.list({ ...gv, resource: LOCATION_RESOURCE }),
    ]);
    const placements: Placement[] = [];
    for (const raw of rawPlacements) {
      const parsed = PlacementSchema.safeParse(raw);
      // Admission denies invalid Placements; one that slipped in (webhook down, failurePolicy Ignore) is skipped, loudly.
      if (parsed.success) placements.push(parsed.data);
      else
        log.warn('Skipping an invalid Placement', {
          workspace,
          name: raw.metadata.name,
          issues: parsed.error.issues.length,
        });
    }
    const locations: Location[] = [];
    for (const raw of rawLocations) {
      const parsed = LocationSchema.safeParse(raw);
      if (parsed.success) locations.push(parsed.data);
    }
    return { placements, locations };
  }

  function readNamespace(workspace: string, namespace: string): Promise<KubeObject | undefined> {
    const key = `${workspace}/${namespace}`;
    const hit = namespaces.get(key);
    if (hit && now() - hit.at < ttl) return hit.value;
    const value = kube
      .kcp(workspace)
      .then((kcp) => kcp.get({ group: '', version: 'v1', resource: 'namespaces', name: namespace }));
    namespaces.set(key, { at: now(), value });
    value.catch(() => namespaces.delete(key));
    return value;
  }

  return {
    load(workspace) {
      const hit = policies.get(workspace);
      if (hit && now() - hit.at < ttl) return hit.value;
      const value = read(workspace);
      policies.set(workspace, { at: now(), value });
      value.catch(() => policies.delete(workspace));
      return value;
    },
    namespace: readNamespace,
    async namespaceLabels(workspace, namespace) {
      const ns = await readNamespace(workspace, namespace);
      return ns ? (ns.metadata.labels ?? {}) : undefined;
    },
    invalidate(workspace, namespace) {
      if (namespace !== undefined) namespaces.delete(`${workspace}/${namespace}`);
      else policies.delete(workspace);
    },
  };
}
