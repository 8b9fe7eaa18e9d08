import { cpuMillis, memoryBytes } from '../../kube/quantity';

export interface PodRequests {
  cpuMillis: number;
  memoryBytes: number;
}

type ResourceMap = Record<string, string | number | undefined>;

interface ContainerLike {
  resources?: { requests?: ResourceMap; limits?: ResourceMap };
}

function containerRequests(container: ContainerLike): PodRequests {
  // A container with only limits is defaulted to requests equal to its limits.
  const requests = container.resources?.requests ?? {};
  const limits = container.resources?.limits ?? {};
  return {
    cpuMillis: cpuMillis(requests.cpu ?? limits.cpu),
    memoryBytes: memoryBytes(requests.memory ?? limits.memory),
  };
}

function asContainers(value: unknown): ContainerLike[] {
  return Array.isArray(value)
    ? value.filter((item): item is ContainerLike => typeof item === 'object' && item !== null)
    : [];
}

/**
 * What the scheduler reserves for one pod of a template: the sum of the app containers' requests, or the largest
 * init container's when that is larger (init containers run one at a time, before the app containers).
 */
export function podRequests(podSpec: Record<string, unknown> | undefined): PodRequests {
  const total: PodRequests = { cpuMillis: 0, memoryBytes: 0 };
  for (const container of asContainers(podSpec?.containers)) {
    const requests = containerRequests(container);
    total.cpuMillis += requests.cpuMillis;
    total.memoryBytes += requests.memoryBytes;
  }
  for (const container of asContainers(podSpec?.initContainers)) {
    const requests = containerRequests(container);
    total.cpuMillis = Math.max(total.cpuMillis, requests.cpuMillis);
    total.memoryBytes = Math.max(total.memoryBytes, requests.memoryBytes);
  }
  return total;
}
