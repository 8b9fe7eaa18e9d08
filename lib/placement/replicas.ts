/**
 * Largest-remainder division of `total` replicas by `weights`: every share is floor(total·w/Σw), and the replicas
 * left over go one each to the largest remainders, ties broken by cluster name, so the result is deterministic.
 * All-zero weights divide equally.
 */
export function divideReplicas(total: number, names: readonly string[], weights: readonly number[]): number[] {
  const n = names.length;
  if (n === 0) return [];
  let sum = 0;
  for (let i = 0; i < n; i++) sum += weights[i] > 0 && Number.isFinite(weights[i]) ? weights[i] : 0;
  const w = sum > 0 ? weights.map((x) => (x > 0 && Number.isFinite(x) ? x : 0)) : names.map(() => 1);
  if (sum <= 0) sum = n;
  const shares = new Array<number>(n);
  const remainders = new Array<number>(n);
  let assigned = 0;
  for (let i = 0; i < n; i++) {
    const exact = (total * w[i]) / sum;
    shares[i] = Math.floor(exact);
    remainders[i] = exact - shares[i];
    assigned += shares[i];
  }
  const order = names
    .map((_, i) => i)
    .sort((a, b) => remainders[b] - remainders[a] || (names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : 0));
  for (let k = 0; assigned < total; k++, assigned++) shares[order[k % n]] += 1;
  return shares;
}
