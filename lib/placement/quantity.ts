import type { Quantity, ResourceList } from '../api/crds';
import type { Resources } from './types';

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
const QUANTITY = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([numkMGTPE]|[KMGTPE]i)?$/;

/** A Kubernetes quantity in base units (`500m` → 0.5, `2Gi` → 2147483648); undefined when it is not one. */
export function parseQuantity(q: Quantity | undefined): number | undefined {
  if (q === undefined) return undefined;
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  const m = QUANTITY.exec(q.trim());
  if (!m) return undefined;
  const value = Number(m[1]) * SUFFIX[m[2] ?? ''];
  return Number.isFinite(value) ? value : undefined;
}

export function parseResources(list: ResourceList | undefined): Resources | undefined {
  if (!list) return undefined;
  return { cpu: parseQuantity(list.cpu), memory: parseQuantity(list.memory), pods: parseQuantity(list.pods) };
}
