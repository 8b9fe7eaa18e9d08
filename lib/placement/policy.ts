import type { KubeObject } from '../kube/object';
import type { Location, Override, Placement, ReplicasPolicy, SpreadConstraint, Toleration } from '../api/crds';
import { compileLabelSelector, describeLabelSelector, type LabelMatcher } from '../kube-api/label-selector';

export interface CompiledOverride {
  clusters?: Set<string>;
  match?: LabelMatcher;
  override: Override;
}

/** A Placement with every selector compiled once; cached per Placement object (and Locations list). */
export interface CompiledPolicy {
  name: string;
  placement: Placement;
  /** Undefined when the Placement has no locationSelectors (no Location filter). */
  locations?: { matchers: LabelMatcher[]; names: string[]; describe: string };
  cluster: LabelMatcher;
  clusterSelectorText: string;
  regions?: Set<string>;
  zones?: Set<string>;
  providers?: Set<string>;
  required?: LabelMatcher[];
  requiredText: string;
  preferred: Array<{ weight: number; match: LabelMatcher }>;
  antiRequired?: LabelMatcher[];
  antiRequiredText: string;
  antiPreferred: Array<{ weight: number; match: LabelMatcher }>;
  tolerations: Toleration[];
  spread: SpreadConstraint[];
  strategy: 'Spread' | 'Pack' | 'Balanced';
  replicas: ReplicasPolicy;
  /** One matcher per `replicas.weights` entry (entries naming a cluster match by name instead). */
  replicaWeightMatchers: LabelMatcher[];
  numberOfClusters?: number;
  overrides: CompiledOverride[];
  rebalanceAlways: boolean;
  rebalanceToken?: string;
}

const cache = new WeakMap<Placement, { locations: Location[]; compiled: CompiledPolicy }>();

function compileLocations(placement: Placement, locations: Location[]): CompiledPolicy['locations'] {
  const selectors = placement.spec.locationSelectors;
  if (!selectors || selectors.length === 0) return undefined;
  const pickers = selectors.map(compileLabelSelector);
  const chosen = locations.filter(
    (loc) => !loc.metadata.deletionTimestamp && pickers.some((p) => p(loc.metadata.labels)),
  );
  return {
    matchers: chosen.map((loc) => compileLabelSelector(loc.spec.instanceSelector)),
    names: chosen.map((loc) => loc.metadata.name),
    describe: selectors.map(describeLabelSelector).join(' or '),
  };
}

export function compilePolicy(placement: Placement, locations: Location[]): CompiledPolicy {
  const hit = cache.get(placement);
  // Locations matter only to a Placement with locationSelectors; the others stay compiled across Location lists.
  if (hit && (hit.locations === locations || !placement.spec.locationSelectors?.length)) return hit.compiled;
  const spec = placement.spec;
  const c = spec.clusterConstraints;
  const toSet = (values: string[] | undefined): Set<string> | undefined =>
    values && values.length ? new Set(values) : undefined;
  const compiled: CompiledPolicy = {
    name: placement.metadata.name,
    placement,
    locations: compileLocations(placement, locations),
    cluster: compileLabelSelector(spec.clusterSelector),
    clusterSelectorText: describeLabelSelector(spec.clusterSelector),
    regions: toSet(c?.regions),
    zones: toSet(c?.zones),
    providers: toSet(c?.providers),
    required: spec.affinity?.required?.length ? spec.affinity.required.map(compileLabelSelector) : undefined,
    requiredText: (spec.affinity?.required ?? []).map(describeLabelSelector).join(' or '),
    preferred: (spec.affinity?.preferred ?? []).map((p) => ({
      weight: p.weight,
      match: compileLabelSelector(p.preference),
    })),
    antiRequired: spec.antiAffinity?.required?.length
      ? spec.antiAffinity.required.map(compileLabelSelector)
      : undefined,
    antiRequiredText: (spec.antiAffinity?.required ?? []).map(describeLabelSelector).join(' or '),
    antiPreferred: (spec.antiAffinity?.preferred ?? []).map((p) => ({
      weight: p.weight,
      match: compileLabelSelector(p.preference),
    })),
    tolerations: spec.tolerations ?? [],
    spread: spec.spreadConstraints ?? [],
    strategy: spec.strategy ?? 'Spread',
    replicas: spec.replicas ?? { mode: 'Duplicated' },
    replicaWeightMatchers: (spec.replicas?.weights ?? []).map((w) => compileLabelSelector(w.labelSelector)),
    numberOfClusters: spec.numberOfClusters,
    overrides: (spec.overrides ?? []).map((o) => ({
      clusters: o.clusters ? new Set(o.clusters) : undefined,
      match: o.clusterSelector ? compileLabelSelector(o.clusterSelector) : undefined,
      override: o,
    })),
    rebalanceAlways: spec.rebalance?.policy === 'Always',
    rebalanceToken: spec.rebalance?.token,
  };
  cache.set(placement, { locations, compiled });
  return compiled;
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** Whether a Placement selects this object (namespaceSelector, then objectSelectors). */
export function placementSelects(
  placement: Placement,
  object: KubeObject,
  namespaceLabels: Record<string, string> | undefined,
): boolean {
  if (placement.metadata.deletionTimestamp) return false;
  const spec = placement.spec;
  if (object.metadata.namespace === undefined) {
    // A cluster-scoped object has no namespace to select: only a Placement without a namespaceSelector whose
    // objectSelectors name it reaches it: cluster-scoped kinds are placed only when selected explicitly.
    if (spec.namespaceSelector || !spec.objectSelectors?.length) return false;
  } else if (spec.namespaceSelector && !compileLabelSelector(spec.namespaceSelector)(namespaceLabels ?? {})) {
    return false;
  }
  const selectors = spec.objectSelectors;
  if (!selectors || selectors.length === 0) return true;
  const group = groupOf(object.apiVersion);
  return selectors.some(
    (s) =>
      s.group === group &&
      (s.kind === undefined || s.kind === object.kind) &&
      (s.labelSelector ? compileLabelSelector(s.labelSelector)(object.metadata.labels) : true),
  );
}

/**
 * The one Placement that governs an object: of those that select it, the highest `priority`, then the first name.
 * One winner (as Karmada's PropagationPolicy) keeps decisions explainable; merging policies would not be.
 */
export function governingPlacement(
  policies: Placement[],
  object: KubeObject,
  namespaceLabels: Record<string, string> | undefined,
): Placement | undefined {
  let best: Placement | undefined;
  for (const p of policies) {
    if (!placementSelects(p, object, namespaceLabels)) continue;
    if (!best) {
      best = p;
      continue;
    }
    const a = p.spec.priority ?? 0;
    const b = best.spec.priority ?? 0;
    if (a > b || (a === b && p.metadata.name < best.metadata.name)) best = p;
  }
  return best;
}
