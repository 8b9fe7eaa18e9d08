export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
}

export type DesiredCondition = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

/**
 * Sets conditions the way the workload controllers do: an unchanged condition is kept as it is (so a no-op
 * produces an identical status and no write), lastTransitionTime moves only when the status flips, and the
 * kind's own timestamp field (Deployments: lastUpdateTime, Jobs: lastProbeTime) moves on any change.
 */
export function setConditions(
  existing: unknown,
  desired: DesiredCondition[],
  remove: string[],
  now: string,
  touchedField: 'lastUpdateTime' | 'lastProbeTime',
): Condition[] {
  const current = Array.isArray(existing) ? existing.filter(isCondition) : [];
  const result = current.filter((condition) => !remove.includes(condition.type));
  for (const want of desired) {
    const index = result.findIndex((condition) => condition.type === want.type);
    const old = index >= 0 ? result[index] : undefined;
    if (old && old.status === want.status && old.reason === want.reason && old.message === want.message) continue;
    const next: Condition = {
      type: want.type,
      status: want.status,
      [touchedField]: now,
      lastTransitionTime: old && old.status === want.status && old.lastTransitionTime ? old.lastTransitionTime : now,
      reason: want.reason,
      message: want.message,
    };
    if (index >= 0) result[index] = next;
    else result.push(next);
  }
  return result;
}

function isCondition(value: unknown): value is Condition {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
