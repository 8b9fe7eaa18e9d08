import { z } from 'zod';
import { KubeObjectSchema, type KubeObjectShape } from './messages';

/**
 * AdmissionReview v1 as kube-apiserver and kcp send it (admission.k8s.io/v1). Absent objects arrive as `null`
 * (RawExtension), so every optional field accepts null. Only what ingress reads is required.
 */
const GroupVersionResourceSchema = z.object({
  group: z.string(),
  version: z.string().min(1),
  resource: z.string().min(1),
});
const GroupVersionKindSchema = z.object({ group: z.string(), version: z.string().min(1), kind: z.string().min(1) });

export const AdmissionOperationSchema = z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

export const AdmissionRequestSchema = z.object({
  uid: z.string().min(1),
  kind: GroupVersionKindSchema,
  resource: GroupVersionResourceSchema,
  subResource: z.string().nullish(),
  requestKind: GroupVersionKindSchema.nullish(),
  requestResource: GroupVersionResourceSchema.nullish(),
  requestSubResource: z.string().nullish(),
  name: z.string().nullish(), // empty on CREATE with generateName
  namespace: z.string().nullish(),
  operation: AdmissionOperationSchema,
  userInfo: z.looseObject({ username: z.string().nullish(), groups: z.array(z.string()).nullish() }).nullish(),
  object: KubeObjectSchema.nullish(),
  oldObject: KubeObjectSchema.nullish(),
  dryRun: z.boolean().nullish(),
  options: z.unknown().optional(),
});
export type AdmissionRequest = z.infer<typeof AdmissionRequestSchema>;

export const AdmissionReviewSchema = z.object({
  apiVersion: z.literal('admission.k8s.io/v1'),
  kind: z.literal('AdmissionReview'),
  request: AdmissionRequestSchema,
});

export interface AdmissionResponseBody {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; reason?: string; message: string };
    patch?: string;
    patchType?: 'JSONPatch';
    warnings?: string[];
  };
}

export type JsonPatchOperation = { op: 'add' | 'replace' | 'remove' | 'test'; path: string; value?: unknown };

/** An allowing review response, with a JSONPatch (base64 as the API requires) when there is something to change. */
export function allowResponse(uid: string, patch?: JsonPatchOperation[], warnings?: string[]): AdmissionResponseBody {
  const response: AdmissionResponseBody['response'] = { uid, allowed: true };
  if (patch && patch.length > 0) {
    response.patch = Buffer.from(JSON.stringify(patch)).toString('base64');
    response.patchType = 'JSONPatch';
  }
  if (warnings && warnings.length > 0) response.warnings = warnings;
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

/** A denial; kubectl prints `message` after `admission webhook "<name>" denied the request:`. */
export function denyResponse(uid: string, message: string, code = 422, reason = 'Invalid'): AdmissionResponseBody {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid, allowed: false, status: { code, reason, message } },
  };
}

/** The object the request is about: the new object, or on DELETE the old one. */
export function subjectOf(request: AdmissionRequest): KubeObjectShape | undefined {
  return request.object ?? request.oldObject ?? undefined;
}
