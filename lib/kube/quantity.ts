// Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource): a decimal number with a binary suffix
// (Ki..Ei), a decimal suffix (n, u, m, k, M, G, T, P, E) or a decimal exponent (1e3). A library exists
// (client-node's quantityToScalar) but pulls in the ESM-only client for twenty lines.
const SUFFIX_MULTIPLIERS: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

export const QUANTITY_PATTERN =
  /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

/** The value of a quantity in base units (`500m` → 0.5, `2Gi` → 2147483648), or undefined when it is not one. */
export function parseQuantity(quantity: string | number | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  if (typeof quantity === 'number') return Number.isFinite(quantity) ? quantity : undefined;
  const match = QUANTITY_PATTERN.exec(quantity.trim());
  if (!match) return undefined;
  const [, number, exponent, suffix] = match;
  const value =
    exponent !== undefined
      ? Number(number) * 10 ** Number(exponent)
      : Number(number) * SUFFIX_MULTIPLIERS[suffix ?? ''];
  return Number.isFinite(value) ? value : undefined;
}

/** CPU in millicores, rounded up as the scheduler does (`100m`, `0.5`, `2`). */
export function cpuMillis(quantity: string | number | undefined): number {
  if (quantity === undefined) return 0;
  const cores = parseQuantity(quantity);
  return cores === undefined ? 0 : Math.ceil(Math.round(cores * 1e9) / 1e6);
}

/** Memory in bytes, rounded up (`128Mi`, `1G`, `512k`). */
export function memoryBytes(quantity: string | number | undefined): number {
  if (quantity === undefined) return 0;
  const bytes = parseQuantity(quantity);
  return bytes === undefined ? 0 : Math.ceil(bytes);
}
