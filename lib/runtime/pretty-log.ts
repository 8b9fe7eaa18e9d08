/**
 * One readable, coloured line per log record, for a person watching `npm start` in a terminal. Structured JSON stays
 * the format everywhere else (Lambda, CI, files): the local stack asks for this with `TMC_LOG_FORMAT=pretty` only
 * when its stdout is a TTY.
 */
export type PrettyLevel = 'debug' | 'info' | 'warn' | 'error';

const COLOURS: Record<PrettyLevel, string> = {
  debug: '\x1b[90m',
  info: '\x1b[36m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
};
const DIM = '\x1b[90m';
const RESET = '\x1b[0m';

export function prettyLine(
  level: PrettyLevel,
  message: string,
  fields: Record<string, unknown>,
  source?: string,
): string {
  const extras = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const who = source ? `${DIM}${source.padEnd(14)}${RESET} ` : '';
  return `${COLOURS[level]}${level.padEnd(5)}${RESET} ${who}${message}${extras ? ` ${DIM}${extras}${RESET}` : ''}`;
}

/** Powertools' level numbers (LogLevelThreshold: TRACE 6 … INFO 12, WARN 16, ERROR 20, CRITICAL 24) to four. */
export function prettyLevelOf(threshold: number): PrettyLevel {
  if (threshold >= 20) return 'error';
  if (threshold >= 16) return 'warn';
  if (threshold >= 12) return 'info';
  return 'debug';
}
