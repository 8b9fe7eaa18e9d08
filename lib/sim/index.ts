// The Kubernetes/kcp API simulator: see docs/simulator.md.
export type { SimClusterStore, StoreEvent } from './contracts';
export {
  type FaultMatch,
  type FaultResponse,
  type FaultRule,
  type FaultRuleState,
  type FaultSettings,
  FaultSettingsSchema,
  type FaultState,
  FaultController,
} from './faults';
export { DEFAULT_EVENT_TTL_MS } from './object-space';
export { seededRandom } from './seeded-random';
export { LONG_RUNNING_REQUEST_LOG_LIMIT, type RequestFilter, RequestLog, type RequestRecord } from './request-log';
export {
  type SimServer,
  type SimServerOptions,
  type SimSnapshot,
  SimSnapshotSchema,
  startSimServer,
} from './sim-server';
export {
  runSimulatorStandalone,
  type SimulatedClusterSpec,
  type Simulation,
  type SimulationOptions,
  startSimulation,
} from './simulation';
