import type { LabelSelector } from '../api/crds';

export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

export const MATCH_ALL: LabelMatcher = () => true;

interface CompiledRequirement {
  key: string;
  op: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: Set<string>;
}

/**
 * A label selector compiled once into a closure over flat arrays, so matching it against a thousand clusters
 * allocates nothing. Semantics are Kubernetes': an empty selector matches everything, NotIn matches a missing key.
 */
export function compileSelector(selector: LabelSelector | undefined): LabelMatcher {
  if (!selector) return MATCH_ALL;
  const keys: string[] = [];
  const values: string[] = [];
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    keys.push(k);
    values.push(v);
  }
  const reqs: CompiledRequirement[] = (selector.matchExpressions ?? []).map((r) => ({ key: r.key, op: r.operator, values: new Set(r.values ?? []) }));
  if (keys.length === 0 && reqs.length === 0) return MATCH_ALL;
  return (labels) => {
    const l = labels ?? {};
    for (let i = 0; i < keys.length; i++) if (l[keys[i]] !== values[i]) return false;
    for (let i = 0; i < reqs.length; i++) {
      const r = reqs[i];
      const v = l[r.key];
      switch (r.op) {
        case 'In':
          if (v === undefined || !r.values.has(v)) return false;
          break;
        case 'NotIn':
          if (v !== undefined && r.values.has(v)) return false;
          break;
        case 'Exists':
          if (v === undefined) return false;
          break;
        case 'DoesNotExist':
          if (v !== undefined) return false;
          break;
      }
    }
    return true;
  };
}

/** `team=a,tier in (gold,silver),!legacy`: kubectl's selector syntax, for messages and `--selector`. */
export function describeSelector(selector: LabelSelector | undefined): string {
  if (!selector) return '<all>';
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const r of selector.matchExpressions ?? []) {
    if (r.operator === 'Exists') parts.push(r.key);
    else if (r.operator === 'DoesNotExist') parts.push(`!${r.key}`);
    else parts.push(`${r.key} ${r.operator === 'In' ? 'in' : 'notin'} (${(r.values ?? []).join(',')})`);
  }
  return parts.length ? parts.join(',') : '<all>';
}

/**
 * Topology labels. tmc reads the well-known Kubernetes labels first and accepts short aliases, so a SyncTarget
 * labelled either way works; `provider` has no Kubernetes label, so tmc defines `tmc.kcp.io/provider`.
 */
export const TOPOLOGY_LABELS: Record<string, readonly string[]> = {
  region: ['topology.kubernetes.io/region', 'region'],
  zone: ['topology.kubernetes.io/zone', 'zone'],
  provider: ['tmc.kcp.io/provider', 'provider'],
};

/** The value of a topology key (`region`, `zone`, `provider`, or any label) on a cluster's labels. */
export function topologyValue(labels: Record<string, string>, key: string): string | undefined {
  const aliases = TOPOLOGY_LABELS[key];
  if (!aliases) return labels[key];
  for (let i = 0; i < aliases.length; i++) {
    const v = labels[aliases[i]];
    if (v !== undefined) return v;
  }
  return undefined;
}
