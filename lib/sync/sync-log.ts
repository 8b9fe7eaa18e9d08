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

/**
 * Adapts a Powertools Logger to SyncLog. A child's keys go into each line it writes, after the logger's own persistent
 * keys and before the line's attributes (which win on a clash), as Powertools places a child logger's persistent keys:
 * the same lines. Not `logger.createChild()`: it builds a whole Logger (and re-reads its environment), and the use
 * cases take a child per message and per object·cluster; that was 1.5% of the local stack's main thread.
 */
export function fromPowertools(logger: Logger, keys: Record<string, unknown> = {}): SyncLog {
  return new PowertoolsSyncLog(logger, keys);
}

// A class, not an object of closures: a child is made per message and per object·cluster.
class PowertoolsSyncLog implements SyncLog {
  constructor(
    private readonly logger: Logger,
    private readonly keys: Record<string, unknown>,
  ) {}

  debug(message: string, attributes?: Record<string, unknown>): void {
    this.logger.debug(message, this.withKeys(attributes));
  }

  info(message: string, attributes?: Record<string, unknown>): void {
    this.logger.info(message, this.withKeys(attributes));
  }

  warn(message: string, attributes?: Record<string, unknown>): void {
    this.logger.warn(message, this.withKeys(attributes));
  }

  error(message: string, attributes?: Record<string, unknown>): void {
    this.logger.error(message, this.withKeys(attributes));
  }

  child(attributes: Record<string, unknown>): SyncLog {
    return new PowertoolsSyncLog(this.logger, { ...this.keys, ...definedOnly(attributes) });
  }

  private withKeys(attributes: Record<string, unknown> | undefined): Record<string, unknown> {
    return attributes === undefined ? this.keys : { ...this.keys, ...attributes };
  }
}

/** Powertools leaves out a persistent key whose value is undefined (a cluster-scoped object's namespace). */
function definedOnly(attributes: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(attributes).filter(([, value]) => value !== undefined));
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
