import type { PodRequests } from './pod-requests';
import { cpuMillis, memoryBytes } from '../../kube/quantity';

export interface Allocation {
  /** Pods that fit (0..wanted). */
  granted: number;
  /** The resources that kept pods out, in the scheduler's words (`cpu`, `memory`, `pods`). */
  insufficient: string[];
  /** True when the workload now holds less than before, so starved workloads may fit. */
  freed: boolean;
}

/** Allocatable capacity of a simulated cluster, shared by every workload in one object space. */
export interface CapacityLedger {
  /** Replaces the workload's reservation with as many of `wanted` pods as fit next to everyone else's. */
  allocate(key: string, perPod: PodRequests, wanted: number): Allocation;
  /** Drops the workload's reservation; true when it held any. */
  release(key: string): boolean;
}

interface Reservation {
  pods: number;
  cpuMillis: number;
  memoryBytes: number;
}

export function createCapacityLedger(capacity: { cpu?: string; memory?: string; pods?: number }): CapacityLedger {
  const limit = {
    cpuMillis: capacity.cpu === undefined ? Infinity : cpuMillis(capacity.cpu),
    memoryBytes: capacity.memory === undefined ? Infinity : memoryBytes(capacity.memory),
    pods: capacity.pods ?? Infinity,
  };
  const reservations = new Map<string, Reservation>();
  // Running totals keep allocate O(1): thousands of workloads re-evaluate against them.
  const used: Reservation = { pods: 0, cpuMillis: 0, memoryBytes: 0 };

  function release(key: string): boolean {
    const held = reservations.get(key);
    if (!held) return false;
    used.pods -= held.pods;
    used.cpuMillis -= held.cpuMillis;
    used.memoryBytes -= held.memoryBytes;
    reservations.delete(key);
    return held.pods > 0;
  }

  return {
    release,
    allocate(key, perPod, wanted): Allocation {
      const before = reservations.get(key)?.pods ?? 0;
      release(key);
      const fits = (free: number, each: number): number => (each <= 0 ? Infinity : Math.floor(free / each));
      const byResource: Array<[string, number]> = [
        ['cpu', fits(limit.cpuMillis - used.cpuMillis, perPod.cpuMillis)],
        ['memory', fits(limit.memoryBytes - used.memoryBytes, perPod.memoryBytes)],
        ['pods', fits(limit.pods - used.pods, 1)],
      ];
      const granted = Math.max(0, Math.min(wanted, ...byResource.map(([, count]) => count)));
      const held: Reservation = {
        pods: granted,
        cpuMillis: granted * perPod.cpuMillis,
        memoryBytes: granted * perPod.memoryBytes,
      };
      reservations.set(key, held);
      used.pods += held.pods;
      used.cpuMillis += held.cpuMillis;
      used.memoryBytes += held.memoryBytes;
      const insufficient =
        granted < wanted ? byResource.filter(([, count]) => count < wanted).map(([name]) => name) : [];
      return { granted, insufficient, freed: granted < before };
    },
  };
}
