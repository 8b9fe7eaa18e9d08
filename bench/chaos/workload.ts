import type { KubeObject } from '../../lib/kube/object';
import { type Gvr, KubeHttp, KubeHttpError, retryTransient } from './kube-http';
import type { Prng } from './prng';

/**
 * The chaos suite's workload: apps (a Deployment with its ConfigMap and Secret, a Service and a Widget custom
 * resource) in three namespaces of two workspaces, the same namespace and app names in both, so that their copies
 * meet on one cluster. It keeps writing at a steady rate while faults come and go: creates, updates, deletes of an
 * object or a whole app, and now and then a namespace delete. Every source carries the annotations the invariant
 * checker compares with the copies.
 */

export const APP_LABEL = 'chaos.tmc.dev/app';
export const REVISION_ANNOTATION = 'chaos.tmc.dev/revision';
export const OWNER_ANNOTATION = 'chaos.tmc.dev/workspace';
export const NAMESPACE_LABEL = 'chaos.tmc.dev/namespace';
export const PLACEMENT_NAME = 'chaos';
/** Clusters every object is placed on (of the three): a cluster's outage past evictAfter moves work to the third. */
export const CLUSTERS_PER_OBJECT = 2;
export const NAMESPACES = ['shop', 'billing', 'search'] as const;

export interface WorkloadKind {
  gvr: Gvr;
  kind: string;
  apiVersion: string;
  /** Part of an app's name: `<app>` or `<app>-config`. */
  suffix: string;
}

export const WIDGET_GVR: Gvr = { group: 'chaos.tmc.dev', version: 'v1', resource: 'widgets' };

export const KINDS: readonly WorkloadKind[] = [
  { gvr: { group: '', version: 'v1', resource: 'configmaps' }, kind: 'ConfigMap', apiVersion: 'v1', suffix: '-config' },
  { gvr: { group: '', version: 'v1', resource: 'secrets' }, kind: 'Secret', apiVersion: 'v1', suffix: '-secret' },
  {
    gvr: { group: 'apps', version: 'v1', resource: 'deployments' },
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    suffix: '',
  },
  { gvr: { group: '', version: 'v1', resource: 'services' }, kind: 'Service', apiVersion: 'v1', suffix: '' },
  { gvr: WIDGET_GVR, kind: 'Widget', apiVersion: 'chaos.tmc.dev/v1', suffix: '' },
];

/** The Widget CRD, applied to both workspaces and every cluster (a CRD-backed kind syncs once it exists on both). */
export const WIDGET_CRD: KubeObject = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.chaos.tmc.dev' },
  spec: {
    group: 'chaos.tmc.dev',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        },
      },
    ],
  },
};
export const CRD_GVR: Gvr = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' };
export const NAMESPACE_GVR: Gvr = { group: '', version: 'v1', resource: 'namespaces' };
export const PLACEMENT_GVR: Gvr = { group: 'scheduling.kcp.io', version: 'v1alpha1', resource: 'placements' };

function sourceObject(
  kind: WorkloadKind,
  workspace: string,
  namespace: string,
  app: string,
  revision: number,
): KubeObject {
  const metadata = {
    name: `${app}${kind.suffix}`,
    namespace,
    labels: { [APP_LABEL]: app },
    annotations: { [REVISION_ANNOTATION]: String(revision), [OWNER_ANNOTATION]: workspace },
  };
  const base = { apiVersion: kind.apiVersion, kind: kind.kind, metadata };
  switch (kind.kind) {
    case 'ConfigMap':
      return { ...base, data: { owner: workspace, revision: String(revision) } };
    case 'Secret':
      return {
        ...base,
        type: 'Opaque',
        data: { token: Buffer.from(`${workspace}/${app}/${revision}`).toString('base64') },
      };
    case 'Deployment':
      return {
        ...base,
        spec: {
          replicas: 1 + (revision % 2),
          selector: { matchLabels: { app } },
          template: {
            metadata: { labels: { app } },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: `nginx:1.${20 + (revision % 8)}`,
                  envFrom: [{ configMapRef: { name: `${app}-config` } }, { secretRef: { name: `${app}-secret` } }],
                },
              ],
            },
          },
        },
      };
    case 'Service':
      return {
        ...base,
        spec: { selector: { app }, ports: [{ name: 'http', port: 80, targetPort: 8080 + (revision % 3) }] },
      };
    default:
      return { ...base, spec: { size: revision, owner: workspace } };
  }
}

/** What an update changes, besides the revision annotation. */
function updatePatch(kind: WorkloadKind, workspace: string, app: string, revision: number): Record<string, unknown> {
  const object = sourceObject(kind, workspace, '', app, revision);
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = object;
  return { metadata: { annotations: { [REVISION_ANNOTATION]: String(revision) } }, ...rest };
}

interface AppRecord {
  workspace: string;
  namespace: string;
  app: string;
  /** Kinds of this app that exist (as far as the writer knows). */
  kinds: Set<string>;
}

export interface WorkloadCounters {
  creates: number;
  updates: number;
  deletes: number;
  namespaceDeletes: number;
  /** Writes kcp refused (during faults: expected; the writer moves on). */
  failed: number;
}

export class Workload {
  private readonly apps = new Map<string, AppRecord>();
  private readonly terminating = new Set<string>();
  private nextApp = 0;
  private revision = 1;
  readonly counters: WorkloadCounters = { creates: 0, updates: 0, deletes: 0, namespaceDeletes: 0, failed: 0 };
  private readonly clients: Record<string, KubeHttp>;

  constructor(
    private readonly kcpUrl: string,
    readonly workspaces: readonly string[],
    private readonly random: Prng,
    private readonly log: (line: string, fields?: Record<string, unknown>) => void,
  ) {
    this.clients = Object.fromEntries(
      workspaces.map((ws) => [ws, new KubeHttp(`${kcpUrl.replace(/\/+$/, '')}/clusters/${ws}`)]),
    );
  }

  kcp(workspace: string): KubeHttp {
    const client = this.clients[workspace];
    if (!client) throw new Error(`No workspace ${workspace} in this workload`);
    return client;
  }

  /** The namespaces (labelled for the chaos Placement) and the first apps, the same names in both workspaces. */
  async seed(apps: number): Promise<void> {
    // A loaded machine times requests out: each step is tried again (a create that was stored answers 409).
    for (const ws of this.workspaces)
      for (const ns of NAMESPACES) await retryTransient(`namespace ${ns} in ${ws}`, () => this.ensureNamespace(ws, ns));
    for (let i = 0; i < apps; i++) {
      const app = `app-${this.nextApp++}`;
      const namespace = NAMESPACES[i % NAMESPACES.length]!;
      for (const ws of this.workspaces)
        await retryTransient(`${app} in ${ws}`, () => this.createApp(ws, namespace, app));
    }
  }

  private key(workspace: string, namespace: string, app: string): string {
    return `${workspace}|${namespace}|${app}`;
  }

  private async ensureNamespace(workspace: string, namespace: string): Promise<boolean> {
    const existing = await this.kcp(workspace).get(NAMESPACE_GVR, undefined, namespace);
    if (existing?.metadata.deletionTimestamp !== undefined) return false;
    if (existing === undefined) {
      await this.kcp(workspace).create(NAMESPACE_GVR, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: namespace, labels: { chaos: 'true', [NAMESPACE_LABEL]: namespace } },
      });
    }
    this.terminating.delete(`${workspace}|${namespace}`);
    return true;
  }

  private async createApp(workspace: string, namespace: string, app: string): Promise<void> {
    const record: AppRecord = { workspace, namespace, app, kinds: new Set() };
    this.apps.set(this.key(workspace, namespace, app), record);
    const revision = this.revision++;
    for (const kind of KINDS) {
      try {
        await this.kcp(workspace).create(kind.gvr, sourceObject(kind, workspace, namespace, app, revision));
      } catch (err) {
        // A create that timed out may have been stored: its retry's 409 means it exists.
        if (!(err instanceof KubeHttpError && err.status === 409)) throw err;
      }
      record.kinds.add(kind.kind);
      this.counters.creates += 1;
    }
  }

  /** One write drawn from the PRNG; a refused write is counted and the model corrected, never retried blindly. */
  async step(): Promise<void> {
    const op = this.random.weighted([
      ['update', 10],
      ['create', 4],
      ['delete-object', 3],
      ['delete-app', 2],
      ['delete-namespace', 0.3],
    ] as const);
    const records = [...this.apps.values()].filter((r) => !this.terminating.has(`${r.workspace}|${r.namespace}`));
    let chosen: AppRecord | undefined;
    try {
      if (op === 'create' || records.length === 0) {
        const workspace = this.random.pick(this.workspaces);
        const namespace = this.random.pick(NAMESPACES);
        const app = `app-${this.nextApp++}`;
        // Half the new apps go to both workspaces under the same namespace and name.
        const targets = this.random.chance(0.5) ? this.workspaces : [workspace];
        for (const ws of targets)
          if (await this.ensureNamespace(ws, namespace)) await this.createApp(ws, namespace, app);
        return;
      }
      const record = this.random.pick(records);
      chosen = record;
      const client = this.kcp(record.workspace);
      if (op === 'update') {
        const present = KINDS.filter((k) => record.kinds.has(k.kind));
        if (present.length === 0) return;
        const kind = this.random.pick(present);
        const revision = this.revision++;
        await client.mergePatch(
          kind.gvr,
          record.namespace,
          `${record.app}${kind.suffix}`,
          updatePatch(kind, record.workspace, record.app, revision),
        );
        this.counters.updates += 1;
      } else if (op === 'delete-object') {
        // Only kinds nothing else depends on: a Deployment keeps its ConfigMap and Secret.
        const kind = this.random.pick(
          KINDS.filter((k) => (k.kind === 'Service' || k.kind === 'Widget') && record.kinds.has(k.kind)).concat(
            KINDS[3]!,
          ),
        );
        await client.delete(kind.gvr, record.namespace, `${record.app}${kind.suffix}`);
        record.kinds.delete(kind.kind);
        this.counters.deletes += 1;
      } else if (op === 'delete-app') {
        for (const kind of [...KINDS].reverse())
          await client.delete(kind.gvr, record.namespace, `${record.app}${kind.suffix}`);
        this.apps.delete(this.key(record.workspace, record.namespace, record.app));
        this.counters.deletes += KINDS.length;
      } else {
        this.log('Deleting namespace', { workspace: record.workspace, namespace: record.namespace });
        await client.delete(NAMESPACE_GVR, undefined, record.namespace);
        this.terminating.add(`${record.workspace}|${record.namespace}`);
        for (const [key, r] of this.apps)
          if (r.workspace === record.workspace && r.namespace === record.namespace) this.apps.delete(key);
        this.counters.namespaceDeletes += 1;
      }
    } catch (err) {
      this.counters.failed += 1;
      if (err instanceof KubeHttpError && err.status === 404) {
        // The writer's model was behind (a namespace delete took it): forget the app.
        if (chosen) this.apps.delete(this.key(chosen.workspace, chosen.namespace, chosen.app));
      } else if (
        !(err instanceof KubeHttpError) &&
        !(err instanceof Error && (err.name === 'TimeoutError' || err.name === 'TypeError'))
      ) {
        throw err;
      }
    }
  }
}
