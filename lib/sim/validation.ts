import { canonicalJson } from '../kube/canonical-json';
import { ApiError } from '../kube-api/api-error';
import type { KubeObject } from '../kube/object';
import { matchesLabelSelector } from '../kube-api/label-selector';
import type { ResourceInfo } from '../kube-api/resource-info';
import { webhookConfigurationCauses } from './admission/webhook-validation';
import type { FieldCause } from './field-cause';

/**
 * kube-apiserver's validation for what users get wrong first, with its messages word for word (they come from
 * k8s.io/apimachinery/pkg/util/validation and pkg/apis/{core,apps,batch}/validation): names per kind, label and
 * annotation syntax and size, ConfigMap/Secret size, a workload's selector against its template, and the fields an
 * update may not change. kubectl prints these messages as they are, so a user sees what a real cluster would say.
 */

/** etcd's default request limit (--max-request-bytes 1.5 MiB): a larger object never reaches storage. */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;
/** core.MaxSecretSize: the total of a ConfigMap's or Secret's data. */
const MAX_DATA_BYTES = 1024 * 1024;
/** apimachinery's TotalAnnotationSizeLimitB; client-side apply's last-applied annotation hits it first. */
const MAX_ANNOTATION_BYTES = 256 * 1024;

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const whole = (fmt: string): RegExp => new RegExp(`^${fmt}$`);
const DNS1123_LABEL = whole(DNS1123_LABEL_FMT);
const DNS1123_SUBDOMAIN = whole(DNS1123_SUBDOMAIN_FMT);
const DNS1035_LABEL = whole(DNS1035_LABEL_FMT);
const QUALIFIED_NAME = whole(QUALIFIED_NAME_FMT);
const LABEL_VALUE = whole(LABEL_VALUE_FMT);

/** apimachinery's RegexError, spacing included ("'a',  or 'b'"). */
function regexError(message: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${message} (regex used for validation is '${fmt}')`;
  return `${message} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;
}

const maxLen = (n: number): string => `must be no more than ${n} characters`;

function dns1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(maxLen(253));
  if (!DNS1123_SUBDOMAIN.test(value)) {
    errs.push(
      regexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        DNS1123_SUBDOMAIN_FMT,
        'example.com',
      ),
    );
  }
  return errs;
}

function dns1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLen(63));
  if (!DNS1123_LABEL.test(value)) {
    if (DNS1123_SUBDOMAIN.test(value)) errs.push('must not contain dots');
    else
      errs.push(
        regexError(
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
          DNS1123_LABEL_FMT,
          'my-name',
          '123-abc',
        ),
      );
  }
  return errs;
}

function dns1035Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLen(63));
  if (!DNS1035_LABEL.test(value)) {
    errs.push(
      regexError(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
        DNS1035_LABEL_FMT,
        'my-name',
        'abc-123',
      ),
    );
  }
  return errs;
}

/** RBAC names are path segments: `system:aggregate-to-view` is valid. */
function pathSegment(value: string): string[] {
  if (value === '.' || value === '..') return [`may not be '${value}'`];
  return ['/', '%'].filter((c) => value.includes(c)).map((c) => `may not contain '${c}'`);
}

const RBAC = new Set(['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings']);

function nameRule(info: ResourceInfo): (value: string) => string[] {
  if (info.custom) return dns1123Subdomain;
  if (info.group === '' && info.resource === 'namespaces') return dns1123Label;
  if (info.group === '' && info.resource === 'services') return dns1035Label;
  if (info.group === 'rbac.authorization.k8s.io' && RBAC.has(info.resource)) return pathSegment;
  return dns1123Subdomain;
}

function qualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name = value;
  if (parts.length === 2) {
    const [prefix] = parts;
    name = parts[1];
    if (prefix.length === 0) errs.push(`prefix part ${'must be non-empty'}`);
    else for (const e of dns1123Subdomain(prefix)) errs.push(`prefix part ${e}`);
  } else if (parts.length > 2) {
    return [
      regexError(
        "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        QUALIFIED_NAME_FMT,
        'MyName',
        'my.name',
        '123-abc',
      ) + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push(`name part ${maxLen(63)}`);
  if (name.length > 0 && !QUALIFIED_NAME.test(name)) {
    errs.push(
      `name part ${regexError("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`,
    );
  }
  return errs;
}

function labelValue(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLen(63));
  if (!LABEL_VALUE.test(value)) {
    errs.push(
      regexError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        LABEL_VALUE_FMT,
        'MyValue',
        'my_value',
        '12345',
      ),
    );
  }
  return errs;
}

const invalid = (field: string, value: string, detail: string): FieldCause => ({
  field,
  message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
  reason: 'FieldValueInvalid',
});
const tooLong = (field: string, limit: number): FieldCause => ({
  field,
  message: `Too long: may not be more than ${limit} bytes`,
  reason: 'FieldValueTooLong',
});
const forbidden = (field: string, detail: string): FieldCause => ({
  field,
  message: `Forbidden: ${detail}`,
  reason: 'FieldValueForbidden',
});
const immutable = (field: string, rendered: string): FieldCause => ({
  field,
  message: `Invalid value: ${rendered}: field is immutable`,
  reason: 'FieldValueInvalid',
});

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const stringMap = (v: unknown): Record<string, string> =>
  isObj(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)])) : {};

/** Go's `%#v` of a map[string]string (keys sorted, as fmt prints maps). */
function goMap(map: Record<string, string>): string {
  return `map[string]string{${Object.keys(map)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(map[k])}`)
    .join(', ')}}`;
}

/** Go's `%#v` of a metav1.LabelSelector, the value kube-apiserver prints when a selector may not change. */
function goLabelSelector(selector: unknown): string {
  const s = isObj(selector) ? selector : {};
  const labels = isObj(s.matchLabels) ? goMap(stringMap(s.matchLabels)) : 'map[string]string(nil)';
  const exprs = Array.isArray(s.matchExpressions)
    ? `[]v1.LabelSelectorRequirement{${s.matchExpressions
        .filter(isObj)
        .map(
          (e) =>
            `v1.LabelSelectorRequirement{Key:${JSON.stringify(String(e.key ?? ''))}, Operator:${JSON.stringify(String(e.operator ?? ''))}, Values:${Array.isArray(e.values) ? `[]string{${e.values.map((v) => JSON.stringify(String(v))).join(', ')}}` : '[]string(nil)'}}`,
        )
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${labels}, MatchExpressions:${exprs}}`;
}

function metadataCauses(info: ResourceInfo, obj: KubeObject): FieldCause[] {
  const causes: FieldCause[] = [];
  const name = obj.metadata.name ?? '';
  if (!name)
    causes.push({
      field: 'metadata.name',
      message: 'Required value: name or generateName is required',
      reason: 'FieldValueRequired',
    });
  else for (const detail of nameRule(info)(name)) causes.push(invalid('metadata.name', name, detail));
  if (info.resource === 'customresourcedefinitions' && name) {
    const spec = isObj(obj.spec) ? obj.spec : {};
    const names = isObj(spec.names) ? spec.names : {};
    if (name !== `${String(names.plural ?? '')}.${String(spec.group ?? '')}`)
      causes.push(invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  }
  for (const [k, v] of Object.entries(obj.metadata.labels ?? {})) {
    for (const detail of qualifiedName(k)) causes.push(invalid('metadata.labels', k, detail));
    for (const detail of labelValue(String(v))) causes.push(invalid('metadata.labels', String(v), detail));
  }
  let annotationBytes = 0;
  for (const [k, v] of Object.entries(obj.metadata.annotations ?? {})) {
    for (const detail of qualifiedName(k.toLowerCase())) causes.push(invalid('metadata.annotations', k, detail));
    annotationBytes += k.length + String(v).length;
  }
  if (annotationBytes > MAX_ANNOTATION_BYTES) causes.push(tooLong('metadata.annotations', MAX_ANNOTATION_BYTES));
  return causes;
}

const WORKLOADS_WITH_SELECTOR = new Set(['deployments', 'replicasets', 'statefulsets', 'daemonsets']);

const SELECTOR_OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

/** Whether a workload's raw selector selects its template's labels; an unknown operator is not this check's concern. */
function selectorMatchesLabels(selector: Obj, labels: Record<string, string>): boolean {
  const matchExpressions = (Array.isArray(selector.matchExpressions) ? selector.matchExpressions.filter(isObj) : [])
    .map((e) => ({
      key: String(e.key ?? ''),
      operator: typeof e.operator === 'string' ? e.operator : '',
      values: Array.isArray(e.values) ? e.values.map(String) : [],
    }))
    .filter((e) => SELECTOR_OPERATORS.has(e.operator));
  return matchesLabelSelector({ matchLabels: stringMap(selector.matchLabels), matchExpressions }, labels);
}

function specCauses(info: ResourceInfo, obj: KubeObject): FieldCause[] {
  if (info.custom) return [];
  const causes: FieldCause[] = [];
  if (info.group === '' && (info.resource === 'configmaps' || info.resource === 'secrets')) {
    let bytes = 0;
    for (const field of info.resource === 'configmaps' ? ['data', 'binaryData'] : ['data']) {
      // Values only, not keys, as ValidateConfigMap and ValidateSecret count. Secret data and binaryData are base64
      // in JSON; the limit counts the decoded bytes.
      for (const v of Object.values(isObj(obj[field]) ? (obj[field] as Obj) : {})) {
        const text = String(v);
        bytes +=
          field === 'data' && info.resource === 'configmaps'
            ? Buffer.byteLength(text)
            : Buffer.from(text, 'base64').length;
      }
    }
    if (bytes > MAX_DATA_BYTES) causes.push(tooLong(info.resource === 'configmaps' ? '[]' : 'data', MAX_DATA_BYTES));
  }
  if (
    info.group === 'admissionregistration.k8s.io' &&
    (info.resource === 'mutatingwebhookconfigurations' || info.resource === 'validatingwebhookconfigurations')
  ) {
    causes.push(...webhookConfigurationCauses(obj));
  }
  if (info.group === 'apps' && WORKLOADS_WITH_SELECTOR.has(info.resource)) {
    const spec = isObj(obj.spec) ? obj.spec : {};
    const template = isObj(spec.template) ? spec.template : {};
    const labels = stringMap(isObj(template.metadata) ? template.metadata.labels : undefined);
    if (!isObj(spec.selector))
      causes.push({ field: 'spec.selector', message: 'Required value', reason: 'FieldValueRequired' });
    else if (
      Object.keys(stringMap(spec.selector.matchLabels)).length === 0 &&
      !(Array.isArray(spec.selector.matchExpressions) && spec.selector.matchExpressions.length > 0)
    ) {
      causes.push({
        field: 'spec.selector',
        message: `Invalid value: ${goLabelSelector(spec.selector)}: empty selector is invalid for deployment`,
        reason: 'FieldValueInvalid',
      });
    } else if (!selectorMatchesLabels(spec.selector, labels)) {
      causes.push({
        field: 'spec.template.metadata.labels',
        message: `Invalid value: ${goMap(labels)}: \`selector\` does not match template \`labels\``,
        reason: 'FieldValueInvalid',
      });
    }
  }
  return causes;
}

const STATEFULSET_MUTABLE = new Set([
  'replicas',
  'ordinals',
  'template',
  'updateStrategy',
  'persistentVolumeClaimRetentionPolicy',
  'minReadySeconds',
]);

function updateCauses(info: ResourceInfo, next: KubeObject, current: KubeObject): FieldCause[] {
  if (info.custom) return [];
  const causes: FieldCause[] = [];
  const spec = isObj(next.spec) ? next.spec : {};
  const old = isObj(current.spec) ? current.spec : {};
  if (
    info.group === 'apps' &&
    WORKLOADS_WITH_SELECTOR.has(info.resource) &&
    info.resource !== 'statefulsets' &&
    canonicalJson(spec.selector) !== canonicalJson(old.selector)
  ) {
    causes.push(immutable('spec.selector', goLabelSelector(spec.selector)));
  }
  if (info.group === 'apps' && info.resource === 'statefulsets') {
    const frozen = (s: Obj): string =>
      canonicalJson(Object.fromEntries(Object.entries(s).filter(([k]) => !STATEFULSET_MUTABLE.has(k))));
    if (frozen(spec) !== frozen(old)) {
      causes.push(
        forbidden(
          'spec',
          "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ),
      );
    }
  }
  if (info.group === 'batch' && info.resource === 'jobs') {
    if (canonicalJson(spec.template) !== canonicalJson(old.template))
      causes.push(immutable('spec.template', canonicalJson(spec.template)));
    if (
      spec.completions !== old.completions &&
      !(spec.completionMode === 'Indexed' && spec.completions === spec.parallelism)
    ) {
      causes.push(immutable('spec.completions', String(spec.completions)));
    }
  }
  if (
    info.group === '' &&
    (info.resource === 'configmaps' || info.resource === 'secrets') &&
    current.immutable === true
  ) {
    const locked = `field is immutable when \`immutable\` is set`;
    if (canonicalJson(next.data) !== canonicalJson(current.data)) causes.push(forbidden('data', locked));
    if (info.resource === 'configmaps' && canonicalJson(next.binaryData) !== canonicalJson(current.binaryData))
      causes.push(forbidden('binaryData', locked));
    if (next.immutable !== true) causes.push(forbidden('immutable', locked));
  }
  return causes;
}

/**
 * Validates an object about to be stored (`current`: the stored one, on update). Throws 422 Invalid naming every
 * bad field, or 413 when the object is larger than etcd takes.
 */
export function validateObject(info: ResourceInfo, obj: KubeObject, current?: KubeObject): void {
  const causes = [
    ...metadataCauses(info, obj),
    ...specCauses(info, obj),
    ...(current ? updateCauses(info, obj, current) : []),
  ];
  if (causes.length) throw ApiError.invalid(info.kind, obj.metadata.name ?? '', causes, info.group);
  if (Buffer.byteLength(JSON.stringify(obj)) > MAX_OBJECT_BYTES) {
    throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: etcdserver: request is too large');
  }
}
