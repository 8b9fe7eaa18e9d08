import { canonicalJson } from '../../kube/canonical-json';
import type { AggregateInput, AggregateStatus } from './types';

/** Service: every cluster's load-balancer ingress, in placement order, duplicates dropped. */
export function aggregateService(input: AggregateInput): AggregateStatus {
  const seen = new Set<string>();
  const ingress: unknown[] = [];
  for (const c of input.clusters) {
    const lb = c.status?.loadBalancer;
    const entries =
      typeof lb === 'object' && lb !== null && Array.isArray((lb as { ingress?: unknown }).ingress)
        ? (lb as { ingress: unknown[] }).ingress
        : [];
    for (const entry of entries) {
      const key = canonicalJson(entry);
      if (!seen.has(key)) {
        seen.add(key);
        ingress.push(entry);
      }
    }
  }
  return { loadBalancer: ingress.length ? { ingress } : {} };
}
