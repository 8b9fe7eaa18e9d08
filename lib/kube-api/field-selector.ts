import { ApiError } from './api-error';
import type { KubeObject } from '../kube/object';

/** `?fieldSelector=` on metadata.name and metadata.namespace (what every resource supports). */
export function parseFieldSelector(text: string | null | undefined): (obj: KubeObject) => boolean {
  if (!text) return () => true;
  const checks = text
    .split(',')
    .filter(Boolean)
    .map((part) => {
      const m = part.match(/^([\w.]+)\s*(==|=|!=)\s*(.*)$/);
      if (!m) throw ApiError.badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
      const [, field, op, value] = m;
      if (field !== 'metadata.name' && field !== 'metadata.namespace') {
        throw ApiError.badRequest(`field label not supported: ${field}`);
      }
      return (obj: KubeObject): boolean => {
        const actual = field === 'metadata.name' ? obj.metadata.name : obj.metadata.namespace;
        return op === '!=' ? actual !== value : actual === value;
      };
    });
  return (obj) => checks.every((c) => c(obj));
}
