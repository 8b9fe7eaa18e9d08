import { z } from 'zod';
import { QUANTITY_PATTERN } from '../../kube/quantity';

/**
 * Building blocks shared by tmc's CRD schemas. Every schema here must stay representable as a Kubernetes
 * *structural* OpenAPI schema (lib/api/crds/crd-builder.ts converts them), so: no unions of objects, no transforms;
 * cross-field rules go in `superRefine`, which tmc's admission enforces and the CRD cannot express.
 */

/** DNS-1123 subdomain: what Kubernetes accepts for most object names. */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Go duration syntax as `time.ParseDuration` reads it (`30s`, `5m`, `1h30m`); RE2-safe for the CRD pattern. */
export const DURATION_PATTERN = /^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/;

export const LabelSelectorRequirementSchema = z
  .object({
    key: z.string().min(1).describe('The label key the requirement applies to'),
    operator: z
      .enum(['In', 'NotIn', 'Exists', 'DoesNotExist'])
      .describe("How the key's value is compared with values: In, NotIn, Exists or DoesNotExist"),
    values: z
      .array(z.string())
      .optional()
      .describe('The values for In and NotIn (non-empty); empty for Exists and DoesNotExist'),
  })
  .superRefine((req, ctx) => {
    const needsValues = req.operator === 'In' || req.operator === 'NotIn';
    const count = req.values?.length ?? 0;
    if (needsValues && count === 0) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: `must be non-empty when operator is ${req.operator}` });
    }
    if (!needsValues && count > 0) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: `must be empty when operator is ${req.operator}` });
    }
  });

/** metav1.LabelSelector: an empty selector matches everything (as in Kubernetes). */
export const LabelSelectorSchema = z.object({
  matchLabels: z
    .record(z.string(), z.string())
    .optional()
    .describe('Labels that must all be present with these values (ANDed with matchExpressions)'),
  matchExpressions: z
    .array(LabelSelectorRequirementSchema)
    .optional()
    .describe('Label requirements that must all hold (ANDed with matchLabels)'),
});

/** A Kubernetes quantity (`500m`, `2Gi`, `110`). */
export const QuantitySchema = z.union([z.string().regex(QUANTITY_PATTERN), z.number()]);

export const ResourceListSchema = z.object({
  cpu: QuantitySchema.optional().describe('CPU, in cores (`4`, `500m`)'),
  memory: QuantitySchema.optional().describe('Memory, in bytes (`16Gi`)'),
  pods: QuantitySchema.optional().describe('How many pods'),
});
export type ResourceList = z.infer<typeof ResourceListSchema>;

export const ConditionSchema = z.object({
  type: z.string().min(1).describe('The condition type, e.g. Ready'),
  status: z.enum(['True', 'False', 'Unknown']).describe('True, False or Unknown'),
  reason: z.string().optional().describe("A CamelCase word for the condition's last transition"),
  message: z.string().optional().describe('What happened, for people'),
  lastTransitionTime: z.string().optional().describe('When status last changed (RFC 3339)'),
  observedGeneration: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('The metadata.generation the condition was computed from'),
});
export type Condition = z.infer<typeof ConditionSchema>;

export const GroupVersionResourceSchema = z.object({
  group: z.string().describe("API group; '' for the core group"),
  version: z.string().min(1).describe('API version, e.g. v1alpha1'),
  resource: z.string().min(1).describe('Resource (plural, lower case), e.g. synctargets'),
});

/**
 * The metadata tmc reads from its own objects. Loose: kcp adds fields (clusterName annotations, managedFields) that
 * tmc neither needs nor should reject.
 */
export const TmcObjectMetaSchema = z.looseObject({
  name: z.string().regex(DNS_SUBDOMAIN, 'must be a DNS-1123 subdomain').max(253),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  deletionTimestamp: z.string().optional(),
});
