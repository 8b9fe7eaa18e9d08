/** An error as one line for a report or a log: `Error.message` (never `JSON.stringify`, which prints `{}`). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
