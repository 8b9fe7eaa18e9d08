import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { KubeObject } from '../../kube/object';
import type { AdmissionAttributes } from '../contracts';

/** The AdmissionReview v1 request body kube-apiserver POSTs to a webhook. */
export interface AdmissionReviewRequest {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  request: Record<string, unknown> & { uid: string };
}

const OPTIONS_KIND = { CREATE: 'CreateOptions', UPDATE: 'UpdateOptions', DELETE: 'DeleteOptions' } as const;

/**
 * The AdmissionRequest's fields other than the objects: also what a webhook's matchConditions see as `request`.
 */
export function admissionRequestFields(
  attrs: AdmissionAttributes,
  uid: string = randomUUID(),
): AdmissionReviewRequest['request'] {
  const optionsKind = attrs.operation === 'CONNECT' ? undefined : OPTIONS_KIND[attrs.operation];
  const request: AdmissionReviewRequest['request'] = {
    uid,
    kind: attrs.kind,
    resource: attrs.gvr,
    requestKind: attrs.kind,
    requestResource: attrs.gvr,
    name: attrs.name,
    operation: attrs.operation,
    userInfo: attrs.userInfo,
    dryRun: attrs.dryRun,
  };
  if (attrs.subResource) {
    request.subResource = attrs.subResource;
    request.requestSubResource = attrs.subResource;
  }
  if (attrs.namespace) request.namespace = attrs.namespace;
  if (optionsKind) {
    request.options = { apiVersion: 'meta.k8s.io/v1', kind: optionsKind, ...(attrs.dryRun ? { dryRun: ['All'] } : {}) };
  }
  return request;
}

/**
 * Builds the review for one webhook call. `object` is the object as the previous mutating webhooks left it.
 * Absent objects are sent as null, as kube-apiserver's RawExtension encodes them (webhooks must accept null).
 */
export function buildAdmissionReview(
  attrs: AdmissionAttributes,
  object: KubeObject | undefined,
): AdmissionReviewRequest {
  const request = { ...admissionRequestFields(attrs), object: object ?? null, oldObject: attrs.oldObject ?? null };
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
}

const admissionReviewResponseSchema = z.object({
  apiVersion: z.string().nullish(),
  kind: z.string().nullish(),
  response: z
    .object({
      uid: z.string().nullish(),
      // Go decodes an absent `allowed` as false, i.e. a denial.
      allowed: z.boolean().nullish(),
      status: z
        .object({ code: z.number().int().nullish(), reason: z.string().nullish(), message: z.string().nullish() })
        .nullish(),
      patch: z.string().nullish(),
      patchType: z.string().nullish(),
      warnings: z.array(z.string()).nullish(),
    })
    .nullish(),
});

export interface AdmissionResponse {
  allowed: boolean;
  status?: { code?: number | null; reason?: string | null; message?: string | null } | null;
  patch?: string;
  patchType?: string;
  warnings: string[];
}

export type VerifiedResponse = { ok: true; response: AdmissionResponse } | { ok: false; reason: string };

/** Parses and verifies a webhook's answer the way webhookrequest.VerifyAdmissionResponse does. */
export function verifyAdmissionResponse(body: unknown, uid: string, mutating: boolean): VerifiedResponse {
  const parsed = admissionReviewResponseSchema.safeParse(body);
  if (!parsed.success) return { ok: false, reason: `failed to call webhook: ${z.prettifyError(parsed.error)}` };
  const review = parsed.data;
  const invalid = (reason: string): VerifiedResponse => ({
    ok: false,
    reason: `received invalid webhook response: ${reason}`,
  });
  if (review.apiVersion !== 'admission.k8s.io/v1' || review.kind !== 'AdmissionReview') {
    return invalid(
      `expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${review.apiVersion ?? ''}, Kind=${review.kind ?? ''}`,
    );
  }
  const response = review.response;
  if (!response) return invalid('webhook response was absent');
  if (response.uid !== uid) return invalid(`expected response.uid="${uid}", got "${response.uid ?? ''}"`);
  if (response.patch && !response.patchType)
    return invalid('webhook returned response.patch but not response.patchType');
  if (!mutating && (response.patch || response.patchType))
    return invalid('validating webhook may not return response.patch');
  return {
    ok: true,
    response: {
      allowed: response.allowed ?? false,
      status: response.status,
      patch: response.patch ?? undefined,
      patchType: response.patchType ?? undefined,
      warnings: response.warnings ?? [],
    },
  };
}
