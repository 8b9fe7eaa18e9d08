/** A simulated physical cluster of the local stack: its SyncTarget labels and the capacity the simulator enforces. */
export interface LocalClusterSpec {
  name: string;
  region: string;
  zone: string;
  provider: string;
  capacity: { cpu: string; memory: string; pods: string };
  /** A managed cluster (EKS, GKE, AKS): its status webhook calls carry no bearer token, only the URL's credential. */
  managed?: boolean;
}

/** Three clusters in two clouds and one on-premises site, so placement by region and provider has something to choose. */
export const DEFAULT_CLUSTERS: LocalClusterSpec[] = [
  {
    name: 'east',
    region: 'us-east-1',
    zone: 'us-east-1a',
    provider: 'aws',
    capacity: { cpu: '16', memory: '64Gi', pods: '110' },
  },
  {
    name: 'west',
    region: 'us-west-2',
    zone: 'us-west-2b',
    provider: 'aws',
    capacity: { cpu: '8', memory: '32Gi', pods: '110' },
  },
  {
    name: 'edge',
    region: 'eu-central-1',
    zone: 'eu-central-1-fra',
    provider: 'onprem',
    capacity: { cpu: '4', memory: '8Gi', pods: '50' },
  },
];

/**
 * `--clusters 5` (the defaults, then `cluster-4`, `cluster-5` cycling through their regions) or `--clusters a,b`
 * (those names, with the defaults' labels in turn).
 */
export function resolveClusters(request: number | string[] | LocalClusterSpec[] | undefined): LocalClusterSpec[] {
  if (request === undefined) return DEFAULT_CLUSTERS;
  if (typeof request === 'number') {
    if (!Number.isInteger(request) || request < 0) throw new Error(`--clusters must be a whole number, got ${request}`);
    return Array.from({ length: request }, (_, i) => {
      const template = DEFAULT_CLUSTERS[i % DEFAULT_CLUSTERS.length];
      return i < DEFAULT_CLUSTERS.length ? template : { ...template, name: `cluster-${i + 1}` };
    });
  }
  return request.map((entry, i) => {
    if (typeof entry !== 'string') return entry;
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(entry))
      throw new Error(`Cluster name ${entry} is not a DNS-1123 label`);
    return { ...DEFAULT_CLUSTERS[i % DEFAULT_CLUSTERS.length], name: entry };
  });
}

/** The SyncTarget labels of a cluster: tmc's short keys plus the well-known topology keys kubectl shows. */
export function clusterLabels(spec: LocalClusterSpec): Record<string, string> {
  return {
    region: spec.region,
    zone: spec.zone,
    provider: spec.provider,
    'topology.kubernetes.io/region': spec.region,
    'topology.kubernetes.io/zone': spec.zone,
  };
}
