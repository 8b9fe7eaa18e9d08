import type { JsonPatchOperation, Taint, Toleration } from '../api/crds';
import { describeRef } from '../api/object-ref';
import { fnv1a, rendezvous } from './hash';
import { overrideToPatch } from './overrides';
import { compilePolicy, governingPlacement, type CompiledPolicy } from './policy';
import { divideReplicas } from './replicas';
import {
  demandPerReplica,
  meanUtilization,
  replicasOf,
  replicasThatFit,
  scarceDimension,
  utilizationOf,
} from './resources';
import type { LabelMatcher } from '../kube-api/label-selector';
import { topologyValue } from './topology';
import type { KubeObject } from '../kube/object';
import type {
  ClusterExplanation,
  ClusterInfo,
  ClusterScores,
  DecideInput,
  Decision,
  DecisionCluster,
  Resources,
} from './types';
import { allowsRiskyKind, riskyKindOf } from './risky-kinds';

/**
 * The placement engine: filter → score → select → divide replicas → resolve overrides → explain. Pure: the same
 * input gives the same decision, byte for byte. docs/placement.md describes every rule; the comments here say why.
 */

/** Score components and their weights; printed with every explanation. */
export const SCORE_WEIGHTS = {
  affinity: 1,
  strategy: 1,
  headroom: 0.5,
  taints: 1,
  health: 1,
  stability: 1,
  namespaceHash: 1,
} as const;

/** Larger than every other score together: work stays where it runs unless a filter forbids it or rebalance asks. */
export const STABILITY_BONUS = 1000;
const PREFER_NO_SCHEDULE_PENALTY = -50;
const HEALTH_SCORE: Record<ClusterInfo['health'], number> = {
  Healthy: 0,
  Degraded: -30,
  Unknown: -20,
  Unhealthy: -100,
};
/** When a SyncTarget sets no evictAfter, placed work leaves an Unhealthy cluster after this long. */
export const DEFAULT_EVICT_AFTER_SECONDS = 300;
export const DEFAULT_PLACEMENT_NAME = '(default)';
/** The Placement name recorded for a cluster-scoped object that follows the workspace's work. */
export const WORKSPACE_WORK_PLACEMENT_NAME = '(workspace work)';

interface Rejection {
  filter: string;
  /** The same for every cluster rejected for the same reason: the summary groups by it. */
  summary: string;
  detail: string;
}

function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (!t.key) return t.operator === 'Exists';
  if (t.key !== taint.key) return false;
  return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
}

function taintText(taint: Taint): string {
  return taint.value ? `${taint.key}=${taint.value}:${taint.effect}` : `${taint.key}:${taint.effect}`;
}

const NO_TOLERATIONS: Toleration[] = [];
const UNSCHEDULABLE: Rejection = {
  filter: 'unschedulable',
  summary: 'unschedulable (cordoned)',
  detail: 'spec.unschedulable is true',
};
const UNHEALTHY: Rejection = { filter: 'health', summary: 'unhealthy', detail: 'cluster health is Unhealthy' };

/**
 * Rejections of one Placement, built once per compiled policy: a thousand rejected clusters share a handful of
 * objects instead of allocating strings each (the engine's p99 at 1,000 clusters depends on it).
 */
interface PolicyRejections {
  locations: Rejection;
  cluster: Rejection;
  required: Rejection;
  antiRequired: Rejection;
  /** By constraint, then by the cluster's value: `region` → `us-east-1` → rejection. */
  topology: Record<'region' | 'zone' | 'provider', Map<string | undefined, Rejection>>;
}
const rejectionCache = new WeakMap<CompiledPolicy, PolicyRejections>();

function rejectionsOf(p: CompiledPolicy): PolicyRejections {
  let r = rejectionCache.get(p);
  if (r) return r;
  r = {
    locations: {
      filter: 'locationSelectors',
      summary: p.locations?.names.length
        ? `not in Locations [${p.locations.names.join(',')}]`
        : `rejected by locationSelectors=${p.locations?.describe} (no Location matches)`,
      detail: 'not an instance of any selected Location',
    },
    cluster: {
      filter: 'clusterSelector',
      summary: `rejected by clusterSelector=${p.clusterSelectorText}`,
      detail: 'labels do not match clusterSelector',
    },
    required: {
      filter: 'affinity.required',
      summary: `rejected by affinity.required=${p.requiredText}`,
      detail: 'labels match no required affinity term',
    },
    antiRequired: {
      filter: 'antiAffinity.required',
      summary: `rejected by antiAffinity.required=${p.antiRequiredText}`,
      detail: 'labels match a required anti-affinity term',
    },
    topology: { region: new Map(), zone: new Map(), provider: new Map() },
  };
  rejectionCache.set(p, r);
  return r;
}

function topologyRejection(
  p: CompiledPolicy,
  key: 'region' | 'zone' | 'provider',
  allowed: Set<string>,
  value: string | undefined,
): Rejection {
  const cache = rejectionsOf(p).topology[key];
  let r = cache.get(value);
  if (!r) {
    const set = `[${[...allowed].join(',')}]`;
    r = {
      filter: `clusterConstraints.${key}s`,
      summary: `rejected by clusterConstraints.${key}s=${set}`,
      detail: `${key} ${value ?? '<none>'} not in ${set}`,
    };
    cache.set(value, r);
  }
  return r;
}

interface FilterContext {
  policy?: CompiledPolicy;
  /** The clusters of the object's namespace, when the object follows its namespace. */
  follow?: { names: Set<string>; rejection: Rejection };
  now: number;
  demand?: Resources;
  /** Replicas one cluster must host: all of them when duplicated, one when divided. */
  needed: number;
  rebalance: boolean;
  /** The object's kind reaches beyond its workspace: only SyncTargets that allow it take it. */
  risky?: { entry: string; why: string };
}

function matchesAny(matchers: LabelMatcher[], labels: Record<string, string>): boolean {
  for (let i = 0; i < matchers.length; i++) if (matchers[i](labels)) return true;
  return false;
}

function findToleration(tolerations: Toleration[], taint: Taint): Toleration | undefined {
  for (let i = 0; i < tolerations.length; i++) if (tolerates(tolerations[i], taint)) return tolerations[i];
  return undefined;
}

/** The first filter that rejects the cluster, or undefined when it is feasible. */
function filterCluster(c: ClusterInfo, wasPlaced: boolean, ctx: FilterContext): Rejection | undefined {
  // An object that follows its namespace is not new work on the namespace's clusters: the namespace is placed there
  // already, so a later cordon or NoSchedule taint keeps it there (as kcp TMC, where only namespaces are scheduled).
  const keep = (wasPlaced || (ctx.follow?.names.has(c.name) ?? false)) && !ctx.rebalance;
  // Cordoning stops new placements only: Kubernetes' cordon does not evict running pods either.
  if (c.unschedulable && !keep) return UNSCHEDULABLE;
  // Placed copies stay when a kind leaves the allow-list (as under a NoSchedule taint): deleting them is a person's call.
  if (ctx.risky && !wasPlaced && !allowsRiskyKind(c.allowedRiskyKinds, ctx.risky.entry)) {
    return {
      filter: 'allowedRiskyKinds',
      summary: `does not allow ${ctx.risky.entry}`,
      detail: `${ctx.risky.entry} ${ctx.risky.why}: add it to SyncTarget ${c.name}'s spec.allowedRiskyKinds to place it there`,
    };
  }
  if (c.health === 'Unhealthy') {
    const evictAfterMs = (c.evictAfterSeconds ?? DEFAULT_EVICT_AFTER_SECONDS) * 1000;
    const due = c.unhealthySince === undefined || ctx.now - c.unhealthySince >= evictAfterMs;
    // Placed work waits out evictAfter (a blip must not move everything); new work never goes to an Unhealthy cluster.
    if (!wasPlaced) return UNHEALTHY;
    if (due)
      return {
        filter: 'health',
        summary: 'unhealthy past evictAfter',
        detail: `Unhealthy for longer than evictAfter (${evictAfterMs / 1000}s)`,
      };
  }
  const p = ctx.policy;
  if (p) {
    if (p.locations && !matchesAny(p.locations.matchers, c.labels)) return rejectionsOf(p).locations;
    if (!p.cluster(c.labels)) return rejectionsOf(p).cluster;
    if (p.regions) {
      const v = topologyValue(c.labels, 'region');
      if (v === undefined || !p.regions.has(v)) return topologyRejection(p, 'region', p.regions, v);
    }
    if (p.zones) {
      const v = topologyValue(c.labels, 'zone');
      if (v === undefined || !p.zones.has(v)) return topologyRejection(p, 'zone', p.zones, v);
    }
    if (p.providers) {
      const v = topologyValue(c.labels, 'provider');
      if (v === undefined || !p.providers.has(v)) return topologyRejection(p, 'provider', p.providers, v);
    }
    if (p.required && !matchesAny(p.required, c.labels)) return rejectionsOf(p).required;
    if (p.antiRequired && matchesAny(p.antiRequired, c.labels)) return rejectionsOf(p).antiRequired;
    for (let k = 0; k < p.spread.length; k++) {
      const s = p.spread[k];
      if (
        (s.whenUnsatisfiable ?? 'DoNotSchedule') === 'DoNotSchedule' &&
        topologyValue(c.labels, s.topologyKey) === undefined
      ) {
        // As in Kubernetes: a hard spread constraint skips nodes that lack the topology label.
        return {
          filter: 'spreadConstraints',
          summary: `missing topology label ${s.topologyKey}`,
          detail: `no ${s.topologyKey} label for spreadConstraints`,
        };
      }
    }
  }
  const tolerations = p ? p.tolerations : NO_TOLERATIONS;
  for (let k = 0; k < c.taints.length; k++) {
    const taint = c.taints[k];
    if (taint.effect === 'PreferNoSchedule') continue; // a score, not a filter
    const tol = findToleration(tolerations, taint);
    if (taint.effect === 'NoSchedule') {
      if (!tol && !keep)
        return {
          filter: 'taints',
          summary: `had untolerated taint {${taintText(taint)}}`,
          detail: `taint ${taintText(taint)} not tolerated`,
        };
      continue;
    }
    // NoExecute evicts placed work too, at once or after tolerationSeconds counted from the taint's timeAdded.
    if (!tol)
      return {
        filter: 'taints',
        summary: `had untolerated taint {${taintText(taint)}}`,
        detail: `taint ${taintText(taint)} not tolerated`,
      };
    if (tol.tolerationSeconds !== undefined && taint.timeAdded) {
      const added = Date.parse(taint.timeAdded);
      if (Number.isFinite(added) && ctx.now >= added + tol.tolerationSeconds * 1000) {
        return {
          filter: 'taints',
          summary: `tolerationSeconds expired for taint {${taintText(taint)}}`,
          detail: `taint ${taintText(taint)} tolerated for ${tol.tolerationSeconds}s only`,
        };
      }
    }
  }
  // Placed work included: an object never stays where its namespace no longer is. After health and taints, so that
  // a failover still reads as one (recovery keeps the old copy until the replacement is ready).
  if (ctx.follow && !ctx.follow.names.has(c.name)) return ctx.follow.rejection;
  // Placed work already counts in the cluster's allocation: checking it again would count it twice.
  if (!wasPlaced && ctx.demand && ctx.needed > 0 && replicasThatFit(c, ctx.demand) < ctx.needed) {
    const dim = scarceDimension(c, ctx.demand, ctx.needed);
    return {
      filter: 'capacity',
      summary: `insufficient ${dim}`,
      detail: `no room for ${ctx.needed} replica(s): insufficient ${dim}`,
    };
  }
  return undefined;
}

function untoleratedPreferNoSchedule(c: ClusterInfo, tolerations: Toleration[]): number {
  let n = 0;
  for (let k = 0; k < c.taints.length; k++)
    if (c.taints[k].effect === 'PreferNoSchedule' && !findToleration(tolerations, c.taints[k])) n++;
  return n;
}

function strategyScore(c: ClusterInfo, strategy: CompiledPolicy['strategy']): number {
  const util = meanUtilization(c);
  if (strategy === 'Pack') return 100 * util;
  if (strategy === 'Spread') return 100 * (1 - util);
  // Balanced: free room, and cpu and memory used alike (Kubernetes' BalancedResourceAllocation), half each.
  const cpu = utilizationOf(c, 'cpu');
  const mem = utilizationOf(c, 'memory');
  const balance = cpu === undefined || mem === undefined ? 0.5 : 1 - Math.abs(cpu - mem);
  return 50 * (1 - util) + 50 * balance;
}

/** Order of the score components in the flat score buffer (one Float64Array per decision, no object per cluster). */
const SCORE_KEYS = ['health', 'affinity', 'strategy', 'headroom', 'taints', 'namespaceHash', 'stability'] as const;
const K = SCORE_KEYS.length;

/** Writes a feasible cluster's weighted score components at `buf[at..at+K)` and returns their total. */
function scoreCluster(
  c: ClusterInfo,
  wasPlaced: boolean,
  ctx: FilterContext,
  namespaceKey: string,
  buf: Float64Array,
  at: number,
): number {
  const p = ctx.policy;
  for (let k = 1; k < K; k++) buf[at + k] = 0; // the buffer is reused from cluster to cluster
  buf[at] = HEALTH_SCORE[c.health] * SCORE_WEIGHTS.health;
  if (p) {
    let affinity = 0;
    for (let k = 0; k < p.preferred.length; k++) if (p.preferred[k].match(c.labels)) affinity += p.preferred[k].weight;
    for (let k = 0; k < p.antiPreferred.length; k++)
      if (p.antiPreferred[k].match(c.labels)) affinity -= p.antiPreferred[k].weight;
    buf[at + 1] = affinity * SCORE_WEIGHTS.affinity;
    buf[at + 2] = strategyScore(c, p.strategy) * SCORE_WEIGHTS.strategy;
    if (p.strategy !== 'Pack' && ctx.demand) {
      const fit = replicasThatFit(c, ctx.demand);
      // Room left after this object, relative to its own size: saturates at 10× what it needs.
      if (Number.isFinite(fit))
        buf[at + 3] =
          Math.min(100, (100 * Math.max(0, fit - ctx.needed)) / (10 * Math.max(1, ctx.needed))) *
          SCORE_WEIGHTS.headroom;
    }
    buf[at + 4] = untoleratedPreferNoSchedule(c, p.tolerations) * PREFER_NO_SCHEDULE_PENALTY * SCORE_WEIGHTS.taints;
  } else {
    // Default placement: rendezvous hash of the namespace, so every object of a namespace lands on the same cluster.
    buf[at + 5] = (rendezvous(namespaceKey, c.name) / 0x100000000) * 10 * SCORE_WEIGHTS.namespaceHash;
    buf[at + 4] = untoleratedPreferNoSchedule(c, NO_TOLERATIONS) * PREFER_NO_SCHEDULE_PENALTY * SCORE_WEIGHTS.taints;
  }
  if (wasPlaced && !ctx.rebalance) buf[at + 6] = STABILITY_BONUS * SCORE_WEIGHTS.stability;
  let total = 0;
  for (let k = 0; k < K; k++) total += buf[at + k];
  return Math.round(total * 1000) / 1000;
}

/** Why a feasible cluster did or did not make it, for the explanation. */
const enum Outcome {
  Rejected = 0,
  Chosen = 1,
  LowerScore = 2,
  SpreadOrLowerScore = 3,
  ZeroShare = 4,
}
const OUTCOME_DETAIL: Record<number, string | undefined> = {
  [Outcome.LowerScore]: 'feasible; not chosen (lower score)',
  [Outcome.SpreadOrLowerScore]: 'feasible; not chosen (spreadConstraints maxSkew or lower score)',
  [Outcome.ZeroShare]: 'feasible; share of replicas is 0',
};

/**
 * The per-cluster explanation, built on first read. Deciding keeps only flat arrays (shared rejection objects, one
 * score buffer), so a decision over 1,000 clusters allocates a few arrays, not 2,000 objects; callers that store or
 * print the explanation pay for it once, callers that only need the clusters (what-if, benchmarks) never do.
 */
function lazyExplanation(
  clusters: ClusterInfo[],
  rejected: Array<Rejection | undefined>,
  outcome: Uint8Array,
  rescore: (i: number, buf: Float64Array) => void,
  totals: Float64Array,
): () => ClusterExplanation[] {
  const scores = new Float64Array(K);
  let built: ClusterExplanation[] | undefined;
  return () => {
    if (built) return built;
    built = new Array<ClusterExplanation>(clusters.length);
    for (let i = 0; i < clusters.length; i++) {
      const r = rejected[i];
      if (r) {
        built[i] = { cluster: clusters[i].name, chosen: false, rejectedBy: r.filter, detail: r.detail, total: 0 };
        continue;
      }
      rescore(i, scores);
      const s: ClusterScores = {
        health: 0,
        affinity: 0,
        strategy: 0,
        headroom: 0,
        taints: 0,
        namespaceHash: 0,
        stability: 0,
      };
      // `+ 0` turns a -0 (a zero penalty times a negative weight) into 0, as a stored number reads back.
      SCORE_KEYS.forEach((key, k) => (s[key] = Math.round(scores[k] * 1000) / 1000 + 0));
      const detail = OUTCOME_DETAIL[outcome[i]];
      built[i] = {
        cluster: clusters[i].name,
        chosen: outcome[i] === Outcome.Chosen,
        ...(detail ? { detail } : {}),
        scores: s,
        total: totals[i],
      };
    }
    return built;
  };
}

function withExplanation(decision: Omit<Decision, 'explanation'>, explain: () => ClusterExplanation[]): Decision {
  // An enumerable getter: JSON.stringify, structuredClone-free copies ({...d}) and jest's equality all read it.
  return Object.defineProperty(decision, 'explanation', {
    enumerable: true,
    configurable: true,
    get: explain,
  }) as Decision;
}

/** Greedy selection in score order that keeps every spread constraint's skew within maxSkew. */
function selectWithSpread(
  order: number[],
  clusters: ClusterInfo[],
  want: number,
  policy: CompiledPolicy | undefined,
): { chosen: number[]; skewBlocked: boolean } {
  const spread = policy?.spread ?? [];
  if (spread.length === 0) return { chosen: order.slice(0, want), skewBlocked: false };
  const domains = spread.map((s) => {
    const counts = new Map<string, number>();
    for (const i of order) {
      const v = topologyValue(clusters[i].labels, s.topologyKey);
      if (v !== undefined && !counts.has(v)) counts.set(v, 0);
    }
    return counts;
  });
  const chosen: number[] = [];
  const taken = new Uint8Array(clusters.length);
  const fits = (i: number, hardOnly: boolean): boolean => {
    for (let k = 0; k < spread.length; k++) {
      const s = spread[k];
      if (hardOnly && s.whenUnsatisfiable === 'ScheduleAnyway') continue;
      const v = topologyValue(clusters[i].labels, s.topologyKey);
      if (v === undefined) continue;
      const counts = domains[k];
      const after = (counts.get(v) ?? 0) + 1;
      let min = Infinity;
      for (const [d, n] of counts) min = Math.min(min, d === v ? after : n);
      if (after - min > s.maxSkew) return false;
    }
    return true;
  };
  let skewBlocked = false;
  while (chosen.length < want) {
    let pick = order.find((i) => !taken[i] && fits(i, false));
    if (pick === undefined) pick = order.find((i) => !taken[i] && fits(i, true));
    if (pick === undefined) {
      skewBlocked = order.some((i) => !taken[i]);
      break;
    }
    taken[pick] = 1;
    chosen.push(pick);
    for (let k = 0; k < spread.length; k++) {
      const v = topologyValue(clusters[pick].labels, spread[k].topologyKey);
      if (v !== undefined) domains[k].set(v, (domains[k].get(v) ?? 0) + 1);
    }
  }
  return { chosen, skewBlocked };
}

function summarize(rejections: Map<string, number>): string {
  return [...rejections.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([text, n]) => `${n} ${text}`)
    .join(', ');
}

function weightsFor(
  policy: CompiledPolicy | undefined,
  clusters: ClusterInfo[],
  chosen: number[],
  demand: Resources | undefined,
): number[] {
  const r = policy?.replicas;
  if (!r || r.mode !== 'Divided') return chosen.map(() => 1);
  if (r.byCapacity) {
    const fits = chosen.map((i) => replicasThatFit(clusters[i], demand));
    const finite = fits.filter(Number.isFinite);
    // A cluster that reports no capacity weighs as much as the roomiest one that does (or all equal if none does).
    const fallback = finite.length ? Math.max(...finite) : 1;
    return fits.map((f) => (Number.isFinite(f) ? f : fallback));
  }
  if (r.weights?.length) {
    const entries = r.weights;
    const matchers = policy.replicaWeightMatchers;
    // A weight naming the cluster wins over one matching its labels; a cluster no entry names weighs 0.
    return chosen.map((i) => {
      const c = clusters[i];
      const exact = entries.find((w) => w.cluster === c.name);
      if (exact) return exact.weight;
      const k = entries.findIndex((w, j) => w.labelSelector !== undefined && matchers[j](c.labels));
      return k >= 0 ? entries[k].weight : 0;
    });
  }
  return chosen.map(() => 1);
}

/** A core/v1 Namespace of the workspace: the unit the default and namespace-wide Placements schedule. */
export function isNamespace(object: Pick<KubeObject, 'apiVersion' | 'kind'>): boolean {
  return object.apiVersion === 'v1' && object.kind === 'Namespace';
}

function placedBy(placementName: string): string {
  if (placementName === DEFAULT_PLACEMENT_NAME) return 'the default placement';
  if (placementName === WORKSPACE_WORK_PLACEMENT_NAME)
    return "the workspace's work (cluster-scoped, no Placement's objectSelectors name it)";
  return `Placement ${placementName}`;
}

function workspaceRejection(clusters: string[]): { names: Set<string>; rejection: Rejection } {
  const where = clusters.length ? clusters.join(', ') : 'no cluster yet';
  return {
    names: new Set(clusters),
    rejection: {
      filter: 'workspace',
      summary: `not running the workspace's namespaced work (${where})`,
      detail: `the workspace's namespaces are placed on ${where}; cluster-scoped objects follow them unless a Placement's objectSelectors name the kind`,
    },
  };
}

function followRejection(namespace: string, clusters: string[]): { names: Set<string>; rejection: Rejection } {
  const where = clusters.length ? clusters.join(', ') : 'no cluster';
  return {
    names: new Set(clusters),
    rejection: {
      filter: 'namespace',
      summary: `not where namespace ${namespace} is placed (${where})`,
      detail: `namespace ${namespace} is placed on ${where}; its objects follow it`,
    },
  };
}

/**
 * Decides where one object runs. Never throws on bad luck: an unsatisfiable policy is `scheduled: false` with a
 * reason and a message that names what to change.
 */
export function decide(input: DecideInput): Decision {
  const { object, clusters, previous } = input;
  const now = input.options?.now ?? Date.now();
  const what = describeRef({
    kind: object.kind,
    namespace: object.metadata.namespace,
    name: object.metadata.name ?? '',
  });
  const weights = { ...SCORE_WEIGHTS, stabilityBonus: STABILITY_BONUS };
  if (object.metadata.deletionTimestamp) {
    return {
      clusters: [],
      scheduled: false,
      reason: 'Deleted',
      message: `${what} is being deleted`,
      explanation: [],
      weights,
    };
  }
  // A Namespace is placed as the namespace itself: selected by namespaceSelector on its own labels, hashed like the
  // objects in it, so the default placement and a namespace-wide Placement put it where its objects go.
  const namespaceObject = isNamespace(object);
  const selectionView = namespaceObject
    ? { ...object, metadata: { ...object.metadata, namespace: object.metadata.name } }
    : object;
  const selectionLabels = namespaceObject ? (object.metadata.labels ?? {}) : input.namespaceLabels;
  let policy: CompiledPolicy | undefined;
  // A cluster-scoped object that no Placement's objectSelectors name follows the workspace's work: it goes to every
  // cluster one of the workspace's namespaces is placed on (a CRD or ClusterRole is needed wherever the app runs).
  const clusterScoped = !namespaceObject && object.metadata.namespace === undefined;
  const placement =
    input.policies.length > 0 ? governingPlacement(input.policies, selectionView, selectionLabels) : undefined;
  if (placement) policy = compilePolicy(placement, input.locations);
  else if (input.policies.length > 0 && !clusterScoped) {
    const ns = object.metadata.namespace;
    return {
      clusters: [],
      scheduled: false,
      reason: 'NoMatchingPlacement',
      message: `No Placement selects ${what}: ${input.policies.length} Placement(s) in the workspace, none whose namespaceSelector and objectSelectors match${ns ? ` namespace ${ns}` : ''}. Label the namespace or add a Placement that selects it`,
      explanation: [],
      weights,
    };
  }
  const followsWorkspace = clusterScoped && !policy;
  const placementName = policy?.name ?? (followsWorkspace ? WORKSPACE_WORK_PLACEMENT_NAME : DEFAULT_PLACEMENT_NAME);
  if (clusters.length === 0) {
    return {
      clusters: [],
      scheduled: false,
      reason: 'NoClusters',
      message:
        '0/0 clusters: no SyncTarget is registered in this workspace. Register a cluster (a SyncTarget) and tmc places the object there',
      placement: placementName,
      explanation: [],
      weights,
    };
  }

  const totalReplicas = replicasOf(object);
  const divided = policy?.replicas.mode === 'Divided';
  const demand = demandPerReplica(object);
  const rebalance =
    policy !== undefined &&
    (policy.rebalanceAlways ||
      (policy.rebalanceToken !== undefined && policy.rebalanceToken !== previous?.rebalanceToken));
  // A Placement that selects objects (objectSelectors) places them on their own; otherwise they follow the namespace.
  const follows =
    input.namespaceClusters !== undefined &&
    !namespaceObject &&
    object.metadata.namespace !== undefined &&
    !policy?.placement.spec.objectSelectors?.length;
  const follow = follows
    ? followRejection(object.metadata.namespace ?? '', input.namespaceClusters ?? [])
    : followsWorkspace
      ? workspaceRejection(input.workspaceClusters ?? [])
      : undefined;
  const risky = riskyKindOf(object);
  const ctx: FilterContext = {
    policy,
    follow,
    now,
    demand,
    needed: totalReplicas === undefined ? 0 : divided ? Math.min(1, totalReplicas) : totalReplicas,
    rebalance,
    ...(risky ? { risky } : {}),
  };
  const previousNames = new Set<string>();
  if (previous) for (const c of previous.clusters) previousNames.add(c.name);
  // The default placement hashes the namespace (a Namespace: its own name; other cluster-scoped objects: their name).
  const namespaceKey =
    selectionView.metadata.namespace !== undefined
      ? `ns:${selectionView.metadata.namespace}`
      : `obj:${object.metadata.name ?? ''}`;

  const n = clusters.length;
  const rejected = new Array<Rejection | undefined>(n);
  const outcome = new Uint8Array(n);
  // Scores are written to one small buffer and summed; the explanation recomputes them (a pure function) if read.
  const scoreBuf = new Float64Array(K);
  const totals = new Float64Array(n);
  const tie = new Uint32Array(n);
  const feasible: number[] = [];
  const rejections = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const c = clusters[i];
    const wasPlaced = previousNames.has(c.name);
    const rejection = filterCluster(c, wasPlaced, ctx);
    if (rejection) {
      rejected[i] = rejection;
      rejections.set(rejection.summary, (rejections.get(rejection.summary) ?? 0) + 1);
      continue;
    }
    totals[i] = scoreCluster(c, wasPlaced, ctx, namespaceKey, scoreBuf, 0);
    tie[i] = fnv1a(c.name);
    feasible.push(i);
  }
  const rescore = (i: number, buf: Float64Array): void => {
    scoreCluster(clusters[i], previousNames.has(clusters[i].name), ctx, namespaceKey, buf, 0);
  };
  const explain = lazyExplanation(clusters, rejected, outcome, rescore, totals);
  // Highest total first; equal totals by a hash of the name (not the name, so "a-…" clusters do not fill first).
  // The comparator returns only -1/0/1: a double (totals) or uint32 (hashes) difference is boxed on every call from
  // the sort builtin, garbage that grows with the cluster count.
  feasible.sort((a, b) => {
    if (totals[a] !== totals[b]) return totals[a] > totals[b] ? -1 : 1;
    if (tie[a] !== tie[b]) return tie[a] < tie[b] ? -1 : 1;
    return clusters[a].name < clusters[b].name ? -1 : clusters[a].name > clusters[b].name ? 1 : 0;
  });

  const requested = policy ? (policy.numberOfClusters ?? feasible.length) : followsWorkspace ? feasible.length : 1;
  const { chosen, skewBlocked } = selectWithSpread(feasible, clusters, Math.min(requested, feasible.length), policy);
  const notChosen = skewBlocked && policy?.spread.length ? Outcome.SpreadOrLowerScore : Outcome.LowerScore;
  for (const i of feasible) outcome[i] = notChosen;

  if (chosen.length === 0) {
    return withExplanation(
      {
        clusters: [],
        scheduled: false,
        reason: 'Unschedulable',
        message: `0/${clusters.length} clusters match: ${summarize(rejections)}. ${
          risky && rejections.has(`does not allow ${risky.entry}`)
            ? `${risky.entry} ${risky.why}: add it to a SyncTarget's spec.allowedRiskyKinds to place it there`
            : `${policy ? `Relax Placement ${policy.name}` : 'Uncordon or heal a cluster'} or register a matching SyncTarget`
        }`,
        placement: placementName,
        weights,
        rebalanceToken: policy?.rebalanceToken,
      },
      explain,
    );
  }

  // Replicas: duplicated, or divided by weight or capacity; the largest remainder makes the split deterministic.
  let shares: Array<number | undefined> = chosen.map(() => totalReplicas);
  if (divided && totalReplicas !== undefined) {
    shares = divideReplicas(
      totalReplicas,
      chosen.map((i) => clusters[i].name),
      weightsFor(policy, clusters, chosen, demand),
    );
  }
  const decided: DecisionCluster[] = [];
  chosen.forEach((i, k) => {
    const c = clusters[i];
    let replicas = shares[k];
    // A divided object with replicas to spare does not need a copy where its share is zero.
    if (divided && totalReplicas !== undefined && totalReplicas > 0 && replicas === 0) {
      outcome[i] = Outcome.ZeroShare;
      return;
    }
    const patch: JsonPatchOperation[] = [];
    for (const o of policy?.overrides ?? []) {
      if (!(o.clusters?.has(c.name) || (o.match !== undefined && o.match(c.labels)))) continue;
      if (o.override.replicas !== undefined && replicas !== undefined) replicas = o.override.replicas;
      patch.push(...overrideToPatch(object, o.override));
    }
    outcome[i] = Outcome.Chosen;
    decided.push({ name: c.name, ...(replicas !== undefined ? { replicas } : {}), ...(patch.length ? { patch } : {}) });
  });
  decided.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const partial = policy?.numberOfClusters !== undefined && chosen.length < policy.numberOfClusters;
  const names = decided.map((d) => d.name).join(', ');
  const rejectedText = rejections.size ? ` (${summarize(rejections)})` : '';
  return withExplanation(
    {
      clusters: decided,
      scheduled: true,
      reason: partial ? 'PartiallyScheduled' : 'Scheduled',
      message: partial
        ? `${chosen.length}/${policy!.numberOfClusters} clusters selected: ${feasible.length}/${clusters.length} clusters match${rejectedText}${skewBlocked ? ', spreadConstraints maxSkew blocks the rest' : ''}; placed on ${names}`
        : `Placed on ${names} by ${placedBy(placementName)}; ${feasible.length}/${clusters.length} clusters match${rejectedText}`,
      placement: placementName,
      weights,
      rebalanceToken: policy?.rebalanceToken,
      ...(totalReplicas !== undefined ? { replicaMode: divided ? ('Divided' as const) : ('Duplicated' as const) } : {}),
    },
    explain,
  );
}
