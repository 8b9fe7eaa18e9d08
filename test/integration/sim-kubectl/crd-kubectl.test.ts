import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectl } from '../../support/kubectl';
import { startSimUnderTest, type SimUnderTest } from './sim-harness';

const CRDS = join(__dirname, '..', '..', '..', 'config', 'tmc');

/** Splits kubectl's table output into cells (columns are separated by at least two spaces). */
function table(stdout: string): string[][] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));
}

const WIDGETS_CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: { kind: Widget, plural: widgets, singular: widget, shortNames: [wd], listKind: WidgetList }
  versions:
  - name: v1
    served: true
    storage: true
    subresources: { status: {} }
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`;

// CRDs through the real kubectl against a kcp workspace: tmc's own CRDs (config/tmc) and their printer columns.
describe('simulator: CRDs with kubectl', () => {
  let sim: SimUnderTest;

  beforeAll(async () => {
    sim = await startSimUnderTest({ mode: 'kcp' });
    await sim.ok(['apply', '-f', CRDS]);
  });
  afterAll(() => sim?.stop());

  it('prints a SyncTarget with exactly the CRD columns: READY from a filter, REGION from an escaped-dot label', async () => {
    await sim.ok(
      ['apply', '-f', '-'],
      `apiVersion: workload.kcp.io/v1alpha1
kind: SyncTarget
metadata:
  name: east
  labels: { topology.kubernetes.io/region: us-east-1 }
spec:
  workloadCluster: { name: east, endpoint: "https://east.example" }
`,
    );
    const heartbeat = new Date(Date.now() - 90_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await sim.ok([
      'patch',
      'synctarget',
      'east',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          lastSyncerHeartbeatTime: heartbeat,
          syncMode: 'Pull',
          conditions: [
            { type: 'HeartbeatHealthy', status: 'False' },
            { type: 'Ready', status: 'True' },
          ],
        },
      }),
    ]);
    const [header, row] = table(await sim.ok(['get', 'synctargets']));
    expect(header).toEqual(['NAME', 'READY', 'MODE', 'REGION', 'LAST HEARTBEAT', 'AGE']);
    expect(row.slice(0, 4)).toEqual(['east', 'True', 'Pull', 'us-east-1']);
    expect(row[4]).toMatch(/^(9\d|1\d\d)s$/);
    const [wideHeader] = table(await sim.ok(['get', 'synctargets', '-o', 'wide']));
    expect(wideHeader).toEqual(['NAME', 'READY', 'MODE', 'REGION', 'LAST HEARTBEAT', 'UNSCHEDULABLE', 'AGE']);
  });

  it('shows NAME and AGE only for a CRD that declares no columns, serves it namespaced, and keeps status out of main-resource writes', async () => {
    await sim.ok(['apply', '-f', '-'], WIDGETS_CRD);
    await sim.ok(
      ['apply', '-f', '-'],
      'apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: w1, namespace: default }\nspec: { size: 2 }\nstatus: { phase: Ignored }\n',
    );
    const [header, row] = table(await sim.ok(['get', 'wd', '-n', 'default']));
    expect(header).toEqual(['NAME', 'AGE']);
    expect(row[0]).toBe('w1');
    const stored = JSON.parse(await sim.ok(['get', 'widget', 'w1', '-o', 'json']));
    expect(stored.status).toBeUndefined();
    await sim.ok([
      'patch',
      'widget',
      'w1',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"phase":"Ready"}}',
    ]);
    expect(await sim.ok(['get', 'widget', 'w1', '-o', 'jsonpath={.status.phase}'])).toBe('Ready');
    // A spec change bumps generation; a status change does not.
    expect(await sim.ok(['get', 'widget', 'w1', '-o', 'jsonpath={.metadata.generation}'])).toBe('1');
    await sim.ok(['patch', 'widget', 'w1', '--type=merge', '-p', '{"spec":{"size":3}}']);
    expect(await sim.ok(['get', 'widget', 'w1', '-o', 'jsonpath={.metadata.generation}'])).toBe('2');
    const cross = await sim.run(['get', 'widgets', '-A', '-o', 'name']);
    expect(cross.stdout.trim()).toBe('widget.example.com/w1');
  });

  it('kubectl explain works in a kcp logical cluster, for built-in kinds and tmc CRDs', async () => {
    expect(await sim.ok(['explain', 'deployment.spec.paused'])).toContain('Indicates that the deployment is paused.');
    expect(await sim.ok(['explain', 'synctarget.spec.workloadCluster.endpoint'])).toContain('API server URL');
  });

  it('stops serving a resource when its CRD is deleted', async () => {
    await sim.ok(['delete', 'crd', 'widgets.example.com']);
    // kubectl's discovery cache still maps widgets (as against kube-apiserver): the list itself answers 404.
    const stale = await sim.run(['get', 'widgets']);
    expect(stale.stderr).toMatch(/NotFound/);
    // A fresh client reads aggregated discovery, which no longer has the type.
    const fresh = await kubectl(sim.kubeconfig, [
      '--cache-dir',
      mkdtempSync(join(tmpdir(), 'tmc-kubectl-cache-')),
      'get',
      'widgets',
    ]);
    expect(fresh.stderr).toMatch(/the server doesn't have a resource type "widgets"/);
  });
});
