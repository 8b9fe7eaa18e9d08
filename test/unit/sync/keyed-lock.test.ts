import { KeyedLock } from '../../../lib/sync/keyed-lock';

describe('KeyedLock', () => {
  it('serialises work on one key and runs other keys alongside', async () => {
    const lock = new KeyedLock();
    const events: string[] = [];
    const step = (name: string, ms: number) => async (): Promise<string> => {
      events.push(`${name}:start`);
      await new Promise((r) => setTimeout(r, ms));
      events.push(`${name}:end`);
      return name;
    };
    const results = await Promise.all([
      lock.run('a', step('a1', 20)),
      lock.run('a', step('a2', 1)),
      lock.run('b', step('b1', 1)),
    ]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(events.indexOf('a2:start')).toBeGreaterThan(events.indexOf('a1:end'));
    expect(events.indexOf('b1:end')).toBeLessThan(events.indexOf('a1:end'));
  });

  it('a failure does not block the next holder', async () => {
    const lock = new KeyedLock();
    await expect(lock.run('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(lock.run('a', async () => 'ok')).resolves.toBe('ok');
  });
});
