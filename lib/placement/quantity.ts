import type { ResourceList } from '../api/crds';
import { parseQuantity } from '../kube/quantity';
import type { Resources } from './types';

export function parseResources(list: ResourceList | undefined): Resources | undefined {
  if (!list) return undefined;
  return { cpu: parseQuantity(list.cpu), memory: parseQuantity(list.memory), pods: parseQuantity(list.pods) };
}
