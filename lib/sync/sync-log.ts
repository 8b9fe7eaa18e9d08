import type { Logger } from '@aws-lambda-powertools/logger';

/**
 * The logging the sync use cases need: Powertools' Logger satisfies it (see lib/runtime/logger.ts). Attributes are
 * about the object (workspace, cluster, gvr, namespace, name, traceId), never its data.
 */
export interface SyncLog {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
  child(attributes: Record<string, unknown>): SyncLog;
}

/** Adapts a Powertools Logger (whose child loggers take persistent keys) to SyncLog. */
export function fromPowertools(logger: Logger): SyncLog {
  return {
    debug: (m, a): void => logger.debug(m, a ?? {}),
    info: (m, a): void => logger.info(m, a ?? {}),
    warn: (m, a): void => logger.warn(m, a ?? {}),
    error: (m, a): void => logger.error(m, a ?? {}),
    child: (attributes): SyncLog => fromPowertools(logger.createChild({ persistentKeys: attributes })),
  };
}

/** Records log lines in memory: tests assert on what was logged (and that Secret data never was). */
export function memoryLog(
  lines: Array<{ level: string; message: string; attributes: Record<string, unknown> }> = [],
  base: Record<string, unknown> = {},
): SyncLog {
  const write =
    (level: string) =>
    (message: string, attributes?: Record<string, unknown>): void => {
      lines.push({ level, message, attributes: { ...base, ...(attributes ?? {}) } });
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (a): SyncLog => memoryLog(lines, { ...base, ...a }),
  };
}
