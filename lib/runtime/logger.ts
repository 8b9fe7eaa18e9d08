import { Logger } from '@aws-lambda-powertools/logger';

/**
 * Structured JSON logs (Powertools). Keys follow STYLE.md: workspace, cluster, gvr, namespace, name, messageId,
 * traceId. One logger per function per container; child loggers carry per-message keys.
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, logLevel: (process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO') as 'INFO' });
}
