import { makeKcpEventRecorder } from '../../../lib/sync/kcp-event-recorder';
import { SimConnector } from '../sync/sim-connector';
import * as build from '../../support/builders';
import { startSimUnderTest, type SimUnderTest } from './sim-harness';

/**
 * Issue 17: the Events tmc records on kcp objects are what `kubectl describe` shows, and the simulator serves them
 * as kube-apiserver does, as core/v1 and as events.k8s.io/v1 (one storage, two views), with kube's field selectors.
 */
describe('Events: kubectl describe, events.k8s.io/v1 beside core/v1', () => {
  let sim: SimUnderTest;
  let connector: SimConnector;
  const WS = 'root:default';

  beforeAll(async () => {
    sim = await startSimUnderTest({ mode: 'kcp' });
    connector = new SimConnector(sim.server, {});
    await sim.ok(['create', 'namespace', 'shop']);
    await sim.ok(['apply', '-f', '-'], JSON.stringify(build.deployment('web', { namespace: 'shop', replicas: 3 })));
    await sim.ok(['apply', '-f', '-'], JSON.stringify(build.deployment('other', { namespace: 'shop' })));
  });
  afterAll(async () => {
    connector?.close();
    await sim?.stop();
  });

  const uidOf = async (name: string): Promise<string> =>
    sim.ok(['get', 'deployment', name, '-n', 'shop', '-o', 'jsonpath={.metadata.uid}']);

  it("shows tmc's Events in kubectl describe, aggregated: one line per reason and message, with its count", async () => {
    const recorder = makeKcpEventRecorder(connector, { windowMs: 0 });
    const ref = {
      workspace: WS,
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
      kind: 'Deployment',
      namespace: 'shop',
      name: 'web',
      uid: await uidOf('web'),
    };
    await recorder.record(ref, { type: 'Normal', reason: 'Placed', message: 'Placed on east, west' });
    await recorder.record(ref, { type: 'Normal', reason: 'Applied', message: 'Applied to east' });
    await recorder.record(ref, { type: 'Normal', reason: 'Applied', message: 'Applied to east' });
    await recorder.record(ref, { type: 'Warning', reason: 'SyncConflict', message: 'west: already exists' });
    // Another object's Event is not this one's.
    await recorder.record(
      { ...ref, name: 'other', uid: await uidOf('other') },
      { type: 'Normal', reason: 'Placed', message: 'Placed on north' },
    );

    const described = await sim.ok(['describe', 'deployment', 'web', '-n', 'shop']);
    const events = described.slice(described.indexOf('Events:'));
    expect(events).toMatch(/Normal\s+Placed\s+.*tmc\s+Placed on east, west/);
    expect(events).toMatch(/Normal\s+Applied\s+.*\(x2 over .*\)\s+tmc\s+Applied to east/);
    expect(events).toMatch(/Warning\s+SyncConflict\s+.*tmc\s+west: already exists/);
    expect(events).not.toContain('Placed on north');
    expect(await sim.ok(['get', 'events', '-n', 'shop', '-o', 'name'])).toMatch(/^event\/web\./m);
  });

  it('lists the same Events as events.k8s.io/v1, converted, and selects them by regarding.*', async () => {
    const listed = JSON.parse(
      await sim.ok([
        'get',
        'events.events.k8s.io',
        '-n',
        'shop',
        '--field-selector',
        'regarding.name=web',
        '-o',
        'json',
      ]),
    ) as { items: Array<Record<string, any>> };
    expect(listed.items.map((e) => e.reason).sort()).toEqual(['Applied', 'Placed', 'SyncConflict']);
    const applied = listed.items.find((e) => e.reason === 'Applied');
    expect(applied).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      note: 'Applied to east',
      regarding: { kind: 'Deployment', name: 'web', namespace: 'shop' },
      reportingController: 'tmc',
      action: 'Applied',
      deprecatedCount: 2,
    });
    expect(applied?.message).toBeUndefined();
    const one = JSON.parse(
      await sim.ok(['get', 'events.events.k8s.io', applied?.metadata.name, '-n', 'shop', '-o', 'json']),
    ) as Record<string, any>;
    expect(one.note).toBe('Applied to east');
    // The table kubectl prints by default.
    expect(await sim.ok(['get', 'events.events.k8s.io', '-n', 'shop'])).toContain('Applied to east');
  });

  it('an Event created through events.k8s.io/v1 is a core/v1 Event too, and patches apply to its v1 shape', async () => {
    const event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'web.manual', namespace: 'shop' },
      eventTime: '2026-12-06T10:00:00.000000Z',
      reportingController: 'example.com/controller',
      reportingInstance: 'controller-1',
      action: 'Checked',
      reason: 'Checked',
      type: 'Normal',
      note: 'checked by hand',
      regarding: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' },
    };
    await sim.ok(['create', '-f', '-'], JSON.stringify(event));
    const core = JSON.parse(await sim.ok(['get', 'event', 'web.manual', '-n', 'shop', '-o', 'json'])) as Record<
      string,
      any
    >;
    expect(core).toMatchObject({
      apiVersion: 'v1',
      message: 'checked by hand',
      reportingComponent: 'example.com/controller',
      involvedObject: { name: 'web', kind: 'Deployment' },
    });
    await sim.ok([
      'patch',
      'events.events.k8s.io',
      'web.manual',
      '-n',
      'shop',
      '--type',
      'merge',
      '-p',
      JSON.stringify({ note: 'checked again', series: { count: 2, lastObservedTime: '2026-12-06T10:01:00.000000Z' } }),
    ]);
    expect(
      await sim.ok(['get', 'event', 'web.manual', '-n', 'shop', '-o', 'jsonpath={.message} {.series.count}']),
    ).toBe('checked again 2');
    await sim.ok(['delete', 'events.events.k8s.io', 'web.manual', '-n', 'shop']);
    expect((await sim.run(['get', 'event', 'web.manual', '-n', 'shop'])).code).not.toBe(0);
  });

  it('watches events.k8s.io/v1 Events in their v1 shape', async () => {
    const token = (await sim.ok(['config', 'view', '--raw', '-o', 'jsonpath={.users[0].user.token}'])).trim();
    const response = await fetch(
      `${sim.server.serverUrl(WS)}/apis/events.k8s.io/v1/namespaces/shop/events?watch=true&timeoutSeconds=1&fieldSelector=regarding.name%3Dother`,
      { headers: token ? { Authorization: `Bearer ${token}` } : {} },
    );
    expect(response.status).toBe(200);
    const lines = (await response.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    expect(lines.map((l) => [l.type, l.object.apiVersion, l.object.note])).toEqual([
      ['ADDED', 'events.k8s.io/v1', 'Placed on north'],
    ]);
  });

  it('refuses a field label Events do not have, as kube does', async () => {
    const r = await sim.run(['get', 'events', '-n', 'shop', '--field-selector', 'spec.nothing=x']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('field label not supported: spec.nothing');
  });
});
