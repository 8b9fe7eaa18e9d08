/** A webhook request, independent of API Gateway's event shape (the composition root converts). */
export interface IngressRequest {
  route: 'admission' | 'events' | 'status';
  /** Header names in lower case (API Gateway HTTP APIs lower-case them). */
  headers: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  /** `/webhooks/status/{cluster}`'s cluster. */
  cluster?: string;
  /** `/webhooks/status/{cluster}/{credential}`'s per-cluster credential (never logged). */
  credential?: string;
  body: string | undefined;
  isBase64Encoded: boolean;
}

export interface IngressResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export function jsonResponse(statusCode: number, body: unknown): IngressResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** A Kubernetes-style Status body, so kube-apiserver logs a readable reason for a rejected webhook call. */
export function errorResponse(statusCode: number, reason: string, message: string): IngressResponse {
  return jsonResponse(statusCode, {
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    code: statusCode,
    reason,
    message,
  });
}
