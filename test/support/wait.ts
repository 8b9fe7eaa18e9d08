/**
 * Waits for a condition by polling (never a fixed sleep). Fails with `what` and the last value seen, so a timeout
 * says what did not happen; `history`, when given, is shown too: what the probes saw on the way, for a condition that
 * depends on a sequence (sweeps that note, then confirm) rather than on the last value alone.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number; history?: () => unknown } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (err) {
      last = err instanceof Error ? err.message : err;
    }
    if (Date.now() > deadline) {
      const history = options.history ? `; history: ${JSON.stringify(options.history())}` : '';
      throw new Error(`Timed out waiting for ${what}; last seen: ${JSON.stringify(last)}${history}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}
