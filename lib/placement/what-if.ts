import type { Location, Placement } from '../api/crds';
import type { KubeObject } from '../kube/object';
import type { StoredDecision } from '../ports/decision-store';
import { diffDecisions } from './diff';
import { decide } from './engine';
import type { ClusterInfo } from './types';

export interface Hypothesis {
  cordon?: string[];
  down?: string[];
  /** Placements that replace (by name) or join the workspace's. */
  placements?: Placement[];
}

export interface WhatIfMove {
  object: string;
  before: string[];
  after: string[];
  scheduled: boolean;
  message: string;
}

/** The inventory and policies with the hypothetical change applied; nothing here reads or writes anywhere. */
export function applyHypothesis(
  clusters: ClusterInfo[],
  placements: Placement[],
  h: Hypothesis,
): { clusters: ClusterInfo[]; placements: Placement[] } {
  const cordon = new Set(h.cordon ?? []);
  const down = new Set(h.down ?? []);
  const changed = clusters.map((c) => ({
    ...c,
    ...(cordon.has(c.name) ? { unschedulable: true } : {}),
    // Down since forever: placed work is past evictAfter, so the what-if shows the failover.
    ...(down.has(c.name) ? { health: 'Unhealthy' as const, unhealthySince: 0 } : {}),
  }));
  const replaced = new Map(placements.map((p) => [p.metadata.name, p]));
  for (const p of h.placements ?? []) replaced.set(p.metadata.name, p);
  return { clusters: changed, placements: [...replaced.values()] };
}

/** Re-decides every object under the hypothesis and lists those whose clusters would change. */
export function whatIf(
  inputs: Array<{ decision: StoredDecision; object: KubeObject; namespaceLabels?: Record<string, string> }>,
  placements: Placement[],
  locations: Location[],
  clusters: ClusterInfo[],
  h: Hypothesis,
  now: number,
): WhatIfMove[] {
  const world = applyHypothesis(clusters, placements, h);
  const moves: WhatIfMove[] = [];
  for (const { decision, object, namespaceLabels } of inputs) {
    const next = decide({
      object,
      namespaceLabels,
      policies: world.placements,
      locations,
      clusters: world.clusters,
      previous: { clusters: decision.clusters, rebalanceToken: decision.rebalanceToken },
      options: { now },
    });
    const diff = diffDecisions(decision.clusters, next.clusters);
    if (diff.added.length || diff.removed.length || diff.changed.length || next.scheduled !== decision.scheduled) {
      moves.push({
        object: `${decision.ref.kind} ${decision.ref.namespace ? `${decision.ref.namespace}/` : ''}${decision.ref.name}`,
        before: decision.clusters.map((c) => c.name),
        after: next.clusters.map((c) => c.name),
        scheduled: next.scheduled,
        message: next.message,
      });
    }
  }
  return moves;
}
