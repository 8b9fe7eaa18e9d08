import { Logger, type LogItem } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';
import { prettyLevelOf, prettyLine } from './pretty-log';
import { z } from 'zod';
import type { Log, LogAttributes } from '../observability/log';

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

const functionLoggers = new Map<string, Logger>();

/**
 * The Powertools logger of one function, one per container: the handler's middleware (lib/runtime/wrap-handler.ts)
 * adds each invocation's Lambda context to it, and the function's deps log through it.
 */
export function functionLogger(serviceName: string): Logger {
  let logger = functionLoggers.get(serviceName);
  if (logger === undefined) {
    logger = createLogger(serviceName);
    functionLoggers.set(serviceName, logger);
  }
  return logger;
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

/**
 * Adapts a Powertools Logger to tmc's Log (lib/observability/log.ts). A child's keys go into each line it writes, after
 * the logger's own persistent keys and before the line's attributes (which win on a clash), as Powertools places a
 * child logger's persistent keys: the same lines. Not `logger.createChild()`: it builds a whole Logger (and re-reads
 * its environment), and the use cases take a child per message and per object·cluster.
 */
export function fromPowertools(logger: Logger, keys: LogAttributes = {}): Log {
  return new PowertoolsLog(logger, keys);
}

// A class, not an object of closures: a child is made per message and per object·cluster.
class PowertoolsLog implements Log {
  constructor(
    private readonly logger: Logger,
    private readonly keys: LogAttributes,
  ) {}

  debug(message: string, attributes?: LogAttributes): void {
    this.logger.debug(message, this.withKeys(attributes));
  }

  info(message: string, attributes?: LogAttributes): void {
    this.logger.info(message, this.withKeys(attributes));
  }

  warn(message: string, attributes?: LogAttributes): void {
    this.logger.warn(message, this.withKeys(attributes));
  }

  error(message: string, attributes?: LogAttributes): void {
    this.logger.error(message, this.withKeys(attributes));
  }

  child(attributes: LogAttributes): Log {
    return new PowertoolsLog(this.logger, { ...this.keys, ...definedOnly(attributes) });
  }

  private withKeys(attributes: LogAttributes | undefined): LogAttributes {
    return attributes === undefined ? this.keys : { ...this.keys, ...attributes };
  }
}

/** Powertools leaves out a persistent key whose value is undefined (a cluster-scoped object's namespace). */
function definedOnly(attributes: LogAttributes): LogAttributes {
  return Object.fromEntries(Object.entries(attributes).filter(([, value]) => value !== undefined));
}
