import { Logger, type LogItem } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';
import { type Log } from '../../../lib/observability/log';
import { fromPowertools } from '../../../lib/runtime/logger';

/**
 * fromPowertools' child loggers merge their keys into each line instead of building a Powertools child Logger per
 * object; the lines must be the ones Powertools' own child loggers write: same keys, same order, same values.
 */

/** A Logger that keeps what it would print (all but the timestamp), and whose children do too. */
class RecordingLogger extends Logger {
  constructor(
    readonly lines: Array<Array<[string, unknown]>>,
    options?: ConstructorOptions,
  ) {
    super(options);
  }

  protected override printLog(_level: number, log: LogItem): void {
    this.lines.push(Object.entries(log.getAttributes()).filter(([key]) => key !== 'timestamp'));
  }

  protected override createLogger(options?: ConstructorOptions): Logger {
    return new RecordingLogger(this.lines, options);
  }
}

type Lines = Pick<Log, 'debug' | 'info' | 'warn' | 'error'>;

/** How Log wrote through Powertools (with a Powertools child logger per child) before. */
function powertoolsLines(logger: Logger): Lines {
  return {
    debug: (m, a) => logger.debug(m, a ?? {}),
    info: (m, a) => logger.info(m, a ?? {}),
    warn: (m, a) => logger.warn(m, a ?? {}),
    error: (m, a) => logger.error(m, a ?? {}),
  };
}

describe('fromPowertools', () => {
  it('writes the lines Powertools child loggers write', () => {
    const expected: Array<Array<[string, unknown]>> = [];
    const actual: Array<Array<[string, unknown]>> = [];
    const options: ConstructorOptions = {
      serviceName: 'sync-apply',
      logLevel: 'DEBUG',
      persistentKeys: { region: 'local' },
    };
    const reference = new RecordingLogger(expected, options);
    const log = fromPowertools(new RecordingLogger(actual, options));
    const error = new Error('boom', { cause: new Error('root cause') });

    const scripts: Array<(l: Lines) => void> = [
      (l) => l.info('Applying Deployment default/web to east', { cluster: 'east', attempt: 1 }),
      (l) => l.debug('Skipping unchanged object'),
      (l) => l.warn('Cluster throttled', { cluster: 'west', retryAfterSeconds: 2 }),
      // A line's attribute wins over a child's key of the same name, in the child key's place.
      (l) => l.error('Apply failed', { error, name: 'other', messageId: 'm-2' }),
    ];
    const referenceChild = reference.createChild({ persistentKeys: { messageId: 'm-1', traceId: 't-1' } }).createChild({
      persistentKeys: { workspace: 'root:org', gvr: 'apps/v1/deployments', namespace: undefined, name: 'web' },
    });
    const child = log
      .child({ messageId: 'm-1', traceId: 't-1' })
      .child({ workspace: 'root:org', gvr: 'apps/v1/deployments', namespace: undefined, name: 'web' });
    for (const script of scripts) {
      script(powertoolsLines(reference));
      script(log);
      script(powertoolsLines(referenceChild));
      script(child);
    }

    expect(actual).toHaveLength(8);
    expect(actual).toEqual(expected);
    // toEqual ignores key order; a line's keys come in the same order too.
    expect(actual.map((line) => line.map(([key]) => key))).toEqual(expected.map((line) => line.map(([key]) => key)));
    expect(Object.fromEntries(actual[5])).toMatchObject({
      messageId: 'm-1',
      workspace: 'root:org',
      name: 'web',
      cluster: 'west',
    });
    expect(Object.fromEntries(actual[7])).toMatchObject({ messageId: 'm-2', name: 'other' });
    expect(actual[5].some(([key]) => key === 'namespace')).toBe(false);
  });
});
