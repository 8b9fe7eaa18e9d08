import { DEFAULT_FAILOVER_HOLD, type FailoverHoldSettings } from '../health/failover-hold';
import { DEFAULT_CLUSTER_THRESHOLDS, type ClusterThresholds } from '../health/rules';
import { numberFrom, type Environment } from './config';

/**
 * The cluster health rules' settings from the environment, the same in every function that records an observation
 * or judges a cluster: `TMC_CLUSTER_UNHEALTHY_GRACE_SECONDS` (default 40, like kube's node monitor grace period).
 */
export function clusterThresholdsFrom(env: Environment): ClusterThresholds {
  return {
    ...DEFAULT_CLUSTER_THRESHOLDS,
    unhealthyGraceSeconds: numberFrom(
      env,
      'TMC_CLUSTER_UNHEALTHY_GRACE_SECONDS',
      DEFAULT_CLUSTER_THRESHOLDS.unhealthyGraceSeconds,
    ),
  };
}

/**
 * When failover is held for a hub-side disruption: `TMC_FAILOVER_HOLD_SHARE` (default 0.55, kube's
 * `--unhealthy-zone-threshold`; 1 holds only when every cluster of a workspace is Unhealthy).
 */
export function failoverHoldFrom(env: Environment): FailoverHoldSettings {
  return {
    ...DEFAULT_FAILOVER_HOLD,
    share: numberFrom(env, 'TMC_FAILOVER_HOLD_SHARE', DEFAULT_FAILOVER_HOLD.share, 1),
  };
}
