// Placeholder until the workload controllers land (being built now); the server imports this name.
import type { SimClusterStore, WorkloadSimulationOptions, WorkloadSimulator } from '../contracts';

export function startWorkloadSimulator(_store: SimClusterStore, _options: WorkloadSimulationOptions): WorkloadSimulator {
  return { stop: (): void => undefined };
}
