import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PlacementSchema, type Placement } from '../../../lib/api/crds';
import { downstreamNamespace } from '../../../lib/api/labels';
import { decide, type ClusterInfo } from '../../../lib/placement';
import type { KubeObject } from '../../../lib/ports/kube-client';
import { syncOne } from '../../../lib/sync/apply';
import { FakeConnector } from './fake-kube';
import { refOf, syncMessage, startSyncWorld, type SyncWorld } from './world';
import * as build from '../../support/builders';

const WS = 'root:team-a';
const NS = 'team-a';
const regional = (name: string, region: string): ClusterInfo => ({
  name,
  labels: { 'topology.kubernetes.io/region': region },
  taints: [],
  unschedulable: false,
  health: 'Healthy',
});
const clusters = [regional('east', 'us-east-1'), regional('west', 'us-west-2')];
const deployment = build.deployment('web', {
  namespace: NS,
  replicas: 3,
  metadata: { uid: 'uid-web', generation: 1, resourceVersion: '1' },
});
const configMap: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'web-config', namespace: NS, uid: 'uid-cm' },
  data: { MODE: 'prod' },
};

describe('Placement overrides scoped to kinds (engine decision → dynalite → sync-apply)', () => {
  let world: SyncWorld;
  let kube: FakeConnector;
  beforeEach(async () => {
    world = await startSyncWorld();
    kube = new FakeConnector();
    kube.kcpOf(WS).put('deployments', deployment);
    kube.kcpOf(WS).put('configmaps', configMap);
  });
  afterEach(async () => world.close());

  /** Decides with the real engine, stores the decision as placement does, and syncs the object to east. */
  async function placeAndSync(
    placement: Placement,
    object: KubeObject,
    group: string,
    resource: string,
  ): Promise<KubeObject | undefined> {
    const decision = decide({
      object,
      namespaceLabels: { team: 'web' },
      policies: [placement],
      locations: [],
      clusters,
    });
    expect(decision.placement).toBe(placement.metadata.name);
    const ref = refOf(WS, object, group, resource);
    await world.putDecision(ref, 1, decision.clusters, decision.placement);
    expect(await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 1, { object }), 1)).toEqual({
      result: 'applied',
    });
    return kube.clusterOf('east').find(resource, downstreamNamespace(WS, NS), object.metadata.name ?? '');
  }

  it("the example's east override reaches the Deployment only; the ConfigMap beside it syncs", async () => {
    const file = join(__dirname, '../../../examples/multi-cluster-deployment/placement-two-regions.yaml');
    const example = PlacementSchema.parse(parse(readFileSync(file, 'utf8')));

    const cm = await placeAndSync(example, configMap, '', 'configmaps');
    expect(cm?.data).toEqual({ MODE: 'prod' });
    expect(cm).not.toHaveProperty('spec');
    const dep = await placeAndSync(example, deployment, 'apps', 'deployments');
    expect((dep?.spec as { minReadySeconds?: number }).minReadySeconds).toBe(5);
    expect(world.logLines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('an unscoped patch a ConfigMap cannot take is skipped and reported once, naming the Placement', async () => {
    const unscoped = PlacementSchema.parse({
      apiVersion: 'scheduling.kcp.io/v1alpha1',
      kind: 'Placement',
      metadata: { name: 'legacy' },
      spec: {
        namespaceSelector: { matchLabels: { team: 'web' } },
        overrides: [{ clusters: ['east'], jsonPatch: [{ op: 'add', path: '/spec/minReadySeconds', value: 5 }] }],
      },
    });
    const cm = await placeAndSync(unscoped, configMap, '', 'configmaps');
    expect(cm?.data).toEqual({ MODE: 'prod' });
    const warnings = (): typeof world.logLines => world.logLines.filter((l) => l.level === 'warn');
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0].message).toMatch(
      /Placement legacy for east: its jsonPatch \(add \/spec\/minReadySeconds\) does not apply to ConfigMap team-a\/web-config.*scope the override with kinds/,
    );

    // A resync of the same object and decision writes nothing and says nothing more.
    const ref = refOf(WS, configMap, '', 'configmaps');
    expect(await syncOne(world.applyDeps(kube), syncMessage(ref, 'east', 1, { object: configMap }), 1)).toEqual({
      result: 'unchanged',
    });
    expect(warnings()).toHaveLength(1);
  });
});
