// kwok-style workload controllers the simulator's server starts per object space.
export {
  startWorkloadSimulator,
  type WorkloadSimulatorExtras,
  type WorkloadSimulatorOptions,
} from './workload-simulator';
export { JOB_FAIL_ANNOTATION } from './job-status';
