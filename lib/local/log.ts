import type { Log, LogAttributes } from '../observability/log';
import { prettyLine } from '../runtime/pretty-log';

/**
 * The local stack's own log: progress lines and warnings about the stack itself (function logs are Powertools JSON).
 * Structured JSON when stdout is not a TTY (CI, files), one readable line when it is.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface StackLoggerOptions {
  level?: LogLevel | 'silent';
  pretty?: boolean;
  write?: (line: string) => void;
}

function errorFields(value: unknown): unknown {
  // JSON.stringify(err) prints {}: keep name, message and the TmcError category instead.
  if (value instanceof Error) {
    const category = (value as { category?: unknown }).category;
    return { name: value.name, message: value.message, ...(category === undefined ? {} : { category }) };
  }
  return value;
}

export function createStackLogger(options: StackLoggerOptions = {}, base: LogAttributes = {}): Log {
  const level = options.level ?? 'info';
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  const write = options.write ?? ((line: string): void => void process.stdout.write(`${line}\n`));
  const emit = (at: LogLevel, message: string, fields: LogAttributes = {}): void => {
    if (level === 'silent' || ORDER[at] < ORDER[level]) return;
    const clean = Object.fromEntries(Object.entries({ ...base, ...fields }).map(([k, v]) => [k, errorFields(v)]));
    if (pretty) {
      write(prettyLine(at, message, clean));
    } else {
      write(
        JSON.stringify({
          level: at.toUpperCase(),
          timestamp: new Date().toISOString(),
          service: 'tmc-local',
          message,
          ...clean,
        }),
      );
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (attributes) => createStackLogger(options, { ...base, ...attributes }),
  };
}
