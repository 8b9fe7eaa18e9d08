import {
  downstreamNamespace,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  SOURCE_ANNOTATION,
  SOURCE_UID_LABEL,
  WORKSPACE_ANNOTATION,
} from '../../lib/api/labels';
import { objectKey, type ObjectRef } from '../../lib/api/object-ref';
import type { KubeObject } from '../../lib/kube/object';
import type { DecisionStore, StoredDecision } from '../../lib/ports/decision-store';
import { KubeHttp, KubeHttpError, retryTransient } from './kube-http';
import {
  APP_LABEL,
  CLUSTERS_PER_OBJECT,
  KINDS,
  NAMESPACE_GVR,
  OWNER_ANNOTATION,
  REVISION_ANNOTATION,
  type WorkloadKind,
} from './workload';
import { parseSourceAnnotation } from './protocol';

/**
 * The chaos suite's invariant checker. It reads kcp, every cluster (over their APIs, as the checker's own client) and
 * DynamoDB (the decisions), never tmc's API, and names every object involved in a violation. The end check is also the
 * convergence condition: the run has converged when it finds nothing.
 */

export const VIOLATION_KINDS = [
  // A source whose decision does not place it on CLUSTERS_PER_OBJECT clusters once every cluster is healthy.
  'unplaced',
  // A cluster of the decision without the copy, or with an older revision of it (a lost or never applied write).
  'missing-copy',
  'stale-copy',
  // A copy whose source is gone from kcp (deleted, or its namespace deleted).
  'leftover',
  // A copy on a cluster its decision does not name.
  'duplicate',
  // An object deleted in kcp (or in a deleted namespace) still there: its delete has not completed.
  'deletion-pending',
  // A copy deleted while kcp held its source and its decision still named that cluster.
  'wrongful-delete',
  // kcp showing a Deployment Available while a copy of its decision is missing, for longer than the grace.
  'status-lie',
  // A copy in the wrong downstream namespace or carrying the other workspace's content.
  'isolation',
  // An object on a cluster that tmc does not own, changed or deleted.
  'unowned-touched',
] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];

export interface Violation {
  kind: ViolationKind;
  workspace?: string;
  cluster?: string;
  resource: string;
  namespace?: string;
  name: string;
  detail: string;
  at: string;
}

interface Source {
  workspace: string;
  kind: WorkloadKind;
  object: KubeObject;
  ref: ObjectRef;
  /** The object or its namespace is being deleted: copies may still exist until the finalizer completes. */
  deleting: boolean;
}

interface Copy {
  cluster: string;
  kind: WorkloadKind;
  object: KubeObject;
}

export interface Snapshot {
  sources: Map<string, Source>;
  copies: Copy[];
  /** Clusters whose lists failed (down, partitioned): nothing is concluded about them. */
  unreadable: string[];
  decisions: Map<string, StoredDecision | undefined>;
  /** kcp namespaces being deleted, with what each still holds: a namespace must finish, not stay Terminating. */
  terminatingNamespaces: { workspace: string; name: string }[];
}

const sourceKey = (workspace: string, resource: string, namespace: string | undefined, name: string): string =>
  `${workspace}|${resource}|${namespace ?? ''}|${name}`;

function refOf(workspace: string, kind: WorkloadKind, object: KubeObject): ObjectRef {
  return {
    workspace,
    group: kind.gvr.group,
    version: kind.gvr.version,
    resource: kind.gvr.resource,
    kind: kind.kind,
    namespace: object.metadata.namespace,
    name: object.metadata.name ?? '',
  };
}

export function kindOfResource(resource: string): WorkloadKind | undefined {
  return KINDS.find((k) => k.gvr.resource === resource);
}

function isAvailable(object: KubeObject): boolean {
  const status = object.status;
  if (typeof status !== 'object' || status === null || !('conditions' in status) || !Array.isArray(status.conditions))
    return false;
  return status.conditions.some(
    (c: unknown) =>
      typeof c === 'object' &&
      c !== null &&
      'type' in c &&
      'status' in c &&
      c.type === 'Available' &&
      c.status === 'True',
  );
}

export class InvariantChecker {
  private readonly kcp: Record<string, KubeHttp>;
  private readonly clusters: Record<string, KubeHttp>;
  private readonly lieSince = new Map<string, number>();
  private readonly reportedLies = new Set<string>();
  private unowned: Array<{ cluster: string; namespace: string; name: string; uid: string; resourceVersion: string }> =
    [];

  constructor(
    kcpUrl: string,
    private readonly workspaces: readonly string[],
    clusterUrls: Record<string, string>,
    private readonly decisions: DecisionStore,
    private readonly statusGraceMs: number,
  ) {
    this.kcp = Object.fromEntries(
      workspaces.map((ws) => [ws, new KubeHttp(`${kcpUrl.replace(/\/+$/, '')}/clusters/${ws}`)]),
    );
    this.clusters = Object.fromEntries(Object.entries(clusterUrls).map(([name, url]) => [name, new KubeHttp(url)]));
  }

  /** Reads everything the invariants need. kcp must answer in full (a partial read of the truth proves nothing). */
  async snapshot(): Promise<Snapshot> {
    const sources = new Map<string, Source>();
    const terminatingNamespaces: Snapshot['terminatingNamespaces'] = [];
    for (const ws of this.workspaces) {
      const client = this.kcp[ws]!;
      const namespaces = await client.list(NAMESPACE_GVR);
      const terminating = new Set(
        namespaces.filter((n) => n.metadata.deletionTimestamp !== undefined).map((n) => n.metadata.name),
      );
      for (const name of terminating) if (name) terminatingNamespaces.push({ workspace: ws, name });
      for (const kind of KINDS) {
        for (const object of await client.list(kind.gvr, { labelSelector: APP_LABEL })) {
          const deleting =
            object.metadata.deletionTimestamp !== undefined || terminating.has(object.metadata.namespace);
          sources.set(sourceKey(ws, kind.gvr.resource, object.metadata.namespace, object.metadata.name ?? ''), {
            workspace: ws,
            kind,
            object,
            ref: refOf(ws, kind, object),
            deleting,
          });
        }
      }
    }
    const copies: Copy[] = [];
    const unreadable: string[] = [];
    await Promise.all(
      Object.entries(this.clusters).map(async ([cluster, client]) => {
        try {
          const found: Copy[] = [];
          for (const kind of KINDS) {
            for (const object of await client.list(kind.gvr, {
              labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${APP_LABEL}`,
            }))
              found.push({ cluster, kind, object });
          }
          copies.push(...found);
        } catch {
          // Down or partitioned (a fault of the run): this cluster is left out of this snapshot.
          unreadable.push(cluster);
        }
      }),
    );
    const decisions = await this.decisions.getMany([...sources.values()].map((s) => s.ref));
    return { sources, copies, unreadable, decisions, terminatingNamespaces };
  }

  /** Everything the converged state must satisfy; [] when converged. `now` stamps the violations. */
  evaluate(snapshot: Snapshot, now = Date.now()): Violation[] {
    const at = new Date(now).toISOString();
    const violations: Violation[] = [];
    // A copy is found where its source's workspace and namespace say it must be, carrying that workspace's name.
    const copyKey = (
      cluster: string,
      workspace: string,
      resource: string,
      namespace: string | undefined,
      name: string | undefined,
    ): string => `${cluster}|${workspace}|${resource}|${namespace ?? ''}|${name ?? ''}`;
    const copyIndex = new Map<string, Copy>();
    for (const copy of snapshot.copies) {
      const { annotations = {}, namespace, name } = copy.object.metadata;
      copyIndex.set(
        copyKey(copy.cluster, annotations[WORKSPACE_ANNOTATION] ?? '', copy.kind.gvr.resource, namespace, name),
        copy,
      );
    }
    const copyFor = (cluster: string, source: Source): Copy | undefined => {
      const { namespace, name } = source.object.metadata;
      return copyIndex.get(
        copyKey(
          cluster,
          source.workspace,
          source.kind.gvr.resource,
          namespace === undefined ? undefined : downstreamNamespace(source.workspace, namespace),
          name,
        ),
      );
    };
    const readable = (cluster: string): boolean => !snapshot.unreadable.includes(cluster);

    for (const ns of snapshot.terminatingNamespaces)
      violations.push({
        kind: 'deletion-pending',
        workspace: ns.workspace,
        resource: 'namespaces',
        name: ns.name,
        at,
        detail: 'the namespace is still Terminating in kcp',
      });
    for (const source of snapshot.sources.values()) {
      const { workspace } = source;
      const base = {
        workspace,
        resource: source.kind.gvr.resource,
        namespace: source.object.metadata.namespace,
        name: source.object.metadata.name ?? '',
        at,
      };
      if (source.deleting) {
        violations.push({
          ...base,
          kind: 'deletion-pending',
          detail: `deleted in kcp, finalizers ${JSON.stringify(source.object.metadata.finalizers ?? [])}`,
        });
        continue;
      }
      const decision = snapshot.decisions.get(objectKey(source.ref));
      const decided = decision?.clusters.map((c) => c.name) ?? [];
      if (decided.length !== CLUSTERS_PER_OBJECT) {
        violations.push({
          ...base,
          kind: 'unplaced',
          detail: decision
            ? `decided onto [${decided.join(', ')}] (${decision.reason}: ${decision.message})`
            : 'no decision recorded',
        });
      }
      const revision = source.object.metadata.annotations?.[REVISION_ANNOTATION];
      let missing = 0;
      for (const cluster of decided.filter(readable)) {
        const copy = copyFor(cluster, source);
        if (copy === undefined) {
          missing += 1;
          violations.push({
            ...base,
            kind: 'missing-copy',
            cluster,
            detail: `decision v${decision?.decisionVersion ?? '?'} names ${cluster}; no copy there`,
          });
        } else if (
          copy.object.metadata.annotations?.[REVISION_ANNOTATION] !== revision ||
          copy.object.metadata.labels?.[SOURCE_UID_LABEL] !== source.object.metadata.uid
        ) {
          violations.push({
            ...base,
            kind: 'stale-copy',
            cluster,
            detail: `revision ${copy.object.metadata.annotations?.[REVISION_ANNOTATION] ?? '-'} on ${cluster}, ${revision ?? '-'} in kcp`,
          });
        }
      }
      if (source.kind.kind === 'Deployment' && isAvailable(source.object) && (missing > 0 || decided.length === 0)) {
        violations.push({
          ...base,
          kind: 'status-lie',
          detail: `kcp shows Available; ${missing} of ${decided.length} decided copies missing`,
        });
      }
    }

    for (const copy of snapshot.copies) {
      const annotations = copy.object.metadata.annotations ?? {};
      const workspace = annotations[WORKSPACE_ANNOTATION] ?? '';
      const sourceName = parseSourceAnnotation(annotations[SOURCE_ANNOTATION]);
      const base = {
        workspace,
        cluster: copy.cluster,
        resource: copy.kind.gvr.resource,
        namespace: copy.object.metadata.namespace,
        name: copy.object.metadata.name ?? '',
        at,
      };
      if (sourceName === undefined) {
        violations.push({ ...base, kind: 'isolation', detail: `copy without a readable ${SOURCE_ANNOTATION}` });
        continue;
      }
      if (
        annotations[OWNER_ANNOTATION] !== workspace ||
        (sourceName.namespace !== undefined &&
          copy.object.metadata.namespace !== downstreamNamespace(workspace, sourceName.namespace))
      ) {
        violations.push({
          ...base,
          kind: 'isolation',
          detail: `copy of ${annotations[OWNER_ANNOTATION] ?? '?'}'s object under ${workspace}'s name in ${copy.object.metadata.namespace ?? '-'}`,
        });
        continue;
      }
      if (!this.workspaces.includes(workspace)) continue;
      const source = snapshot.sources.get(
        sourceKey(workspace, copy.kind.gvr.resource, sourceName.namespace, sourceName.name),
      );
      if (source === undefined || source.deleting) {
        violations.push({
          ...base,
          kind: 'leftover',
          detail: source ? 'its source is being deleted in kcp' : 'its source is gone from kcp',
        });
        continue;
      }
      const decision = snapshot.decisions.get(objectKey(source.ref));
      if (!decision?.clusters.some((c) => c.name === copy.cluster)) {
        violations.push({
          ...base,
          kind: 'duplicate',
          detail: decision
            ? `decision v${decision.decisionVersion} names [${decision.clusters.map((c) => c.name).join(', ')}]`
            : 'no decision recorded for its source',
        });
      }
    }
    return violations;
  }

  /**
   * During the run: kcp showing a Deployment Available while a decided copy is missing is a lie only once it outlasts
   * the grace (status catches up by the backstop and the sweep); each such object is reported once.
   */
  persistentStatusLies(violations: readonly Violation[], now = Date.now()): Violation[] {
    const current = new Set<string>();
    const lies: Violation[] = [];
    for (const v of violations) {
      if (v.kind !== 'status-lie') continue;
      const key = `${v.workspace}|${v.namespace}|${v.name}`;
      current.add(key);
      const since = this.lieSince.get(key) ?? now;
      this.lieSince.set(key, since);
      if (now - since > this.statusGraceMs && !this.reportedLies.has(key)) {
        this.reportedLies.add(key);
        lies.push({ ...v, detail: `${v.detail}, for ${Math.round((now - since) / 1000)} s` });
      }
    }
    for (const key of [...this.lieSince.keys()]) if (!current.has(key)) this.lieSince.delete(key);
    return lies;
  }

  /** Objects tmc does not own, created on every cluster at the start: they must be exactly as created at the end. */
  async createUnowned(): Promise<void> {
    for (const [cluster, client] of Object.entries(this.clusters)) {
      // Tried again on a loaded machine's timeouts; a create that was stored answers 409 and is read back.
      const createOrRead = async (gvr: typeof NAMESPACE_GVR, object: KubeObject): Promise<KubeObject> => {
        try {
          return await client.create(gvr, object);
        } catch (err) {
          const existing =
            err instanceof KubeHttpError && err.status === 409
              ? await client.get(gvr, object.metadata.namespace, object.metadata.name ?? '')
              : undefined;
          if (existing === undefined) throw err;
          return existing;
        }
      };
      await retryTransient(`namespace chaos-unowned on ${cluster}`, () =>
        createOrRead(NAMESPACE_GVR, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'chaos-unowned' } }),
      );
      for (let i = 0; i < 3; i++) {
        // The second carries the workload's app label: tmc must tell ownership by its own labels, not by look-alikes.
        const created = await retryTransient(`ConfigMap keep-${i} on ${cluster}`, () =>
          createOrRead(KINDS[0]!.gvr, {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: {
              name: `keep-${i}`,
              namespace: 'chaos-unowned',
              ...(i === 1 ? { labels: { [APP_LABEL]: 'keep' } } : {}),
            },
            data: { owner: 'someone-else' },
          }),
        );
        this.unowned.push({
          cluster,
          namespace: 'chaos-unowned',
          name: `keep-${i}`,
          uid: created.metadata.uid ?? '',
          resourceVersion: created.metadata.resourceVersion ?? '',
        });
      }
    }
  }

  async checkUnowned(): Promise<Violation[]> {
    const at = new Date().toISOString();
    const violations: Violation[] = [];
    for (const expected of this.unowned) {
      const client = this.clusters[expected.cluster]!;
      const object = await retryTransient(`reading ${expected.name} on ${expected.cluster}`, () =>
        client.get(KINDS[0]!.gvr, expected.namespace, expected.name),
      );
      const base = {
        kind: 'unowned-touched' as const,
        cluster: expected.cluster,
        resource: 'configmaps',
        namespace: expected.namespace,
        name: expected.name,
        at,
      };
      if (object === undefined) violations.push({ ...base, detail: 'deleted' });
      else if (object.metadata.uid !== expected.uid || object.metadata.resourceVersion !== expected.resourceVersion) {
        violations.push({
          ...base,
          detail: `changed: resourceVersion ${expected.resourceVersion} → ${object.metadata.resourceVersion ?? '-'}`,
        });
      }
    }
    return violations;
  }
}
