import { z } from 'zod';

/**
 * The item `CLUSTER#<name>/HEALTH` (docs/state.md), written by health-probe and by sync-apply's
 * `reportClusterFailure`, read by placement (to exclude Unhealthy clusters), recovery and the health API.
 * Readers parse it with {@link ClusterHealthSchema}; unknown attributes are ignored so the item can grow.
 */
export const HealthStateSchema = z.enum(['Healthy', 'Degraded', 'Unhealthy', 'Unknown']);
export type HealthState = z.infer<typeof HealthStateSchema>;

/** One observation of the cluster: a probe, or a failure seen by a function talking to it. */
export const HealthObservationSchema = z.object({
  at: z.string(),
  ok: z.boolean(),
  latencyMs: z.number().nonnegative().optional(),
  /**
   * `probe` (health-probe's /readyz), `sync` (sync-apply reported a cluster-unreachable failure) or `syncer` (a
   * pull-mode SyncTarget: its syncer's heartbeat, or health-probe finding none recent).
   */
  source: z.enum(['probe', 'sync', 'syncer']),
  detail: z.string().optional(),
});
export type HealthObservation = z.infer<typeof HealthObservationSchema>;

/** How many observations an item keeps (oldest dropped first). */
export const HEALTH_HISTORY_LIMIT = 20;

export const ClusterHealthSchema = z.looseObject({
  cluster: z.string().min(1),
  /** The workspace whose SyncTarget was last probed under this name (for the placement message on a transition). */
  workspace: z.string().optional(),
  state: HealthStateSchema,
  /** When `state` last changed (ISO time). */
  since: z.string(),
  /** A CamelCase reason, like a Kubernetes condition's (`ProbeFailed`, `HighLatency`, `ProbeSucceeded`). */
  reason: z.string(),
  /** A sentence for people; stable between observations unless something changed. */
  message: z.string().optional(),
  consecutiveFailures: z.number().int().nonnegative(),
  consecutiveSuccesses: z.number().int().nonnegative(),
  lastProbeAt: z.string().optional(),
  latencyMs: z.number().nonnegative().optional(),
  history: z.array(HealthObservationSchema).max(HEALTH_HISTORY_LIMIT),
  /** Optimistic-concurrency token: writers put the item only if the version they read is still stored. */
  version: z.number().int().nonnegative(),
});
export type ClusterHealth = z.infer<typeof ClusterHealthSchema>;

/** A component's (function's) counters, item `COMPONENT#<fn>/HEALTH`. Windows are five minutes (see health-store). */
export const ComponentHealthRecordSchema = z.looseObject({
  component: z.string().min(1),
  lastInvocationAt: z.string().optional(),
  lastSuccessAt: z.string().optional(),
  lastErrorAt: z.string().optional(),
  invocations: z.number().int().nonnegative().default(0),
  errors: z.number().int().nonnegative().default(0),
  /** Epoch seconds at the start of the current window, and its counts. */
  windowStart: z.number().int().optional(),
  windowInvocations: z.number().int().nonnegative().default(0),
  windowErrors: z.number().int().nonnegative().default(0),
  /** The window before (it may be older than one window when the function was idle). */
  prevWindowStart: z.number().int().optional(),
  prevWindowInvocations: z.number().int().nonnegative().default(0),
  prevWindowErrors: z.number().int().nonnegative().default(0),
  /** Age of the oldest message the function saw waiting (seconds) and when that was observed. */
  backlogAgeSeconds: z.number().nonnegative().optional(),
  backlogObservedAt: z.string().optional(),
});
export type ComponentHealthRecord = z.infer<typeof ComponentHealthRecordSchema>;
