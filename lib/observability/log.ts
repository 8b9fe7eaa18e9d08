/**
 * The one logging interface of tmc: every use case, adapter and the local stack take a `Log`. Powertools' Logger is
 * adapted to it in lib/runtime/logger.ts (`fromPowertools`), the local stack's own log in lib/local/log.ts. Attributes
 * are about the object (workspace, cluster, gvr, namespace, name, traceId), never its data. `npm run lint` refuses a
 * second logger interface anywhere else.
 */
export type LogAttributes = Record<string, unknown>;

export interface Log {
  debug(message: string, attributes?: LogAttributes): void;
  info(message: string, attributes?: LogAttributes): void;
  warn(message: string, attributes?: LogAttributes): void;
  error(message: string, attributes?: LogAttributes): void;
  /** A log whose every line also carries `attributes` (a message's messageId and traceId, an object's ref). */
  child(attributes: LogAttributes): Log;
}

/** A Log that writes nothing, for callers that were given none. */
export const silentLog: Log = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLog,
};

/** Records log lines in memory: tests assert on what was logged (and that Secret data never was). */
export function memoryLog(
  lines: Array<{ level: string; message: string; attributes: LogAttributes }> = [],
  base: LogAttributes = {},
): Log {
  const write =
    (level: string) =>
    (message: string, attributes?: LogAttributes): void => {
      lines.push({ level, message, attributes: { ...base, ...(attributes ?? {}) } });
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (a): Log => memoryLog(lines, { ...base, ...a }),
  };
}
