import { MANAGED_BY_LABEL, STATE_LABEL_PREFIX, SYNC_FINALIZER } from '../api/labels';
import { ConflictError } from '../errors/tmc-error';
import type { KubeClient, KubeObject, ResourceType } from '../ports/kube-client';
import { uninstallWebhooks, type InstalledWebhook, type UninstallWebhooksOptions } from './install';

/** What `tmc uninstall` did, and what it left where it runs. */
export interface UninstallTmcReport {
  webhooks: InstalledWebhook[];
  /** kcp objects whose tmc finalizer (and `state.workload.kcp.io/*` labels) were removed. */
  released: number;
  /** Objects tmc applied that were deleted on each cluster (only with `purge`). */
  purged: Record<string, number>;
  /** Objects tmc applied that were left running on each cluster (without `purge`). */
  leftRunning: Record<string, number>;
}

export interface UninstallTmcOptions extends UninstallWebhooksOptions {
  /** Delete what tmc applied on the clusters too; without it, running workloads stay where they are. */
  purge?: boolean;
}

// Types whose objects are not workloads tmc placed, and types that cannot be listed (reviews, bindings).
const SKIPPED_GROUPS = new Set([
  'apiextensions.k8s.io',
  'admissionregistration.k8s.io',
  'apiregistration.k8s.io',
  'authorization.k8s.io',
  'authentication.k8s.io',
  'events.k8s.io',
  'coordination.k8s.io',
]);
const skipped = (t: ResourceType): boolean =>
  SKIPPED_GROUPS.has(t.group) ||
  (t.group === '' && t.resource === 'events') ||
  (t.verbs !== undefined && !t.verbs.includes('list'));

/** kcp's metadata without tmc: its finalizer gone and its state labels set to null (removed by the merge patch). */
function releasePatch(object: KubeObject): Record<string, unknown> | undefined {
  const finalizers = object.metadata.finalizers ?? [];
  const stateLabels = Object.keys(object.metadata.labels ?? {}).filter((k) => k.startsWith(STATE_LABEL_PREFIX));
  if (!finalizers.includes(SYNC_FINALIZER) && stateLabels.length === 0) return undefined;
  return {
    metadata: {
      resourceVersion: object.metadata.resourceVersion,
      ...(finalizers.includes(SYNC_FINALIZER) ? { finalizers: finalizers.filter((f) => f !== SYNC_FINALIZER) } : {}),
      ...(stateLabels.length > 0 ? { labels: Object.fromEntries(stateLabels.map((k) => [k, null])) } : {}),
    },
  };
}

/** Removes tmc from one object, re-reading it once when it changed under the patch. */
async function release(kcp: KubeClient, type: ResourceType, object: KubeObject): Promise<boolean> {
  const name = { ...type, namespace: object.metadata.namespace, name: object.metadata.name ?? '' };
  let current: KubeObject | undefined = object;
  for (let attempt = 0; attempt < 3 && current; attempt++) {
    const patch = releasePatch(current);
    if (patch === undefined) return false;
    try {
      await kcp.mergePatch(name, patch);
      return true;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      current = await kcp.get(name);
    }
  }
  if (current && releasePatch(current) !== undefined)
    throw new ConflictError(
      `${type.resource} ${name.namespace ?? ''}/${name.name} kept changing; run tmc uninstall again`,
    );
  return false;
}

/**
 * Takes tmc out of a kcp workspace and its clusters: first the webhooks (so nothing adds tmc's finalizer again), then
 * tmc's finalizer and placement labels from every object in the workspace (a delete no longer waits for tmc). What tmc
 * applied on the clusters keeps running unless `purge` is set, which deletes every object labelled
 * `tmc.kcp.io/managed-by=tmc` there. A failed list or patch fails the whole run (run it again; every step is
 * idempotent); nothing is deleted on the evidence of a partial list.
 */
export async function uninstallTmc(
  options: UninstallTmcOptions & { clients: { kcp: KubeClient; clusters?: Record<string, KubeClient> } },
): Promise<UninstallTmcReport> {
  const { webhooks } = await uninstallWebhooks(options);
  const kcp = options.clients.kcp;
  let released = 0;
  for (const type of (await kcp.resources({ refresh: true })).filter((t) => !skipped(t))) {
    for (const object of await kcp.list(type)) if (await release(kcp, type, object)) released += 1;
  }
  const purged: Record<string, number> = {};
  const leftRunning: Record<string, number> = {};
  for (const [cluster, client] of Object.entries(options.clients.clusters ?? {})) {
    let count = 0;
    for (const type of (await client.resources({ refresh: true })).filter((t) => !skipped(t))) {
      const managed = await client.list(type, { labelSelector: `${MANAGED_BY_LABEL}=tmc` });
      for (const object of managed) {
        if (options.purge)
          await client.delete({ ...type, namespace: object.metadata.namespace, name: object.metadata.name ?? '' });
        count += 1;
      }
    }
    (options.purge ? purged : leftRunning)[cluster] = count;
  }
  return { webhooks, released, purged, leftRunning };
}
