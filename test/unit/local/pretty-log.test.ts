import { createLogger } from '../../../lib/runtime/logger';
import { prettyLevelOf, prettyLine } from '../../../lib/runtime/pretty-log';

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const plain = (line: string): string => line.replace(ANSI, '');

describe('pretty logs for a terminal', () => {
  it.each([
    [6, 'debug'],
    [8, 'debug'],
    [12, 'info'],
    [16, 'warn'],
    [20, 'error'],
    [24, 'error'],
  ])('Powertools level %d reads as %s', (threshold, level) => {
    expect(prettyLevelOf(threshold)).toBe(level);
  });

  it('prints level, source, message and the fields on one line', () => {
    expect(
      plain(
        prettyLine('warn', 'Applying Deployment default/web to east', { cluster: 'east', attempt: 2 }, 'sync-apply'),
      ),
    ).toBe('warn  sync-apply     Applying Deployment default/web to east cluster=east attempt=2');
  });

  it('makes Powertools loggers (and their children) pretty when TMC_LOG_FORMAT=pretty, JSON otherwise', () => {
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const before = process.env.TMC_LOG_FORMAT;
    const level = process.env.POWERTOOLS_LOG_LEVEL; // SILENT in tests (test/setup-env.cjs)
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    try {
      process.env.TMC_LOG_FORMAT = 'pretty';
      createLogger('placement')
        .createChild({ persistentKeys: { workspace: 'root:default' } })
        .info('Placing Deployment default/web on east', { cluster: 'east' });
      delete process.env.TMC_LOG_FORMAT;
      createLogger('placement').info('Placing Deployment default/web on east');
    } finally {
      spy.mockRestore();
      process.env.POWERTOOLS_LOG_LEVEL = level;
      if (before === undefined) delete process.env.TMC_LOG_FORMAT;
      else process.env.TMC_LOG_FORMAT = before;
    }
    const pretty = lines.find((l) => l.includes('Placing') && !l.startsWith('{'));
    expect(plain(pretty ?? '')).toBe(
      'info  placement      Placing Deployment default/web on east workspace=root:default cluster=east\n',
    );
    expect(
      lines.some((l) => l.startsWith('{') && l.includes('"message":"Placing Deployment default/web on east"')),
    ).toBe(true);
  });
});
