import { ApiError } from './api-error';
import { apiVersionOf, type ResourceInfo } from './resource-info';

/** The `type` of one event on a watch stream (metav1.WatchEvent). */
export type WatchStreamEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** Response headers of a JSON watch: one chunked response that stays open, never cached. */
export const WATCH_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'application/json',
  'Transfer-Encoding': 'chunked',
  'Cache-Control': 'no-cache',
};

/** One watch event as kube-apiserver frames it in JSON: a `{type, object}` document per line. */
export function watchEventLine(type: WatchStreamEventType, object: unknown): string {
  return `${JSON.stringify({ type, object })}\n`;
}

/** A BOOKMARK event's object: only the kind and the resourceVersion the client has seen up to. */
export function bookmarkObject(
  info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>,
  resourceVersion: string | number,
): Record<string, unknown> {
  return { kind: info.kind, apiVersion: apiVersionOf(info), metadata: { resourceVersion: String(resourceVersion) } };
}

/** The ERROR event's Status when a watch asks for history the server no longer keeps: clients relist on 410. */
export function resourceVersionExpired(since: number, current: number): Record<string, unknown> {
  return new ApiError(410, 'Expired', `too old resource version: ${since} (${current})`).toStatus();
}
