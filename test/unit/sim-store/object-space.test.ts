import type { KubeObject } from '../../../lib/kube/object';
import type { AdmissionDispatcher } from '../../../lib/sim/contracts';
import type { HistoryEntry } from '../../../lib/sim/object-space';
import { ObjectSpace, type ObjectSpaceOptions, type RevisionClock } from '../../../lib/sim/object-space';
import * as build from '../../support/builders';
import { waitFor } from '../../support/wait';

const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };
const SERVICES = { group: '', version: 'v1', resource: 'services' };
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const EVENTS = { group: '', version: 'v1', resource: 'events' };
const allowAll: AdmissionDispatcher = { admit: async () => ({ allowed: true }) };

function newSpace(options: ObjectSpaceOptions = {}): ObjectSpace {
  let rv = 0;
  const clock: RevisionClock = { next: () => ++rv, current: () => rv };
  return new ObjectSpace('east', clock, allowAll, false, options);
}

function service(name: string, clusterIP?: string): KubeObject {
  return build.service(name, { clusterIP });
}

const ipOf = (o: KubeObject): string => (o.spec as { clusterIP: string }).clusterIP;

describe('object space', () => {
  it('keeps watch events for a window of time, as etcd does, and answers older resumes with 410 Gone', () => {
    let rv = 0;
    let now = Date.parse('2026-05-01T00:00:00Z');
    const clock: RevisionClock = { next: () => ++rv, current: () => rv };
    const space = new ObjectSpace('east', clock, allowAll, false, { now: () => now });
    const first = space.create(CONFIGMAPS, build.configMap('cm-0'));
    for (let i = 1; i < 100; i++) space.create(CONFIGMAPS, build.configMap(`cm-${i}`));
    const held = space.historySize;
    expect(held).toBeGreaterThanOrEqual(100);
    expect(space.eventsSince(Number(first.metadata.resourceVersion))).toHaveLength(99);

    now += 6 * 60_000;
    const latest = space.create(CONFIGMAPS, build.configMap('cm-late'));
    expect(space.historySize).toBe(1);
    expect(space.eventsSince(Number(first.metadata.resourceVersion))).toBeUndefined();
    expect(space.eventsSince(Number(latest.metadata.resourceVersion) - 1)).toHaveLength(1);
  });

  it('continues cluster-IP allocation past the IPs restored Services hold', () => {
    const before = newSpace();
    const held = ['a', 'b', 'c'].map((name) => ipOf(before.create(SERVICES, service(name))));
    expect(new Set(held).size).toBe(3);

    // A restart: a new object space filled from the snapshot, as lib/local/simulator.ts does.
    const after = newSpace();
    for (const object of before.snapshot()) after.restore(object);
    const fresh = ipOf(after.create(SERVICES, service('d')));
    expect(held).not.toContain(fresh);
  });

  it('resumes emptying a namespace that was terminating when the snapshot was taken', async () => {
    const before = newSpace();
    const ns = before.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    before.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'team-a' } });
    before.requestDeletion(before.info(NAMESPACES), ns);
    const snapshot = before.snapshot();
    before.stop(); // the process dies before its namespace controller empties team-a

    const after = newSpace();
    for (const object of snapshot) after.restore(object);
    expect(after.get(NAMESPACES, undefined, 'team-a')?.metadata.deletionTimestamp).toBeDefined();
    await waitFor(
      'team-a emptied and gone after the restore',
      async () => !after.get(CONFIGMAPS, 'team-a', 'cm') && !after.get(NAMESPACES, undefined, 'team-a'),
      { timeoutMs: 10_000 },
    );
    after.stop();
  });

  it('comes back to a terminating namespace until it is empty, removing content stored after its pass', async () => {
    const space = newSpace();
    const ns = space.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    space.create(CONFIGMAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'held', namespace: 'team-a', finalizers: ['example.com/hold'] },
    });
    space.requestDeletion(space.info(NAMESPACES), ns);
    await waitFor('held marked', async () => !!space.get(CONFIGMAPS, 'team-a', 'held')?.metadata.deletionTimestamp);
    // A write admitted before the namespace was marked and stored after the controller's pass.
    space.insert(space.info(CONFIGMAPS), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'straggler', namespace: 'team-a' },
    });
    const held = space.get(CONFIGMAPS, 'team-a', 'held')!;
    space.replace(space.info(CONFIGMAPS), held, { ...held, metadata: { ...held.metadata, finalizers: [] } });
    await waitFor(
      'team-a emptied of its late content and gone',
      async () => !space.get(CONFIGMAPS, 'team-a', 'straggler') && !space.get(NAMESPACES, undefined, 'team-a'),
      { timeoutMs: 10_000 },
    );
    space.stop();
  });

  it('never hands out an IP a Service asked for by itself', () => {
    const space = newSpace();
    const first = ipOf(space.create(SERVICES, service('probe')));
    const [a, b, c, d] = first.split('.').map(Number);
    const nextTwo = [`${a}.${b}.${c}.${d + 1}`, `${a}.${b}.${c}.${d + 2}`];
    space.create(SERVICES, service('pinned-1', nextTwo[0]));
    space.create(SERVICES, service('pinned-2', nextTwo[1]));
    expect(nextTwo).not.toContain(ipOf(space.create(SERVICES, service('auto'))));
  });

  it('lists one namespace from its index through creates, replaces, deletes and a restore', () => {
    const space = newSpace();
    for (const ns of ['team-a', 'team-b'])
      space.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (let i = 0; i < 6; i++) {
      space.create(CONFIGMAPS, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `cm-${i}`, namespace: i % 2 ? 'team-a' : 'team-b' },
      });
    }
    const names = (ns?: string): string[] =>
      space
        .list(CONFIGMAPS, ns)
        .map((o) => `${o.metadata.namespace}/${o.metadata.name}`)
        .sort();
    expect(names('team-a')).toEqual(['team-a/cm-1', 'team-a/cm-3', 'team-a/cm-5']);
    expect(names()).toHaveLength(6);

    space.delete(CONFIGMAPS, 'team-a', 'cm-3');
    expect(names('team-a')).toEqual(['team-a/cm-1', 'team-a/cm-5']);
    expect(names('nowhere')).toEqual([]);

    // A replaced object is listed in its new version, once.
    const cm1 = space.get(CONFIGMAPS, 'team-a', 'cm-1')!;
    const info = space.info(CONFIGMAPS);
    space.replace(info, cm1, { ...cm1, data: { k: 'v' } });
    expect(space.list(CONFIGMAPS, 'team-a').find((o) => o.metadata.name === 'cm-1')?.data).toEqual({ k: 'v' });
    expect(names('team-a')).toHaveLength(2);

    const restored = newSpace();
    for (const object of space.snapshot()) restored.restore(object);
    expect(
      restored
        .list(CONFIGMAPS, 'team-b')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['cm-0', 'cm-2', 'cm-4']);
  });
});

describe('object space: Events expire as kube-apiserver expires them (--event-ttl)', () => {
  const T0 = Date.parse('2026-05-01T00:00:00Z');
  const MINUTE = 60_000;
  // jest's fake timers drive both the object space's clock (Date.now) and its expiry timer.
  beforeEach(() => jest.useFakeTimers({ now: T0 }));
  afterEach(() => jest.useRealTimers());

  it('deletes an Event an hour after its last write, by its own timer, with a DELETED watch event', () => {
    const space = newSpace();
    const seen: HistoryEntry[] = [];
    space.subscribe((e) => seen.push(e as HistoryEntry));
    space.create(EVENTS, build.event('web.a'));
    space.create(CONFIGMAPS, build.configMap('cm'));
    jest.advanceTimersByTime(30 * MINUTE);
    // A write renews the Event's TTL (its lease), as a repeat's count patch does in kube.
    const a = space.get(EVENTS, 'default', 'web.a')!;
    space.replace(space.info(EVENTS), a, { ...a, count: 2 });
    jest.advanceTimersByTime(15 * MINUTE);
    space.create(EVENTS, build.event('web.b'));
    expect(space.eventCount).toBe(2);

    jest.advanceTimersByTime(45 * MINUTE - 1); // 89:59.999 after T0: web.a's renewed hour is not over
    expect(space.get(EVENTS, 'default', 'web.a')).toBeDefined();
    jest.advanceTimersByTime(1);
    expect(space.get(EVENTS, 'default', 'web.a')).toBeUndefined();
    expect(space.get(EVENTS, 'default', 'web.b')).toBeDefined();
    const deleted = seen.filter((e) => e.type === 'DELETED');
    expect(deleted.map((e) => e.object.metadata.name)).toEqual(['web.a']);
    expect(deleted[0].gvr).toEqual(EVENTS);
    // The DELETED event carries a new resourceVersion and is in the history a resuming watch replays.
    expect(Number(deleted[0].object.metadata.resourceVersion)).toBeGreaterThan(Number(a.metadata.resourceVersion));
    expect(space.eventsSince(deleted[0].rv - 1)?.[0]).toMatchObject({ type: 'DELETED' });

    jest.advanceTimersByTime(15 * MINUTE);
    expect(space.eventCount).toBe(0);
    expect(space.list(EVENTS)).toEqual([]);
    // Only Events expire.
    expect(space.get(CONFIGMAPS, 'default', 'cm')).toBeDefined();
    expect(seen.filter((e) => e.type === 'DELETED')).toHaveLength(2);
    // With no Event left, no timer waits.
    expect(jest.getTimerCount()).toBe(0);
  });

  it('holds at most the Events of one TTL under a steady stream: 600 written, never more than 60 kept', () => {
    const space = newSpace({ eventTtlMs: MINUTE });
    let most = 0;
    for (let i = 0; i < 600; i++) {
      space.create(EVENTS, build.event(`web.${i}`, { namespace: ['default', 'kube-system', 'kube-public'][i % 3] }));
      most = Math.max(most, space.eventCount, space.list(EVENTS).length);
      jest.advanceTimersByTime(1000);
    }
    // At second i the Events of seconds i-59..i are kept: each goes when its minute is over.
    expect(most).toBe(60);
    jest.advanceTimersByTime(MINUTE);
    expect(space.eventCount).toBe(0);
    expect(space.list(EVENTS)).toHaveLength(0);
  });

  it('expires a restored Event from its last timestamp, and leaves out one that expired while stopped', () => {
    const before = newSpace();
    before.create(EVENTS, build.event('old', { lastTimestamp: new Date(T0).toISOString() }));
    jest.advanceTimersByTime(50 * MINUTE);
    before.create(EVENTS, build.event('recent', { lastTimestamp: new Date(T0 + 50 * MINUTE).toISOString() }));
    const snapshot = before.snapshot();
    before.stop();

    jest.advanceTimersByTime(20 * MINUTE); // the restart: 70 minutes after T0
    const after = newSpace();
    for (const object of snapshot) after.restore(object);
    expect(after.list(EVENTS).map((e) => e.metadata.name)).toEqual(['recent']);
    jest.advanceTimersByTime(40 * MINUTE - 1);
    expect(after.eventCount).toBe(1);
    jest.advanceTimersByTime(1);
    expect(after.eventCount).toBe(0);
  });

  it('waits for a TTL longer than a timer can (25 days) without firing at once', () => {
    const DAY = 24 * 60 * MINUTE;
    const space = newSpace({ eventTtlMs: 30 * DAY });
    space.create(EVENTS, build.event('web.a'));
    jest.advanceTimersByTime(29 * DAY);
    expect(space.eventCount).toBe(1);
    jest.advanceTimersByTime(DAY);
    expect(space.eventCount).toBe(0);
  });

  it('stops expiring when the server stops', () => {
    const space = newSpace({ eventTtlMs: MINUTE });
    space.create(EVENTS, build.event('web.a'));
    space.stop();
    jest.advanceTimersByTime(2 * MINUTE);
    expect(space.get(EVENTS, 'default', 'web.a')).toBeDefined();
    expect(jest.getTimerCount()).toBe(0);
  });
});
