import { Logger, type LogItem } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';
import { prettyLevelOf, prettyLine } from './pretty-log';
import { z } from 'zod';

const LogLevelSchema = z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'CRITICAL']);

/**
 * Structured JSON logs (Powertools). Keys follow STYLE.md: workspace, cluster, gvr, namespace, name, messageId,
 * traceId (tmc's correlation id, docs/observability.md). One logger per function per container; child loggers carry
 * per-message keys. `POWERTOOLS_LOG_LEVEL` is parsed like any other environment variable; an unknown level is INFO.
 */
export function createLogger(serviceName: string): Logger {
  const level = LogLevelSchema.safeParse(process.env.POWERTOOLS_LOG_LEVEL?.trim().toUpperCase());
  const options = { serviceName, logLevel: level.success ? level.data : 'INFO' } as const;
  return process.env.TMC_LOG_FORMAT === 'pretty' ? new PrettyLogger(options) : new Logger(options);
}

/** Keys every record carries that a person at a terminal does not need on every line. */
const QUIET_KEYS = new Set(['level', 'message', 'timestamp', 'service', 'sampling_rate', 'xray_trace_id']);

/**
 * The same logger, printing {@link prettyLine}s (the local stack on a TTY sets `TMC_LOG_FORMAT=pretty`). Powertools
 * formats through a JSON LogFormatter only, so the print step is what changes; child loggers stay pretty.
 */
class PrettyLogger extends Logger {
  protected override printLog(logLevel: number, log: LogItem): void {
    const attributes = log.getAttributes();
    const fields = Object.fromEntries(Object.entries(attributes).filter(([key]) => !QUIET_KEYS.has(key)));
    process.stdout.write(
      `${prettyLine(prettyLevelOf(logLevel), String(attributes.message ?? ''), fields, String(attributes.service ?? ''))}\n`,
    );
  }

  protected override createLogger(options?: ConstructorOptions): Logger {
    return new PrettyLogger(options);
  }
}
