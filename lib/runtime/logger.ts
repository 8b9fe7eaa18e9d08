import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';

const LogLevelSchema = z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'CRITICAL']);

/**
 * Structured JSON logs (Powertools). Keys follow STYLE.md: workspace, cluster, gvr, namespace, name, messageId,
 * traceId (tmc's correlation id, docs/observability.md). One logger per function per container; child loggers carry
 * per-message keys. `POWERTOOLS_LOG_LEVEL` is parsed like any other environment variable; an unknown level is INFO.
 */
export function createLogger(serviceName: string): Logger {
  const level = LogLevelSchema.safeParse(process.env.POWERTOOLS_LOG_LEVEL?.trim().toUpperCase());
  return new Logger({ serviceName, logLevel: level.success ? level.data : 'INFO' });
}
