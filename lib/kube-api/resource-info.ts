import type { GroupVersionResource } from '../kube/object';

/** One served resource type, as discovery describes it. */
export interface ResourceInfo {
  group: string;
  version: string;
  resource: string;
  kind: string;
  singular: string;
  namespaced: boolean;
  hasStatus: boolean;
  hasScale: boolean;
  shortNames?: string[];
  /** Discovery categories: `kubectl get all` lists every resource in `all`. */
  categories?: string[];
  /** CRD-backed: printer columns and schema come from the CRD. */
  printerColumns?: Array<{ name: string; type: string; jsonPath: string; priority?: number }>;
  schema?: Record<string, unknown>;
  /** Served because a CRD declares it (strategic merge patch does not apply to these). */
  custom?: boolean;
  /** The verbs discovery declares when not every verb (a review or a Binding: `create` only). */
  verbs?: readonly string[];
  /** Subresources beyond status and scale (a Pod's `binding`), as discovery lists them. */
  subresources?: ReadonlyArray<{ name: string; kind: string; verbs: readonly string[] }>;
}

export function gvrId(gvr: GroupVersionResource): string {
  return `${gvr.group}/${gvr.version}/${gvr.resource}`;
}

export function apiVersionOf(info: Pick<ResourceInfo, 'group' | 'version'>): string {
  return info.group ? `${info.group}/${info.version}` : info.version;
}

/** The resource types a CRD object declares (one per served version). */
export function resourcesFromCrd(crd: Record<string, any>): ResourceInfo[] {
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  const out: ResourceInfo[] = [];
  for (const v of spec.versions ?? []) {
    if (v.served === false) continue;
    out.push({
      group: spec.group,
      version: v.name,
      resource: names.plural,
      kind: names.kind,
      singular: names.singular ?? String(names.kind ?? '').toLowerCase(),
      namespaced: spec.scope !== 'Cluster',
      hasStatus: Boolean(v.subresources?.status),
      hasScale: Boolean(v.subresources?.scale),
      shortNames: names.shortNames,
      categories: names.categories,
      printerColumns: v.additionalPrinterColumns,
      schema: v.schema?.openAPIV3Schema,
      custom: true,
    });
  }
  return out;
}
