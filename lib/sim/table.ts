import type { KubeObject } from './contracts';
import type { ResourceInfo } from './resource-catalog';

interface Column {
  name: string;
  type: string;
  format?: string;
  cell: (obj: KubeObject) => unknown;
  priority?: number;
}

/** `kubectl get` asks for `as=Table`. */
export function wantsTable(accept: string | undefined): boolean {
  return Boolean(accept && /as=Table/.test(accept));
}

export function age(timestamp: string | undefined): string {
  if (!timestamp) return '<unknown>';
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(timestamp)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** The subset of JSONPath CRD printer columns use: `.a.b`, `[0]`, `[?(@.type=="Ready")]`. */
export function evaluateJsonPath(obj: unknown, path: string): unknown {
  const tokens = path.match(/\.[^.[\]]+|\[\?\(@\.[^=]+==["'][^"']*["']\)\]|\[\d+\]/g) ?? [];
  let cur: unknown = obj;
  for (const t of tokens) {
    if (cur === undefined || cur === null) return undefined;
    if (t.startsWith('.')) cur = (cur as Record<string, unknown>)[t.slice(1)];
    else if (/^\[\d+\]$/.test(t)) cur = Array.isArray(cur) ? cur[Number(t.slice(1, -1))] : undefined;
    else {
      const m = t.match(/^\[\?\(@\.([^=]+)==["']([^"']*)["']\)\]$/);
      cur = Array.isArray(cur) && m ? cur.find((item) => String((item as Record<string, unknown>)?.[m[1]]) === m[2]) : undefined;
    }
  }
  return cur;
}

function s(obj: KubeObject, path: string): Record<string, any> {
  return (evaluateJsonPath(obj, path) ?? {}) as Record<string, any>;
}

const BUILTIN_COLUMNS: Record<string, Column[]> = {
  deployments: [
    { name: 'Ready', type: 'string', cell: (o) => `${s(o, '.status').readyReplicas ?? 0}/${s(o, '.spec').replicas ?? 1}` },
    { name: 'Up-to-date', type: 'integer', cell: (o) => s(o, '.status').updatedReplicas ?? 0 },
    { name: 'Available', type: 'integer', cell: (o) => s(o, '.status').availableReplicas ?? 0 },
  ],
  statefulsets: [{ name: 'Ready', type: 'string', cell: (o) => `${s(o, '.status').readyReplicas ?? 0}/${s(o, '.spec').replicas ?? 1}` }],
  daemonsets: [
    { name: 'Desired', type: 'integer', cell: (o) => s(o, '.status').desiredNumberScheduled ?? 0 },
    { name: 'Ready', type: 'integer', cell: (o) => s(o, '.status').numberReady ?? 0 },
  ],
  jobs: [
    { name: 'Status', type: 'string', cell: (o) => ((s(o, '.status').conditions ?? []).some((c: any) => c.type === 'Complete' && c.status === 'True') ? 'Complete' : 'Running') },
    { name: 'Completions', type: 'string', cell: (o) => `${s(o, '.status').succeeded ?? 0}/${s(o, '.spec').completions ?? 1}` },
  ],
  pods: [
    { name: 'Ready', type: 'string', cell: (o) => `${(s(o, '.status').containerStatuses ?? []).filter((c: any) => c.ready).length}/${(s(o, '.spec').containers ?? []).length}` },
    { name: 'Status', type: 'string', cell: (o) => s(o, '.status').phase ?? 'Pending' },
  ],
  namespaces: [{ name: 'Status', type: 'string', cell: (o) => s(o, '.status').phase ?? 'Active' }],
  configmaps: [{ name: 'Data', type: 'integer', cell: (o) => Object.keys((o as Record<string, any>).data ?? {}).length }],
  secrets: [
    { name: 'Type', type: 'string', cell: (o) => (o as Record<string, any>).type ?? 'Opaque' },
    { name: 'Data', type: 'integer', cell: (o) => Object.keys((o as Record<string, any>).data ?? {}).length },
  ],
  services: [
    { name: 'Type', type: 'string', cell: (o) => s(o, '.spec').type ?? 'ClusterIP' },
    { name: 'Cluster-IP', type: 'string', cell: (o) => s(o, '.spec').clusterIP ?? '<none>' },
  ],
};

function columnsFor(info: ResourceInfo): Column[] {
  const name: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name };
  const ageCol: Column = { name: 'Age', type: 'string', cell: (o) => age(o.metadata.creationTimestamp) };
  if (info.printerColumns) {
    const custom = info.printerColumns.map<Column>((c) => ({
      name: c.name,
      type: c.type,
      priority: c.priority,
      cell: (o) => {
        const v = evaluateJsonPath(o, c.jsonPath);
        if (c.type === 'date') return typeof v === 'string' ? age(v) : '<unknown>';
        return v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : v;
      },
    }));
    return [name, ...custom, ageCol];
  }
  return [name, ...(BUILTIN_COLUMNS[info.resource] ?? []), ageCol];
}

export function toTable(info: ResourceInfo, objects: KubeObject[], resourceVersion: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const cols = columnsFor(info);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion, ...extra },
    columnDefinitions: cols.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: '', priority: c.priority ?? 0 })),
    rows: objects.map((o) => ({
      cells: cols.map((c) => c.cell(o)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}
