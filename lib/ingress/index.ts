export { createIngress, type Ingress } from './ingress';
export { DEFAULT_ENQUEUE_DEADLINE_MS, DEFAULT_MAX_BODY_BYTES, type IngressDeps, type IngressLogger, type TmcObjectValidator } from './deps';
export { errorResponse, jsonResponse, type IngressRequest, type IngressResponse } from './http';
export { finalizerPatch } from './finalizer-patch';
export { placementFingerprint } from './fingerprint';
export { EXCLUDED_NAMESPACES, selectWorkload, tmcKindReason } from './selection';
export { upstreamRefOf, pluralOf } from './refs';
