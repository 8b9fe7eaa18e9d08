/**
 * The Status bodies kube-apiserver answers when admission webhooks refuse a request, with its exact wording
 * (k8s.io/apiserver/pkg/admission/plugin/webhook/errors and mutating/validating dispatchers), so kubectl and
 * client code see what they would see from a real server.
 */
export interface AdmissionFailure {
  allowed: false;
  status: { code: number; reason?: string; message: string };
}

export interface WebhookStatus {
  code?: number | null;
  reason?: string | null;
  message?: string | null;
}

/** A webhook answered allowed: false (webhookerrors.ToStatusErr: codes below 400 become 400). */
export function deniedByWebhook(webhookName: string, status: WebhookStatus | null | undefined): AdmissionFailure {
  const deniedBy = `admission webhook "${webhookName}" denied the request`;
  const code = status?.code && status.code >= 400 ? status.code : 400;
  const message = status?.message
    ? `${deniedBy}: ${status.message}`
    : status?.reason
      ? `${deniedBy}: ${status.reason}`
      : `${deniedBy} without explanation`;
  return { allowed: false, status: { code, reason: status?.reason ?? undefined, message } };
}

/** A webhook could not be called (or answered garbage) and its failurePolicy is Fail: apierrors.NewInternalError. */
export function failedCallingWebhook(webhookName: string, reason: string): AdmissionFailure {
  return internalError(`failed calling webhook "${webhookName}": ${reason}`);
}

export function internalError(message: string): AdmissionFailure {
  return {
    allowed: false,
    status: { code: 500, reason: 'InternalError', message: `Internal error occurred: ${message}` },
  };
}

/** A dry-run request meets a webhook with side effects (webhookerrors.NewDryRunUnsupportedErr): not subject to failurePolicy. */
export function dryRunUnsupported(webhookName: string): AdmissionFailure {
  return {
    allowed: false,
    status: { code: 400, reason: 'BadRequest', message: `admission webhook "${webhookName}" does not support dry run` },
  };
}

export function notFound(resource: string, name: string): AdmissionFailure {
  return { allowed: false, status: { code: 404, reason: 'NotFound', message: `${resource} "${name}" not found` } };
}
