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
  labelSelector: LabelSelectorSchema.optional(),
});

export const ClusterConstraintsSchema = z.object({
  regions: z.array(z.string().min(1)).optional(),
  zones: z.array(z.string().min(1)).optional(),
  providers: z.array(z.string().min(1)).optional(),
});

export const WeightedSelectorSchema = z.object({
  weight: z.number().int().min(1).max(100),
  preference: LabelSelectorSchema,
});

/** Over SyncTarget labels. `required` terms are ORed (like nodeSelectorTerms); `preferred` add their weight. */
export const AffinitySchema = z.object({
  required: z.array(LabelSelectorSchema).optional(),
  preferred: z.array(WeightedSelectorSchema).optional(),
});

export const TolerationSchema = z
  .object({
    key: z.string().optional().describe('Empty with operator Exists tolerates every taint'),
    operator: z.enum(['Equal', 'Exists']).optional(),
    value: z.string().optional(),
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
  maxSkew: z.number().int().min(1),
  whenUnsatisfiable: z.enum(['DoNotSchedule', 'ScheduleAnyway']).optional(),
});
export type SpreadConstraint = z.infer<typeof SpreadConstraintSchema>;

export const ReplicaWeightSchema = z
  .object({
    cluster: z.string().min(1).optional(),
    labelSelector: LabelSelectorSchema.optional(),
    weight: z.number().int().nonnegative(),
  })
  .superRefine((w, ctx) => {
    if ((w.cluster === undefined) === (w.labelSelector === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'exactly one of cluster or labelSelector must be set' });
    }
  });

export const ReplicasSchema = z
  .object({
    mode: z.enum(['Duplicated', 'Divided']),
    weights: z.array(ReplicaWeightSchema).optional(),
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
  op: z.enum(['add', 'remove', 'replace', 'move', 'copy', 'test']),
  path: z.string().startsWith('/'),
  from: z.string().optional(),
  value: z.unknown().optional(),
});
export type JsonPatchOperation = z.infer<typeof JsonPatchOperationSchema>;

export const OverrideSchema = z
  .object({
    clusterSelector: LabelSelectorSchema.optional(),
    clusters: z.array(z.string().min(1)).optional(),
    kinds: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Kinds this override changes, e.g. [Deployment]; absent: every kind the Placement selects'),
    jsonPatch: z.array(JsonPatchOperationSchema).optional(),
    image: z
      .array(
        z.object({ container: z.string().optional().describe('Absent: every container'), image: z.string().min(1) }),
      )
      .optional(),
    replicas: z.number().int().nonnegative().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    env: z.array(z.object({ container: z.string().optional(), name: z.string().min(1), value: z.string() })).optional(),
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
  clusterConstraints: ClusterConstraintsSchema.optional(),
  numberOfClusters: z.number().int().min(1).optional().describe('Absent: every cluster that matches'),
  affinity: AffinitySchema.optional(),
  antiAffinity: AffinitySchema.optional().describe(
    'Avoid clusters with these labels: required excludes, preferred penalises',
  ),
  tolerations: z.array(TolerationSchema).optional(),
  spreadConstraints: z.array(SpreadConstraintSchema).optional(),
  strategy: z.enum(['Spread', 'Pack', 'Balanced']).optional(),
  replicas: ReplicasSchema.optional(),
  overrides: z.array(OverrideSchema).optional(),
  rebalance: RebalanceSchema.optional(),
  priority: z
    .number()
    .int()
    .optional()
    .describe('When several Placements match an object, the highest wins; then the oldest name'),
});
export type PlacementSpec = z.infer<typeof PlacementSpecSchema>;

export const PlacementStatusSchema = z.object({
  phase: z.enum(['Pending', 'Scheduled', 'Unschedulable']).optional(),
  observedGeneration: z.number().int().optional(),
  conditions: z.array(ConditionSchema).optional(),
  selectedClusters: z.string().optional().describe('Comma-joined names, for kubectl get'),
  decisions: z
    .object({
      clusters: z.array(z.object({ name: z.string(), replicas: z.number().int().optional() })),
      matched: z.number().int().nonnegative(),
      total: z.number().int().nonnegative(),
    })
    .optional(),
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
