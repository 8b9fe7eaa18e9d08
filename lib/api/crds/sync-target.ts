import { z } from 'zod';
import { ConditionSchema, DURATION_PATTERN, ResourceListSchema, TmcObjectMetaSchema } from './common';

/** `workload.kcp.io/v1alpha1` SyncTarget: one physical cluster tmc may place work on. */
export const SYNC_TARGET_GROUP = 'workload.kcp.io';
export const SYNC_TARGET_VERSION = 'v1alpha1';
export const SYNC_TARGET_KIND = 'SyncTarget';
export const SYNC_TARGET_RESOURCE = 'synctargets';

export const TaintEffectSchema = z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

export const TaintSchema = z.object({
  key: z.string().min(1).describe('The taint key, matched by tolerations'),
  value: z.string().optional().describe('The taint value, matched by tolerations with operator Equal'),
  effect: TaintEffectSchema.describe(
    'NoSchedule (no new work without a toleration), PreferNoSchedule (avoided) or NoExecute (work moves off)',
  ),
  /** When a NoExecute taint was added; tolerationSeconds count from here. Set by whoever adds the taint. */
  timeAdded: z
    .string()
    .optional()
    .describe('When a NoExecute taint was added (RFC 3339); tolerationSeconds count from here'),
});
export type Taint = z.infer<typeof TaintSchema>;

/** What a credentials denial says: the accepted forms, so the upstream form's author knows what to add. */
export const ACCEPTED_CREDENTIALS =
  'set spec.workloadCluster.credentials to exactly one of secretRef {namespace, name} (a Secret in this workspace), ' +
  'secretsManagerArn (a Secrets Manager ARN) or eks {clusterName, region}';

/**
 * How tmc reaches the cluster: a reference only, never the credentials themselves. Exactly one of: a Secret in the
 * kcp workspace (local stack), a Secrets Manager secret (cloud), or IAM for EKS (no static credentials at all).
 */
export const CredentialsSchema = z
  .object(
    {
      secretRef: z
        .object({
          namespace: z.string().min(1).describe("The Secret's namespace"),
          name: z.string().min(1).describe("The Secret's name"),
        })
        .optional()
        .describe('A Secret in this workspace holding a kubeconfig (local stack)'),
      secretsManagerArn: z
        .string()
        .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$/, 'must be a Secrets Manager ARN')
        .optional()
        .describe('A Secrets Manager secret holding a kubeconfig (cloud)'),
      eks: z
        .object({
          clusterName: z.string().min(1).describe("The EKS cluster's name"),
          region: z.string().min(1).describe("The EKS cluster's AWS region"),
          roleArn: z
            .string()
            .regex(/^arn:aws[a-z-]*:iam::[0-9]{12}:role\/.+$/, 'must be an IAM role ARN')
            .optional()
            .describe("An IAM role tmc assumes to call the cluster; absent: the functions' own role"),
          certificateAuthorityData: z
            .string()
            .regex(
              /^[A-Za-z0-9+/]+={0,2}$/,
              'must be base64 (aws eks describe-cluster --query cluster.certificateAuthority.data)',
            )
            .optional()
            .describe(
              "The cluster CA, base64 PEM, as EKS reports it; without it the endpoint's certificate must chain to a public root",
            ),
        })
        .optional()
        .describe('IAM for an EKS cluster: no static credentials at all'),
    },
    // The upstream form (workloadCluster.{name, endpoint} only) lands here: say which forms are accepted.
    { error: (issue) => (issue.input === undefined ? `required: ${ACCEPTED_CREDENTIALS}` : undefined) },
  )
  .superRefine((creds, ctx) => {
    const set = [creds.secretRef, creds.secretsManagerArn, creds.eks].filter((v) => v !== undefined).length;
    if (set !== 1) ctx.addIssue({ code: 'custom', message: ACCEPTED_CREDENTIALS });
  });

/**
 * How a SyncTarget is synced. `Push`: tmc's functions call the cluster with `credentials`. `Pull`: a `tmc syncer`
 * beside the cluster connects outbound to the virtual workspace; tmc holds no credentials and never calls the cluster.
 */
export const SyncModeSchema = z.enum(['Push', 'Pull']);
export type SyncMode = z.infer<typeof SyncModeSchema>;

/** What a pull-mode SyncTarget naming credentials is told: tmc stores none for a cluster it never calls. */
export const PULL_WITHOUT_CREDENTIALS =
  'a SyncTarget in pull mode (spec.syncMode: Pull) names no credentials: its syncer connects to tmc';

export const SyncTargetSpecSchema = z
  .object({
    workloadCluster: z
      .object({
        name: z.string().min(1).describe("The physical cluster's own name, for people and logs"),
        endpoint: z
          .string()
          .regex(/^https?:\/\/[^\s]+$/, 'must be an http(s) URL')
          .describe('API server URL'),
        credentials: CredentialsSchema.optional().describe(
          'How tmc reaches the cluster (push mode); absent in pull mode',
        ),
      })
      .describe('The physical cluster: its name, API server URL and how tmc reaches it'),
    syncMode: SyncModeSchema.optional().describe(
      'Push (tmc calls the cluster) or Pull (a tmc syncer does); default: Push with credentials, Pull without',
    ),
    unschedulable: z.boolean().optional().describe('Cordon: no new placements; placed work stays'),
    evictAfter: z
      .string()
      .regex(DURATION_PATTERN, 'must be a duration like 30s, 5m or 1h')
      .optional()
      .describe('How long the cluster may be unhealthy before its work fails over'),
    taints: z
      .array(TaintSchema)
      .optional()
      .describe("Taints that keep work off the cluster unless a Placement's tolerations tolerate them"),
    capacity: ResourceListSchema.optional().describe('Capacity tmc may use, when the cluster does not report it'),
    allowedRiskyKinds: z
      .array(z.string().min(1))
      .optional()
      .describe(
        'Kinds that reach beyond one tenant (webhook configurations, PriorityClasses, cluster-admin bindings…) tmc may place here, as <Kind>.<group>, or * for all',
      ),
  })
  .superRefine((spec, ctx) => {
    const credentials = spec.workloadCluster.credentials;
    if (spec.syncMode === 'Pull' && credentials !== undefined)
      ctx.addIssue({ code: 'custom', path: ['workloadCluster', 'credentials'], message: PULL_WITHOUT_CREDENTIALS });
    if (spec.syncMode === 'Push' && credentials === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['workloadCluster', 'credentials'],
        message: `required in push mode: ${ACCEPTED_CREDENTIALS}`,
      });
  });

export const SyncTargetStatusSchema = z.object({
  conditions: z
    .array(ConditionSchema)
    .optional()
    .describe('Ready (the cluster answers and may take work) and HeartbeatHealthy'),
  lastSyncerHeartbeatTime: z
    .string()
    .optional()
    .describe('When health-probe (push) or the syncer (pull) last reached the cluster (RFC 3339)'),
  /** The mode health-probe last saw (`syncModeOf(spec)`): what kubectl's MODE column shows, also for the upstream form. */
  syncMode: SyncModeSchema.optional().describe('The sync mode in effect: Push or Pull'),
  allocatable: ResourceListSchema.optional().describe('What is free for new work, as the cluster last reported'),
  capacity: ResourceListSchema.optional().describe("The cluster's total capacity, as it last reported"),
});

export const SyncTargetSchema = z.object({
  apiVersion: z.literal(`${SYNC_TARGET_GROUP}/${SYNC_TARGET_VERSION}`),
  kind: z.literal(SYNC_TARGET_KIND),
  metadata: TmcObjectMetaSchema,
  spec: SyncTargetSpecSchema,
  status: SyncTargetStatusSchema.optional(),
});
export type SyncTarget = z.infer<typeof SyncTargetSchema>;

/** The mode a SyncTarget is synced in: `spec.syncMode`, else Push when it names credentials and Pull when it names none. */
export function syncModeOf(spec: { syncMode?: SyncMode; workloadCluster: { credentials?: unknown } }): SyncMode {
  return spec.syncMode ?? (spec.workloadCluster.credentials === undefined ? 'Pull' : 'Push');
}
