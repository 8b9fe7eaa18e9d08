import type { Condition, Location, Placement, PlacementStatus } from '../api/crds';
import { canonicalJson } from '../kube/canonical-json';
import { decide } from './engine';
import type { ClusterInfo } from './types';

/**
 * What a Placement selects on its own, for its status: the engine run against a probe object the Placement is
 * forced to govern (no namespace or object selectors), so `kubectl get placements` shows CLUSTERS and PHASE and the
 * `Scheduled` condition says why not, in the engine's words.
 */
export function evaluatePlacement(
  placement: Placement,
  locations: Location[],
  clusters: ClusterInfo[],
  now: number,
): PlacementStatus {
  // The probe is cluster-scoped, and those are reached only by a Placement whose objectSelectors name them.
  const probe = {
    ...placement,
    spec: {
      ...placement.spec,
      namespaceSelector: undefined,
      objectSelectors: [{ group: 'tmc.kcp.io', kind: 'PlacementProbe' }],
      replicas: undefined,
      overrides: undefined,
    },
  };
  const d = decide({
    object: { apiVersion: 'tmc.kcp.io/v1alpha1', kind: 'PlacementProbe', metadata: { name: placement.metadata.name } },
    policies: [probe],
    locations,
    clusters,
    options: { now },
  });
  const matched = d.explanation.filter((e) => !e.rejectedBy).length;
  const condition: Condition = {
    type: 'Scheduled',
    status: d.scheduled ? 'True' : 'False',
    reason: d.reason,
    message: d.message.replace('PlacementProbe ', 'Placement '),
    observedGeneration: placement.metadata.generation,
  };
  return {
    phase: d.scheduled ? 'Scheduled' : 'Unschedulable',
    observedGeneration: placement.metadata.generation,
    conditions: [condition],
    selectedClusters: d.clusters.map((c) => c.name).join(','),
    decisions: { clusters: d.clusters.map((c) => ({ name: c.name })), matched, total: clusters.length },
  };
}

function comparable(status: PlacementStatus | undefined): string {
  const conditions = (status?.conditions ?? []).map(({ lastTransitionTime: _t, ...c }) => c);
  return canonicalJson({ ...status, conditions });
}

/** The status patch for a Placement, or undefined when its status already says this (no write). */
export function placementStatusPatch(
  placement: Placement,
  locations: Location[],
  clusters: ClusterInfo[],
  now: number,
): PlacementStatus | undefined {
  const next = evaluatePlacement(placement, locations, clusters, now);
  if (comparable(next) === comparable(placement.status)) return undefined;
  const previous = placement.status?.conditions?.find((c) => c.type === 'Scheduled');
  const transitioned = !previous || previous.status !== next.conditions![0].status;
  next.conditions![0].lastTransitionTime = transitioned ? new Date(now).toISOString() : previous.lastTransitionTime;
  return next;
}
