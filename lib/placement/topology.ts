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
