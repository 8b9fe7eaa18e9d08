import type { KubeObject } from '../kube/object';
import { findJsonPathResults } from './jsonpath';
import { describeLabelSelector, isEmptyLabelSelector, type LabelSelector } from './label-selector';
import type { ResourceInfo } from './resource-info';

/** A cell: `null` is what apiextensions-apiserver sends for a missing CRD column value; kubectl prints it empty. */
export type Cell = string | number | boolean | null;

/** One Table column: how kube-apiserver's printers describe it, and how to compute its cell from an object. */
export interface TableColumn {
  name: string;
  type: string;
  format?: string;
  /** 0: always shown; 1: only with `-o wide`. */
  priority?: number;
  cell: (obj: KubeObject) => Cell;
}

type Column = TableColumn;

/** `kubectl get` asks for `as=Table`. */
export function wantsTable(accept: string | undefined): boolean {
  return Boolean(accept && /as=Table/.test(accept));
}

/** k8s.io/apimachinery's duration.HumanDuration: the AGE kubectl shows (`5m30s`, `3h10m`, `9d`). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8)
    return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8)
    return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

/** The age of a timestamp as kubectl prints it; `<unknown>` for none, as metatable.ConvertToHumanReadableDateType. */
export function age(timestamp: unknown): string {
  if (typeof timestamp !== 'string' || timestamp === '') return '<unknown>';
  const at = Date.parse(timestamp);
  if (Number.isNaN(at)) return '<invalid>';
  return humanDuration(Date.now() - at);
}

function record(v: unknown): Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, any>) : {};
}

function list(v: unknown): any[] {
  return Array.isArray(v) ? v : [];
}

const spec = (o: KubeObject): Record<string, any> => record(o.spec);
const status = (o: KubeObject): Record<string, any> => record(o.status);
const podSpecOf = (o: KubeObject): Record<string, any> => record(record(spec(o).template).spec);
/** What kube-apiserver's built-in printers write for an absent value. */
const NONE = '<none>';
const orNone = (s: string): Cell => (s === '' ? NONE : s);

function selectorText(selector: unknown): Cell {
  const sel = record(selector);
  const described: LabelSelector = {
    matchLabels: Object.fromEntries(Object.entries(record(sel.matchLabels)).map(([k, v]) => [k, String(v)])),
    // kube-apiserver prints only the four operators it knows.
    matchExpressions: list(sel.matchExpressions)
      .map(record)
      .filter((r) => ['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(String(r.operator)))
      .map((r) => ({ key: String(r.key), operator: String(r.operator), values: list(r.values).map(String) })),
  };
  return isEmptyLabelSelector(described) ? NONE : describeLabelSelector(described);
}

const containersCol: Column = {
  name: 'Containers',
  type: 'string',
  priority: 1,
  cell: (o) =>
    orNone(
      list(podSpecOf(o).containers)
        .map((c) => record(c).name)
        .join(','),
    ),
};
const imagesCol: Column = {
  name: 'Images',
  type: 'string',
  priority: 1,
  cell: (o) =>
    orNone(
      list(podSpecOf(o).containers)
        .map((c) => record(c).image)
        .join(','),
    ),
};
const selectorCol: Column = {
  name: 'Selector',
  type: 'string',
  priority: 1,
  cell: (o) => selectorText(spec(o).selector),
};
const createdAt: Column = { name: 'Created At', type: 'date', cell: (o) => o.metadata.creationTimestamp ?? NONE };
const ageCol: Column = { name: 'Age', type: 'string', cell: (o) => age(o.metadata.creationTimestamp) };

function servicePorts(o: KubeObject): Cell {
  const ports = list(spec(o).ports).map((p) => {
    const r = record(p);
    return `${String(r.port)}${r.nodePort ? `:${String(r.nodePort)}` : ''}/${String(r.protocol ?? 'TCP')}`;
  });
  return ports.length ? ports.join(',') : NONE;
}

function externalIp(o: KubeObject): Cell {
  const s = spec(o);
  const ingress = list(record(status(o).loadBalancer).ingress).map((i) => record(i).ip ?? record(i).hostname);
  const external = [...list(s.externalIPs), ...ingress].filter(Boolean);
  if (external.length) return external.join(',');
  if (s.type === 'LoadBalancer') return '<pending>';
  if (s.type === 'ExternalName') return s.externalName ?? NONE;
  return NONE;
}

function podReady(o: KubeObject): Cell {
  const statuses = list(status(o).containerStatuses);
  return `${statuses.filter((c) => record(c).ready).length}/${list(spec(o).containers).length}`;
}

function jobStatusCell(o: KubeObject): Cell {
  const conditions = list(status(o).conditions).map(record);
  const has = (type: string): boolean => conditions.some((c) => c.type === type && c.status === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (o.metadata.deletionTimestamp) return 'Terminating';
  if (has('Suspended')) return 'Suspended';
  return 'Running';
}

/** The columns of kube-apiserver's built-in printers (pkg/printers/internalversion) for the kinds served here. */
const BUILTIN_COLUMNS: Record<string, Column[]> = {
  namespaces: [{ name: 'Status', type: 'string', cell: (o) => status(o).phase ?? 'Active' }, ageCol],
  configmaps: [
    {
      name: 'Data',
      type: 'integer',
      cell: (o) => Object.keys(record(o.data)).length + Object.keys(record(o.binaryData)).length,
    },
    ageCol,
  ],
  secrets: [
    { name: 'Type', type: 'string', cell: (o) => (typeof o.type === 'string' ? o.type : 'Opaque') },
    { name: 'Data', type: 'integer', cell: (o) => Object.keys(record(o.data)).length },
    ageCol,
  ],
  serviceaccounts: [{ name: 'Secrets', type: 'integer', cell: (o) => list(o.secrets).length }, ageCol],
  services: [
    { name: 'Type', type: 'string', cell: (o) => spec(o).type ?? 'ClusterIP' },
    { name: 'Cluster-IP', type: 'string', cell: (o) => spec(o).clusterIP ?? NONE },
    { name: 'External-IP', type: 'string', cell: externalIp },
    { name: 'Port(s)', type: 'string', cell: servicePorts },
    ageCol,
    { name: 'Selector', type: 'string', priority: 1, cell: (o) => selectorText({ matchLabels: spec(o).selector }) },
  ],
  endpoints: [
    {
      name: 'Endpoints',
      type: 'string',
      cell: (o) =>
        orNone(
          list(o.subsets)
            .flatMap((s) => list(record(s).addresses).map((a) => record(a).ip))
            .join(','),
        ),
    },
    ageCol,
  ],
  pods: [
    { name: 'Ready', type: 'string', cell: podReady },
    {
      name: 'Status',
      type: 'string',
      cell: (o) => (o.metadata.deletionTimestamp ? 'Terminating' : (status(o).phase ?? 'Pending')),
    },
    {
      name: 'Restarts',
      type: 'string',
      cell: (o) =>
        String(list(status(o).containerStatuses).reduce((n, c) => n + Number(record(c).restartCount ?? 0), 0)),
    },
    ageCol,
    { name: 'IP', type: 'string', priority: 1, cell: (o) => status(o).podIP ?? NONE },
    { name: 'Node', type: 'string', priority: 1, cell: (o) => spec(o).nodeName ?? NONE },
    { name: 'Nominated Node', type: 'string', priority: 1, cell: (o) => status(o).nominatedNodeName ?? NONE },
    {
      name: 'Readiness Gates',
      type: 'string',
      priority: 1,
      cell: (o) => (list(spec(o).readinessGates).length ? String(list(spec(o).readinessGates).length) : NONE),
    },
  ],
  events: [
    {
      name: 'Last Seen',
      type: 'string',
      cell: (o) => age(o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp),
    },
    { name: 'Type', type: 'string', cell: (o) => (typeof o.type === 'string' ? o.type : NONE) },
    { name: 'Reason', type: 'string', cell: (o) => (typeof o.reason === 'string' ? o.reason : NONE) },
    {
      name: 'Object',
      type: 'string',
      cell: (o) =>
        `${String(record(o.involvedObject).kind ?? '').toLowerCase()}/${String(record(o.involvedObject).name ?? '')}`,
    },
    { name: 'Message', type: 'string', cell: (o) => (typeof o.message === 'string' ? o.message : NONE) },
  ],
  persistentvolumeclaims: [
    { name: 'Status', type: 'string', cell: (o) => status(o).phase ?? 'Pending' },
    { name: 'Volume', type: 'string', cell: (o) => spec(o).volumeName ?? NONE },
    { name: 'Capacity', type: 'string', cell: (o) => record(status(o).capacity).storage ?? NONE },
    {
      name: 'Access Modes',
      type: 'string',
      cell: (o) =>
        orNone(
          list(status(o).accessModes)
            .map(
              (m) =>
                ({ ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' })[
                  String(m)
                ] ?? String(m),
            )
            .join(','),
        ),
    },
    { name: 'StorageClass', type: 'string', cell: (o) => spec(o).storageClassName ?? NONE },
    { name: 'VolumeAttributesClass', type: 'string', cell: (o) => spec(o).volumeAttributesClassName ?? NONE },
    ageCol,
    { name: 'VolumeMode', type: 'string', priority: 1, cell: (o) => spec(o).volumeMode ?? 'Filesystem' },
  ],
  nodes: [
    {
      name: 'Status',
      type: 'string',
      cell: (o) =>
        list(status(o).conditions).some((c) => record(c).type === 'Ready' && record(c).status === 'True')
          ? 'Ready'
          : 'NotReady',
    },
    { name: 'Roles', type: 'string', cell: () => NONE },
    ageCol,
    { name: 'Version', type: 'string', cell: (o) => record(status(o).nodeInfo).kubeletVersion ?? NONE },
  ],
  deployments: [
    { name: 'Ready', type: 'string', cell: (o) => `${status(o).readyReplicas ?? 0}/${spec(o).replicas ?? 1}` },
    { name: 'Up-to-date', type: 'integer', cell: (o) => status(o).updatedReplicas ?? 0 },
    { name: 'Available', type: 'integer', cell: (o) => status(o).availableReplicas ?? 0 },
    ageCol,
    containersCol,
    imagesCol,
    selectorCol,
  ],
  replicasets: [
    { name: 'Desired', type: 'integer', cell: (o) => spec(o).replicas ?? 1 },
    { name: 'Current', type: 'integer', cell: (o) => status(o).replicas ?? 0 },
    { name: 'Ready', type: 'integer', cell: (o) => status(o).readyReplicas ?? 0 },
    ageCol,
    containersCol,
    imagesCol,
    selectorCol,
  ],
  statefulsets: [
    { name: 'Ready', type: 'string', cell: (o) => `${status(o).readyReplicas ?? 0}/${spec(o).replicas ?? 1}` },
    ageCol,
    containersCol,
    imagesCol,
  ],
  daemonsets: [
    { name: 'Desired', type: 'integer', cell: (o) => status(o).desiredNumberScheduled ?? 0 },
    { name: 'Current', type: 'integer', cell: (o) => status(o).currentNumberScheduled ?? 0 },
    { name: 'Ready', type: 'integer', cell: (o) => status(o).numberReady ?? 0 },
    { name: 'Up-to-date', type: 'integer', cell: (o) => status(o).updatedNumberScheduled ?? 0 },
    { name: 'Available', type: 'integer', cell: (o) => status(o).numberAvailable ?? 0 },
    { name: 'Node Selector', type: 'string', cell: (o) => selectorText({ matchLabels: podSpecOf(o).nodeSelector }) },
    ageCol,
    containersCol,
    imagesCol,
    selectorCol,
  ],
  jobs: [
    { name: 'Status', type: 'string', cell: jobStatusCell },
    { name: 'Completions', type: 'string', cell: (o) => `${status(o).succeeded ?? 0}/${spec(o).completions ?? 1}` },
    {
      name: 'Duration',
      type: 'string',
      cell: (o) => {
        const start = Date.parse(String(status(o).startTime ?? ''));
        if (Number.isNaN(start)) return NONE;
        const end = Date.parse(String(status(o).completionTime ?? ''));
        return humanDuration((Number.isNaN(end) ? Date.now() : end) - start);
      },
    },
    ageCol,
    containersCol,
    imagesCol,
    selectorCol,
  ],
  cronjobs: [
    { name: 'Schedule', type: 'string', cell: (o) => spec(o).schedule ?? NONE },
    { name: 'Timezone', type: 'string', cell: (o) => spec(o).timeZone ?? NONE },
    { name: 'Suspend', type: 'boolean', cell: (o) => Boolean(spec(o).suspend) },
    { name: 'Active', type: 'integer', cell: (o) => list(status(o).active).length },
    {
      name: 'Last Schedule',
      type: 'string',
      cell: (o) => (status(o).lastScheduleTime ? age(status(o).lastScheduleTime) : NONE),
    },
    ageCol,
    {
      name: 'Containers',
      type: 'string',
      priority: 1,
      cell: (o) =>
        orNone(
          list(record(record(record(spec(o).jobTemplate).spec).template).spec?.containers)
            .map((c) => record(c).name)
            .join(','),
        ),
    },
    {
      name: 'Images',
      type: 'string',
      priority: 1,
      cell: (o) =>
        orNone(
          list(record(record(record(spec(o).jobTemplate).spec).template).spec?.containers)
            .map((c) => record(c).image)
            .join(','),
        ),
    },
  ],
  ingresses: [
    { name: 'Class', type: 'string', cell: (o) => spec(o).ingressClassName ?? NONE },
    {
      name: 'Hosts',
      type: 'string',
      cell: (o) =>
        list(spec(o).rules)
          .map((r) => record(r).host ?? '*')
          .join(',') || '*',
    },
    {
      name: 'Address',
      type: 'string',
      cell: (o) =>
        orNone(
          list(record(status(o).loadBalancer).ingress)
            .map((i) => record(i).ip ?? record(i).hostname)
            .join(','),
        ),
    },
    { name: 'Ports', type: 'string', cell: (o) => (list(spec(o).tls).length ? '80, 443' : '80') },
    ageCol,
  ],
  networkpolicies: [{ name: 'Pod-Selector', type: 'string', cell: (o) => selectorText(spec(o).podSelector) }, ageCol],
  roles: [createdAt],
  clusterroles: [createdAt],
  rolebindings: [
    {
      name: 'Role',
      type: 'string',
      cell: (o) => `${String(record(o.roleRef).kind ?? '')}/${String(record(o.roleRef).name ?? '')}`,
    },
    ageCol,
    {
      name: 'Users',
      type: 'string',
      priority: 1,
      cell: (o) =>
        orNone(
          list(o.subjects)
            .filter((s) => record(s).kind === 'User')
            .map((s) => record(s).name)
            .join(', '),
        ),
    },
    {
      name: 'Groups',
      type: 'string',
      priority: 1,
      cell: (o) =>
        orNone(
          list(o.subjects)
            .filter((s) => record(s).kind === 'Group')
            .map((s) => record(s).name)
            .join(', '),
        ),
    },
    {
      name: 'ServiceAccounts',
      type: 'string',
      priority: 1,
      cell: (o) =>
        orNone(
          list(o.subjects)
            .filter((s) => record(s).kind === 'ServiceAccount')
            .map((s) => `${String(record(s).namespace ?? '')}/${String(record(s).name)}`)
            .join(', '),
        ),
    },
  ],
  horizontalpodautoscalers: [
    {
      name: 'Reference',
      type: 'string',
      cell: (o) =>
        `${String(record(spec(o).scaleTargetRef).kind ?? '')}/${String(record(spec(o).scaleTargetRef).name ?? '')}`,
    },
    {
      name: 'Targets',
      type: 'string',
      cell: (o) =>
        list(spec(o).metrics).length
          ? list(spec(o).metrics)
              .map(() => '<unknown>')
              .join(', ')
          : '<none>',
    },
    { name: 'MinPods', type: 'string', cell: (o) => String(spec(o).minReplicas ?? 1) },
    { name: 'MaxPods', type: 'integer', cell: (o) => spec(o).maxReplicas ?? 0 },
    { name: 'Replicas', type: 'integer', cell: (o) => status(o).currentReplicas ?? 0 },
    ageCol,
  ],
  poddisruptionbudgets: [
    {
      name: 'Min Available',
      type: 'string',
      cell: (o) => (spec(o).minAvailable === undefined ? 'N/A' : String(spec(o).minAvailable)),
    },
    {
      name: 'Max Unavailable',
      type: 'string',
      cell: (o) => (spec(o).maxUnavailable === undefined ? 'N/A' : String(spec(o).maxUnavailable)),
    },
    { name: 'Allowed Disruptions', type: 'integer', cell: (o) => status(o).disruptionsAllowed ?? 0 },
    ageCol,
  ],
  mutatingwebhookconfigurations: [{ name: 'Webhooks', type: 'integer', cell: (o) => list(o.webhooks).length }, ageCol],
  validatingwebhookconfigurations: [
    { name: 'Webhooks', type: 'integer', cell: (o) => list(o.webhooks).length },
    ageCol,
  ],
  leases: [{ name: 'Holder', type: 'string', cell: (o) => spec(o).holderIdentity ?? NONE }, ageCol],
  csinodes: [{ name: 'Drivers', type: 'integer', cell: (o) => list(spec(o).drivers).length }, ageCol],
  volumeattachments: [
    { name: 'Attacher', type: 'string', cell: (o) => spec(o).attacher ?? '' },
    { name: 'PV', type: 'string', cell: (o) => record(spec(o).source).persistentVolumeName ?? '' },
    { name: 'Node', type: 'string', cell: (o) => spec(o).nodeName ?? '' },
    { name: 'Attached', type: 'boolean', cell: (o) => status(o).attached === true },
    ageCol,
  ],
  controllerrevisions: [
    {
      name: 'Controller',
      type: 'string',
      cell: (o) =>
        orNone(
          list(o.metadata.ownerReferences)
            .filter((r) => record(r).controller)
            .map(
              (r) =>
                `${String(record(r).kind).toLowerCase()}.${String(record(r).apiVersion).split('/')[0]}/${String(record(r).name)}`,
            )
            .join(','),
        ),
    },
    { name: 'Revision', type: 'integer', cell: (o) => (typeof o.revision === 'number' ? o.revision : 0) },
    ageCol,
  ],
};

/**
 * A CRD printer column's cell, as apiextensions-apiserver's tableconvertor computes it: the first JSONPath result;
 * `string` columns print it (maps and lists as JSON), typed columns keep it only when the JSON type matches, `date`
 * columns show an age. Anything missing or mistyped is null (an empty cell).
 */
function crdCell(type: string, path: string): (obj: KubeObject) => Cell {
  return (obj) => {
    let value: unknown;
    try {
      value = findJsonPathResults(obj, path)[0];
    } catch {
      return null;
    }
    if (value === undefined || value === null) return null;
    switch (type) {
      case 'date':
        return typeof value === 'string' ? age(value) : null;
      case 'integer':
        return typeof value === 'number' && Number.isInteger(value) ? value : null;
      case 'number':
        return typeof value === 'number' ? value : null;
      case 'boolean':
        return typeof value === 'boolean' ? value : null;
      default:
        return typeof value === 'object' ? JSON.stringify(value) : typeof value === 'string' ? value : String(value);
    }
  };
}

const NAME: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name ?? null };
/** What a CRD with no printer columns gets (apiextensions' serveDefaultColumnsIfEmpty). */
const DEFAULT_CRD_COLUMNS: NonNullable<ResourceInfo['printerColumns']> = [
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

const columnCache = new WeakMap<ResourceInfo, Column[]>();

function columnsFor(info: ResourceInfo): Column[] {
  const cached = columnCache.get(info);
  if (cached) return cached;
  let cols: Column[];
  if (info.custom) {
    const declared = info.printerColumns && info.printerColumns.length > 0 ? info.printerColumns : DEFAULT_CRD_COLUMNS;
    cols = [
      NAME,
      ...declared.map<Column>((c) => ({
        name: c.name,
        type: c.type,
        priority: c.priority,
        cell: crdCell(c.type, c.jsonPath),
      })),
    ];
  } else {
    // Kinds without a built-in printer get kube-apiserver's default table: Name and Created At.
    cols = [NAME, ...(BUILTIN_COLUMNS[info.resource] ?? [createdAt])];
  }
  columnCache.set(info, cols);
  return cols;
}

/**
 * Columns a server adds to a kind's own: `afterName` right after NAME, `trailing` after the kind's columns; `without`
 * names kind columns to leave out.
 */
export interface ExtraColumns {
  afterName?: readonly TableColumn[];
  trailing?: readonly TableColumn[];
  without?: readonly string[];
}

/** A meta.k8s.io/v1 Table of `objects`, the answer to kubectl's `Accept: …;as=Table`. */
export function toTable(
  info: ResourceInfo,
  objects: KubeObject[],
  resourceVersion: string,
  extra: Record<string, unknown> = {},
  columns: ExtraColumns = {},
): Record<string, unknown> {
  const own = columnsFor(info);
  const kept = columns.without ? own.slice(1).filter((c) => !columns.without?.includes(c.name)) : own.slice(1);
  const cols = [own[0], ...(columns.afterName ?? []), ...kept, ...(columns.trailing ?? [])];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion, ...extra },
    columnDefinitions: cols.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: '',
      priority: c.priority ?? 0,
    })),
    rows: objects.map((o) => ({
      cells: cols.map((c) => c.cell(o)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}
