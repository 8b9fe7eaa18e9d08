import { z } from 'zod';
import { ConditionSchema, LabelSelectorSchema, TmcObjectMetaSchema } from './common';
import { SCHEDULING_GROUP, SCHEDULING_VERSION } from './location';
import { TaintEffectSchema } from './sync-target';

/**
 * `scheduling.kcp.io/v1alpha1` Placement: which namespaces and objects of a workspace go to which clusters.
 * Cluster-scoped, as in kcp's original TMC. The union of what kcp, Karmada and OCM users rely on; docs/placement.md
 * says how the engine reads every field.
 */
export const PLACEMENT_KIND = 'Placement';
export const PLACEMENT_RESOURCE = 'placements';

export const ObjectSelectorSchema = z.object({
  group: z.string().describe("API group; '' for the core group"),
  kind: z.string().min(1).optional().describe('Kind; absent matches every kind of the group'),
  labelSelector: LabelSelectorSchema.optional().describe("The objects' labels; absent matches every object"),
});

export const ClusterConstraintsSchema = z.object({
  regions: z
    .array(z.string().min(1))
    .optional()
    .describe("Only clusters in these regions (the SyncTarget's region label)"),
  zones: z.array(z.string().min(1)).optional().describe("Only clusters in these zones (the SyncTarget's zone label)"),
  providers: z
    .array(z.string().min(1))
    .optional()
    .describe("Only clusters of these providers (the SyncTarget's provider label)"),
});

export const WeightedSelectorSchema = z.object({
  weight: z.number().int().min(1).max(100).describe('1-100: added to the score of a cluster the preference matches'),
  preference: LabelSelectorSchema.describe('SyncTargets by label'),
});

/** Over SyncTarget labels. `required` terms are ORed (like nodeSelectorTerms); `preferred` add their weight. */
export const AffinitySchema = z.object({
  required: z
    .array(LabelSelectorSchema)
    .optional()
    .describe('SyncTarget label selectors, ORed: a cluster must match one (anti-affinity: must match none)'),
  preferred: z
    .array(WeightedSelectorSchema)
    .optional()
    .describe('Weighted selectors: a matching cluster gains (anti-affinity: loses) the weight'),
});

export const TolerationSchema = z
  .object({
    key: z.string().optional().describe('Empty with operator Exists tolerates every taint'),
    operator: z.enum(['Equal', 'Exists']).optional().describe('Equal (the default: key and value match) or Exists'),
    value: z.string().optional().describe('The taint value to match with operator Equal'),
    effect: TaintEffectSchema.optional().describe('Empty tolerates every effect'),
    tolerationSeconds: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('NoExecute only: how long work stays after the taint appears'),
  })
  .superRefine((t, ctx) => {
    if (t.operator === 'Exists' && t.value)
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'must be empty when operator is Exists' });
    if (!t.key && t.operator !== 'Exists')
      ctx.addIssue({ code: 'custom', path: ['operator'], message: 'must be Exists when key is empty' });
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      ctx.addIssue({ code: 'custom', path: ['tolerationSeconds'], message: 'only applies to effect NoExecute' });
    }
  });
export type Toleration = z.infer<typeof TolerationSchema>;

export const SpreadConstraintSchema = z.object({
  topologyKey: z.string().min(1).describe('region, zone, provider, or any SyncTarget label'),
  maxSkew: z.number().int().min(1).describe('How many more clusters one topology value may hold than another'),
  whenUnsatisfiable: z
    .enum(['DoNotSchedule', 'ScheduleAnyway'])
    .optional()
    .describe('DoNotSchedule (the default) or ScheduleAnyway (dropped when nothing satisfies it)'),
});
export type SpreadConstraint = z.infer<typeof SpreadConstraintSchema>;

export const ReplicaWeightSchema = z
  .object({
    cluster: z.string().min(1).optional().describe('A SyncTarget by name (or use labelSelector)'),
    labelSelector: LabelSelectorSchema.optional().describe('SyncTargets by label (or use cluster)'),
    weight: z.number().int().nonnegative().describe("The clusters' share of the replicas, relative to other weights"),
  })
  .superRefine((w, ctx) => {
    if ((w.cluster === undefined) === (w.labelSelector === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'exactly one of cluster or labelSelector must be set' });
    }
  });

export const ReplicasSchema = z
  .object({
    mode: z
      .enum(['Duplicated', 'Divided'])
      .describe('Duplicated: every cluster runs all replicas; Divided: the replicas are shared out'),
    weights: z.array(ReplicaWeightSchema).optional().describe('Divided: the share of each cluster'),
    byCapacity: z.boolean().optional().describe("Divided: in proportion to each cluster's free capacity"),
  })
  .superRefine((r, ctx) => {
    if (r.mode === 'Duplicated' && (r.weights?.length || r.byCapacity)) {
      ctx.addIssue({ code: 'custom', path: ['mode'], message: 'weights and byCapacity need mode Divided' });
    }
    if (r.weights?.length && r.byCapacity)
      ctx.addIssue({ code: 'custom', path: ['byCapacity'], message: 'cannot be combined with weights' });
  });
export type ReplicasPolicy = z.infer<typeof ReplicasSchema>;

export const JsonPatchOperationSchema = z.object({
  op: z.enum(['add', 'remove', 'replace', 'move', 'copy', 'test']).describe('The RFC 6902 operation'),
  path: z.string().startsWith('/').describe('A JSON pointer into the object, e.g. /spec/replicas'),
  from: z.string().optional().describe('move and copy: the JSON pointer to take the value from'),
  value: z.unknown().optional().describe('add, replace and test: the value'),
});
export type JsonPatchOperation = z.infer<typeof JsonPatchOperationSchema>;

export const OverrideSchema = z
  .object({
    clusterSelector: LabelSelectorSchema.optional().describe('The clusters this override applies to, by label'),
    clusters: z.array(z.string().min(1)).optional().describe('The clusters this override applies to, by name'),
    kinds: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Kinds this override changes, e.g. [Deployment]; absent: every kind the Placement selects'),
    jsonPatch: z.array(JsonPatchOperationSchema).optional().describe('RFC 6902 operations applied to the copy'),
    image: z
      .array(
        z.object({
          container: z.string().optional().describe('Absent: every container'),
          image: z.string().min(1).describe('The image to run instead'),
        }),
      )
      .optional()
      .describe("Replace containers' images"),
    replicas: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('Replicas on these clusters, whatever the division gives'),
    labels: z.record(z.string(), z.string()).optional().describe('Labels added to the copy'),
    env: z
      .array(
        z.object({
          container: z.string().optional().describe('Absent: every container'),
          name: z.string().min(1).describe('The environment variable'),
          value: z.string().describe('Its value'),
        }),
      )
      .optional()
      .describe('Environment variables set in containers'),
  })
  .superRefine((o, ctx) => {
    if (o.clusterSelector === undefined && o.clusters === undefined) {
      ctx.addIssue({ code: 'custom', path: ['clusters'], message: 'one of clusters or clusterSelector must be set' });
    }
    if (!o.jsonPatch && !o.image && o.replicas === undefined && !o.labels && !o.env) {
      ctx.addIssue({ code: 'custom', message: 'must set at least one of jsonPatch, image, replicas, labels or env' });
    }
  });
export type Override = z.infer<typeof OverrideSchema>;

export const RebalanceSchema = z.object({
  policy: z
    .enum(['Never', 'Always'])
    .optional()
    .describe('Always: ignore where work runs today and pick the best clusters'),
  token: z.string().optional().describe('Change it to rebalance once'),
});

export const PlacementSpecSchema = z.object({
  namespaceSelector: LabelSelectorSchema.optional().describe('Which namespaces; absent selects every namespace'),
  objectSelectors: z
    .array(ObjectSelectorSchema)
    .optional()
    .describe('Narrows to these objects; absent selects every object'),
  locationSelectors: z
    .array(LabelSelectorSchema)
    .optional()
    .describe('Locations by label, ORed; a cluster must be in one'),
  clusterSelector: LabelSelectorSchema.optional().describe('SyncTargets by label'),
  clusterConstraints: ClusterConstraintsSchema.optional().describe('Only clusters in these regions, zones, providers'),
  numberOfClusters: z.number().int().min(1).optional().describe('Absent: every cluster that matches'),
  affinity: AffinitySchema.optional().describe('Prefer or require clusters with these labels'),
  antiAffinity: AffinitySchema.optional().describe(
    'Avoid clusters with these labels: required excludes, preferred penalises',
  ),
  tolerations: z.array(TolerationSchema).optional().describe("Which SyncTargets' taints the work tolerates"),
  spreadConstraints: z
    .array(SpreadConstraintSchema)
    .optional()
    .describe('Spread the chosen clusters evenly over a topology label'),
  strategy: z
    .enum(['Spread', 'Pack', 'Balanced'])
    .optional()
    .describe('Scoring: Spread (least used first), Pack (most used first) or Balanced'),
  replicas: ReplicasSchema.optional().describe('How replicas are shared between the chosen clusters'),
  overrides: z.array(OverrideSchema).optional().describe('Per-cluster changes to the copies'),
  rebalance: RebalanceSchema.optional().describe('Whether placed work moves when better clusters appear'),
  priority: z
    .number()
    .int()
    .optional()
    .describe('When several Placements match an object, the highest wins; then the oldest name'),
});
export type PlacementSpec = z.infer<typeof PlacementSpecSchema>;

export const PlacementStatusSchema = z.object({
  phase: z.enum(['Pending', 'Scheduled', 'Unschedulable']).optional().describe('Pending, Scheduled or Unschedulable'),
  observedGeneration: z.number().int().optional().describe('The metadata.generation this status was computed from'),
  conditions: z.array(ConditionSchema).optional().describe('Scheduled: True with the clusters, or False with why'),
  selectedClusters: z.string().optional().describe('Comma-joined names, for kubectl get'),
  decisions: z
    .object({
      clusters: z
        .array(
          z.object({
            name: z.string().describe('The SyncTarget'),
            replicas: z.number().int().optional().describe('Its replicas, when they are divided'),
          }),
        )
        .describe('The chosen clusters'),
      matched: z.number().int().nonnegative().describe('How many clusters passed the filters'),
      total: z.number().int().nonnegative().describe('How many clusters were considered'),
    })
    .optional()
    .describe("The engine's last decision"),
});
export type PlacementStatus = z.infer<typeof PlacementStatusSchema>;

export const PlacementSchema = z.object({
  apiVersion: z.literal(`${SCHEDULING_GROUP}/${SCHEDULING_VERSION}`),
  kind: z.literal(PLACEMENT_KIND),
  metadata: TmcObjectMetaSchema,
  spec: PlacementSpecSchema,
  status: PlacementStatusSchema.optional(),
});
export type Placement = z.infer<typeof PlacementSchema>;
