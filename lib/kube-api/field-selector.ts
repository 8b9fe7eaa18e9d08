import { ApiError } from './api-error';
import type { KubeObject } from '../kube/object';

/**
 * The field labels a core/v1 Event supports beyond metadata's (kube's pkg/registry/core/event `ToSelectableFields`):
 * `kubectl describe` lists an object's Events with `involvedObject.{name,namespace,kind,uid}`. A missing field reads
 * as the empty string, as in kube.
 */
const EVENT_FIELDS: Record<string, (event: Record<string, unknown>) => unknown> = {
  'involvedObject.kind': (e) => involved(e, 'kind'),
  'involvedObject.namespace': (e) => involved(e, 'namespace'),
  'involvedObject.name': (e) => involved(e, 'name'),
  'involvedObject.uid': (e) => involved(e, 'uid'),
  'involvedObject.apiVersion': (e) => involved(e, 'apiVersion'),
  'involvedObject.resourceVersion': (e) => involved(e, 'resourceVersion'),
  'involvedObject.fieldPath': (e) => involved(e, 'fieldPath'),
  reason: (e) => e.reason,
  reportingComponent: (e) => e.reportingComponent,
  source: (e) =>
    typeof e.source === 'object' && e.source !== null ? (e.source as { component?: unknown }).component : '',
  type: (e) => e.type,
};

function involved(event: Record<string, unknown>, key: string): unknown {
  const ref = event.involvedObject;
  return typeof ref === 'object' && ref !== null ? (ref as Record<string, unknown>)[key] : undefined;
}

/** Whether `resource` is core/v1 Events (events.k8s.io's are served from them, lib/sim/event-views.ts). */
function isCoreEvents(resource: { group: string; resource: string } | undefined): boolean {
  return resource !== undefined && resource.group === '' && resource.resource === 'events';
}

/**
 * `?fieldSelector=` on metadata.name and metadata.namespace (what every resource supports), and on the fields kube
 * selects core/v1 Events by when `resource` is Events.
 */
export function parseFieldSelector(
  text: string | null | undefined,
  resource?: { group: string; resource: string },
): (obj: KubeObject) => boolean {
  if (!text) return () => true;
  const events = isCoreEvents(resource);
  const checks = text
    .split(',')
    .filter(Boolean)
    .map((part) => {
      const m = part.match(/^([\w.]+)\s*(==|=|!=)\s*(.*)$/);
      if (!m) throw ApiError.badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
      const [, field, op, value] = m;
      const read: ((obj: Record<string, unknown>) => unknown) | undefined =
        field === 'metadata.name'
          ? (obj) => (obj as KubeObject).metadata.name
          : field === 'metadata.namespace'
            ? (obj) => (obj as KubeObject).metadata.namespace
            : events && Object.hasOwn(EVENT_FIELDS, field)
              ? EVENT_FIELDS[field]
              : undefined;
      if (!read) throw ApiError.badRequest(`field label not supported: ${field}`);
      return (obj: KubeObject): boolean => {
        const raw = read(obj);
        const actual = typeof raw === 'string' ? raw : '';
        return op === '!=' ? actual !== value : actual === value;
      };
    });
  return (obj) => checks.every((c) => c(obj));
}
