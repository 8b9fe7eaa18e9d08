// protobufjs is CommonJS: a default import works under both tsx's ESM loader and jest's CommonJS transform.
import protobuf, { type Root, type Type } from 'protobufjs';
import { z } from 'zod';
import { ApiError } from '../../kube-api/api-error';
import {
  DECODABLE_KINDS,
  INLINE_FIELDS,
  KEEP_ZERO_FIELDS,
  KUBERNETES_PROTO_FILES,
  PROTO_PACKAGE_OF_GROUP,
} from './kubernetes-proto';

/** The 4 bytes kube-apiserver's protobuf serializer puts before every `runtime.Unknown` envelope. */
export const PROTOBUF_MAGIC = Buffer.from('k8s\u0000', 'latin1');

const UnknownEnvelope = z.object({
  typeMeta: z
    .object({ apiVersion: z.string().default(''), kind: z.string().default('') })
    .default({ apiVersion: '', kind: '' }),
  raw: z.instanceof(Uint8Array).optional(),
  contentEncoding: z.string().optional(),
});

let root: Root | undefined;

/** Parsed once, on the first protobuf request: JSON clients never pay for it. */
function schema(): Root {
  if (!root) {
    const r = new protobuf.Root();
    for (const file of KUBERNETES_PROTO_FILES) protobuf.parse(file, r, { keepCase: true });
    r.resolveAll();
    root = r;
  }
  return root;
}

function unsupported(message: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', message);
}

function messageTypeFor(apiVersion: string, kind: string): Type {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
  const pkg = PROTO_PACKAGE_OF_GROUP[group];
  if (!pkg || !DECODABLE_KINDS.has(`${apiVersion}/${kind}`)) {
    throw unsupported(
      `the simulator cannot decode a protobuf ${kind || '(no kind)'} of ${apiVersion || '(no apiVersion)'}: send it as JSON or YAML instead, e.g. \`kubectl create ... --dry-run=client -o yaml | kubectl apply -f -\``,
    );
  }
  return schema().lookupType(`${pkg}.${version}.${kind}`);
}

/**
 * Decodes a Kubernetes protobuf request body (`application/vnd.kubernetes.protobuf`: magic `k8s\0`, then a
 * `runtime.Unknown` whose `raw` holds the typed object) into the JSON object a JSON client would have sent for the
 * same Go struct, with apiVersion and kind set. Unknown kinds get 415 naming the kind; unknown fields are ignored.
 */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (body.length < PROTOBUF_MAGIC.length || !body.subarray(0, PROTOBUF_MAGIC.length).equals(PROTOBUF_MAGIC)) {
    throw unsupported(
      'the body of the request was in an unknown format: a protobuf body starts with the 4 bytes "k8s\\0"',
    );
  }
  const unknownType = schema().lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  let decoded: unknown;
  try {
    decoded = unknownType.toObject(unknownType.decode(body.subarray(PROTOBUF_MAGIC.length)), { defaults: false });
  } catch (err) {
    throw ApiError.badRequest(
      `the protobuf body is not a runtime.Unknown envelope: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const envelope = UnknownEnvelope.parse(decoded);
  const { apiVersion, kind } = envelope.typeMeta;
  if (envelope.contentEncoding)
    throw unsupported(
      `the protobuf ${kind} of ${apiVersion} uses content encoding "${envelope.contentEncoding}", which the simulator does not decode`,
    );
  const type = messageTypeFor(apiVersion, kind);
  let message: Record<string, unknown>;
  try {
    message = type.toObject(type.decode(envelope.raw ?? new Uint8Array()), {
      defaults: false,
      longs: Number,
      bytes: String,
    });
  } catch (err) {
    throw ApiError.badRequest(
      `the protobuf ${kind} of ${apiVersion} could not be decoded: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return { apiVersion, kind, ...toJson(type, message) };
}

/** Short name used by KEEP_ZERO_FIELDS: `core.v1.PodSpec` for `.k8s.io.api.core.v1.PodSpec`. */
function shortName(type: Type): string {
  return type.fullName.replace(/^\.k8s\.io\.(api|apimachinery\.pkg\.apis)\./, '');
}

function isZero(value: unknown): boolean {
  return value === '' || value === 0 || value === false;
}

function rfc3339(time: Record<string, unknown>): string | null {
  const seconds = Number(time.seconds ?? 0);
  // gogo writes a non-pointer Time even when unset (a pod template's creationTimestamp); Go's JSON for it is null.
  if (seconds === 0 && Number(time.nanos ?? 0) === 0) return null;
  // metav1.Time marshals with second precision.
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Converts a value of a message-typed field the way the Go type's MarshalJSON does. */
function messageToJson(type: Type, value: Record<string, unknown>): unknown {
  switch (type.fullName) {
    case '.k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      return Number(value.type ?? 0) === 1 ? String(value.strVal ?? '') : Number(value.intVal ?? 0);
    case '.k8s.io.apimachinery.pkg.api.resource.Quantity':
      return String(value.string ?? '0');
    case '.k8s.io.apimachinery.pkg.apis.meta.v1.Time':
      return rfc3339(value);
    default:
      return toJson(type, value);
  }
}

function toJson(type: Type, message: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const owner = shortName(type);
  for (const field of type.fieldsArray) {
    const value = message[field.name];
    if (value === undefined || value === null) continue;
    const nested = field.resolvedType && 'fieldsArray' in field.resolvedType ? (field.resolvedType as Type) : undefined;
    if (field.map) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 0) continue;
      out[field.name] = Object.fromEntries(
        entries.map(([k, v]) => [k, nested ? messageToJson(nested, v as Record<string, unknown>) : v]),
      );
    } else if (field.repeated) {
      const items = value as unknown[];
      if (items.length === 0) continue;
      out[field.name] = nested ? items.map((v) => messageToJson(nested, v as Record<string, unknown>)) : items;
    } else if (nested) {
      const converted = messageToJson(nested, value as Record<string, unknown>);
      if (converted === undefined) continue;
      if (INLINE_FIELDS.has(field.name) && typeof converted === 'object' && converted !== null)
        Object.assign(out, converted);
      else out[field.name] = converted;
    } else {
      if (isZero(value) && !KEEP_ZERO_FIELDS.has(`${owner}.${field.name}`)) continue;
      out[field.name] = value;
    }
  }
  return out;
}
