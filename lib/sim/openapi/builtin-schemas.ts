import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { KUBE_OPENAPI_GZIP_BASE64 } from './kube-openapi-data';

/** The Kubernetes release whose published OpenAPI document the built-in schemas come from. */
export const KUBE_OPENAPI_RELEASE = 'release-1.32';

/** Written by `npx tsx scripts/generate-kube-openapi.ts <swagger.json> <Go API dirs>`, relative to the repository root. */
export const BUILTIN_OPENAPI_FILE = 'lib/sim/openapi/kube-openapi-data.ts';

const BuiltinOpenApiSchema = z.object({
  source: z.string(),
  sourceSha256: z.string(),
  /** `group/version/Kind` → the name of its schema in `schemas`. */
  kinds: z.record(z.string(), z.string()),
  /** OpenAPI v3 component schemas, by Kubernetes' definition name (`io.k8s.api.apps.v1.Deployment`). */
  schemas: z.record(z.string(), z.record(z.string(), z.unknown())),
});
export type BuiltinOpenApi = z.infer<typeof BuiltinOpenApiSchema>;

let loaded: BuiltinOpenApi | undefined;

/** The built-in kinds' schemas, read once per process (about 20 ms) on first use. */
export function builtinOpenApi(): BuiltinOpenApi {
  loaded ??= BuiltinOpenApiSchema.parse(
    JSON.parse(gunzipSync(Buffer.from(KUBE_OPENAPI_GZIP_BASE64, 'base64')).toString('utf8')),
  );
  return loaded;
}
