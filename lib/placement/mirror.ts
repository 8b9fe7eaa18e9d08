import { createHash } from 'node:crypto';
import type { SyncTarget } from '../api/crds';
import type { SyncTargetMirror } from '../ports/cluster-inventory';
import { parseResources } from './quantity';

const UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Go duration (`1h30m`) in seconds; undefined when absent or malformed. */
export function parseDurationSeconds(text: string | undefined): number | undefined {
  if (!text) return undefined;
  let total = 0;
  let matched = '';
  for (const m of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m|h)/g)) {
    total += Number(m[1]) * UNITS[m[2]];
    matched += m[0];
  }
  return matched === text ? total : undefined;
}

function credentialsRef(st: SyncTarget): string {
  const c = st.spec.workloadCluster.credentials;
  if (c === undefined) return 'none';
  if (c.secretRef) return `secretRef:${c.secretRef.namespace}/${c.secretRef.name}`;
  if (c.secretsManagerArn) return `secretsManager:${c.secretsManagerArn}`;
  return c.eks ? `eks:${c.eks.region}/${c.eks.clusterName}` : 'none';
}

/** The DynamoDB mirror of a SyncTarget: scheduling facts and a credentials reference, hashed for change detection. */
export function mirrorOf(workspace: string, st: SyncTarget, now: Date): SyncTargetMirror {
  const capacity = parseResources(st.status?.capacity ?? st.spec.capacity);
  const allocatable = parseResources(st.status?.allocatable);
  const body = {
    workspace,
    name: st.metadata.name,
    uid: st.metadata.uid,
    endpoint: st.spec.workloadCluster.endpoint,
    credentialsRef: credentialsRef(st),
    labels: st.metadata.labels ?? {},
    taints: st.spec.taints ?? [],
    unschedulable: st.spec.unschedulable ?? false,
    evictAfterSeconds: parseDurationSeconds(st.spec.evictAfter),
    allowedRiskyKinds: st.spec.allowedRiskyKinds,
    capacity,
    allocatable,
  };
  const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32);
  return JSON.parse(JSON.stringify({ ...body, hash, updatedAt: now.toISOString() })) as SyncTargetMirror;
}
