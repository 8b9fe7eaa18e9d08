import type { DecisionCluster } from './types';

export interface DecisionDiff {
  added: string[];
  removed: string[];
  /** Clusters kept whose replicas or overrides changed. */
  changed: string[];
  unchanged: string[];
}

function sameCluster(a: DecisionCluster, b: DecisionCluster): boolean {
  return a.replicas === b.replicas && JSON.stringify(a.patch ?? []) === JSON.stringify(b.patch ?? []);
}

/** What moved between two decisions: the sync messages and the explanation's "diff" come from this. */
export function diffDecisions(previous: DecisionCluster[] | undefined, next: DecisionCluster[]): DecisionDiff {
  const before = new Map((previous ?? []).map((c) => [c.name, c]));
  const diff: DecisionDiff = { added: [], removed: [], changed: [], unchanged: [] };
  const seen = new Set<string>();
  for (const c of next) {
    seen.add(c.name);
    const old = before.get(c.name);
    if (!old) diff.added.push(c.name);
    else if (sameCluster(old, c)) diff.unchanged.push(c.name);
    else diff.changed.push(c.name);
  }
  for (const name of before.keys()) if (!seen.has(name)) diff.removed.push(name);
  diff.removed.sort();
  return diff;
}
