import { fnv1a } from '../../placement/hash';

// The alphabet of k8s.io/apimachinery/pkg/util/rand.SafeEncodeString: no vowels, no confusable characters.
const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** A pod-template-hash shaped like the deployment controller's (`5d4f8c7b9`): FNV-32 of the template, safe-encoded. */
export function templateHash(template: unknown): string {
  return safeEncode(String(fnv1a(JSON.stringify(template ?? {}))));
}

/** A stable 5-character pod-name suffix, as generateName would produce (but reproducible per owner and index). */
export function nameSuffix(seed: string): string {
  return safeEncode(String(fnv1a(seed)).padStart(5, '0')).slice(-5);
}

function safeEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += SAFE_ALPHANUMS[text.charCodeAt(i) % SAFE_ALPHANUMS.length];
  return out;
}
