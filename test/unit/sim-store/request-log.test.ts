import { RequestLog, type RequestRecord } from '../../../lib/sim/request-log';

const request = (name: string): RequestRecord => ({
  verb: 'get',
  group: 'apps',
  resource: 'deployments',
  namespace: 'default',
  name,
  logicalCluster: 'root',
  code: 200,
  userAgent: 'test',
  user: 'tmc',
  at: 0,
});

describe('request log', () => {
  it('keeps at most its limit of records, the newest', () => {
    const log = new RequestLog(10);
    for (let i = 0; i < 25; i++) log.add(request(`web-${i}`));
    expect(log.size).toBeLessThanOrEqual(10);
    expect(log.count({ name: 'web-24' })).toBe(1);
    expect(log.count({ name: 'web-0' })).toBe(0);
  });

  it('keeps the newest of a smaller limit from then on (a long-running phase after the counted ones)', () => {
    const log = new RequestLog();
    for (let i = 0; i < 1000; i++) log.add(request(`web-${i}`));
    log.keepNewest(100);
    expect(log.size).toBe(100);
    expect(log.count({ name: 'web-900' })).toBe(1);
    expect(log.count({ name: 'web-899' })).toBe(0);
    for (let i = 1000; i < 5000; i++) log.add(request(`web-${i}`));
    expect(log.size).toBeLessThanOrEqual(100);
    expect(log.count({ name: 'web-4999' })).toBe(1);
  });
});
