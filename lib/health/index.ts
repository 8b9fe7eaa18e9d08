/** The health system's public surface: what placement, sync-apply, recovery and every function import. */
export {
  ClusterHealthSchema,
  ComponentHealthRecordSchema,
  HealthObservationSchema,
  HealthStateSchema,
  HEALTH_HISTORY_LIMIT,
  type ClusterHealth,
  type ComponentHealthRecord,
  type HealthObservation,
  type HealthState,
} from './cluster-health';
export {
  aggregateHealth,
  classifyCluster,
  classifyComponent,
  clusterVerdictAt,
  componentThresholdsFor,
  observeCluster,
  DEFAULT_CLUSTER_THRESHOLDS,
  DEFAULT_COMPONENT_THRESHOLDS,
  type ClusterThresholds,
  type ComponentThresholds,
  type HealthVerdict,
  type NamedVerdict,
} from './rules';
export { recordClusterObservation, type ClusterHealthChange } from './record-observation';
export { makeClusterFailureReporter, type ClusterFailureReporterDeps, type ReportClusterFailure } from './report-cluster-failure';
export { clusterChangeMessage } from './cluster-change-message';
export { makeInvocationRecorder, type RecordInvocation } from './record-invocation';
export { planSyncTargetStatus, desiredConditions, DEFAULT_HEARTBEAT_INTERVAL_SECONDS } from './sync-target-status';
export { probeClusters, parseWorkspaces, type ProbeClustersDeps, type ProbeRunReport } from './probe-clusters';
export { buildHealthReport, buildClusterReport, type HealthReport, type ClusterDetailReport } from './health-report';
