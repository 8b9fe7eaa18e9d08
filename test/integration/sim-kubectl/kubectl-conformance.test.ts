import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startSimUnderTest, type SimUnderTest } from './sim-harness';
import { waitFor } from '../../support/wait';

const ALL_KINDS = join(__dirname, 'fixtures', 'all-kinds.yaml');

const DEPLOYMENT = (image: string, extra = ''): string => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: default }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
      - name: web
        image: ${image}
${extra}`;

function lines(stdout: string): string[] {
  return stdout.trim().split('\n').filter(Boolean);
}

// What a Kubernetes user tries first, through the real kubectl v1.32 against one simulated cluster.
describe('simulator: kubectl conformance', () => {
  let sim: SimUnderTest;

  beforeAll(async () => {
    sim = await startSimUnderTest();
  });
  afterAll(() => sim?.stop());

  it('applies every listed kind with plain `kubectl apply -f`, lists them, and deletes them', async () => {
    const created = lines(await sim.ok(['apply', '-f', ALL_KINDS]));
    expect(created).toHaveLength(20);
    for (const line of created) expect(line).toMatch(/ created$/);
    const again = lines(await sim.ok(['apply', '-f', ALL_KINDS]));
    expect(again.filter((l) => l.endsWith(' unchanged')).length).toBeGreaterThanOrEqual(17);
    const names = lines(
      await sim.ok([
        'get',
        'cm,secret,sa,svc,pod,ev,pvc,deploy,rs,sts,ds,job,cj,ing,netpol,role,rolebinding,hpa,pdb',
        '-n',
        'conformance',
        '-o',
        'name',
      ]),
    );
    expect(names).toEqual(
      expect.arrayContaining([
        'configmap/settings',
        'deployment.apps/shop',
        'poddisruptionbudget.policy/shop',
        'horizontalpodautoscaler.autoscaling/shop',
        'cronjob.batch/nightly',
      ]),
    );
    // Server-side behaviour clients rely on: stringData folded into data, a cluster IP, Deployment defaults.
    expect(
      Buffer.from(
        await sim.ok(['get', 'secret', 'token', '-n', 'conformance', '-o', 'jsonpath={.data.password}']),
        'base64',
      ).toString(),
    ).toBe('hunter2');
    expect(await sim.ok(['get', 'svc', 'shop', '-n', 'conformance', '-o', 'jsonpath={.spec.clusterIP}'])).toMatch(
      /^10\.9\d\.\d+\.\d+$/,
    );
    expect(await sim.ok(['get', 'deploy', 'shop', '-n', 'conformance', '-o', 'jsonpath={.spec.strategy.type}'])).toBe(
      'RollingUpdate',
    );
    expect(await sim.ok(['get', 'all', '-n', 'conformance', '-o', 'name'])).toContain('deployment.apps/shop');
    const deleted = lines(await sim.ok(['delete', '-f', ALL_KINDS]));
    expect(deleted).toHaveLength(20);
    await waitFor('namespace conformance to go', async () => (await sim.run(['get', 'ns', 'conformance'])).code !== 0);
  });

  it('rolls a Deployment out, scales it, and describes it; get -o wide shows containers and images', async () => {
    await sim.ok(['apply', '-f', '-'], DEPLOYMENT('nginx:1.25'));
    expect(await sim.ok(['rollout', 'status', 'deployment/web', '--timeout=30s'])).toContain('successfully rolled out');
    await sim.ok(['scale', 'deployment/web', '--replicas=4']);
    expect(await sim.ok(['rollout', 'status', 'deployment/web', '--timeout=30s'])).toContain('successfully rolled out');
    const [header, row] = lines(await sim.ok(['get', 'deploy', 'web', '-o', 'wide'])).map((l) => l.split(/\s{2,}/));
    expect(header).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    expect([row[1], row[5], row[6], row[7]]).toEqual(['4/4', 'web', 'nginx:1.25', 'app=web']);
    const described = await sim.ok(['describe', 'deployment', 'web']);
    expect(described).toMatch(/Replicas:\s+4 desired \| 4 updated \| 4 total \| 4 available \| 0 unavailable/);
    expect(described).toMatch(/StrategyType:\s+RollingUpdate/);
    expect(described).toMatch(/Available\s+True\s+MinimumReplicasAvailable/);
  });

  it('client-side apply merges the containers list by name (strategic merge patch)', async () => {
    // A second manager adds a sidecar; re-applying the file changes the image of `web` and keeps the sidecar.
    await sim.ok([
      'patch',
      'deployment',
      'web',
      '--type=strategic',
      '-p',
      JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'envoy:1.30' }] } } } }),
    ]);
    await sim.ok(['apply', '-f', '-'], DEPLOYMENT('nginx:1.26'));
    const containers = JSON.parse(
      await sim.ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers}']),
    ) as Array<{ name: string; image: string }>;
    expect(containers.map((c) => `${c.name}=${c.image}`).sort()).toEqual(['sidecar=envoy:1.30', 'web=nginx:1.26']);
    // Removing a container from the file removes it from the object (last-applied says kubectl set it).
    await sim.ok(['apply', '-f', '-'], DEPLOYMENT('nginx:1.26', '      - name: extra\n        image: busybox:1.36\n'));
    await sim.ok(['apply', '-f', '-'], DEPLOYMENT('nginx:1.26'));
    const after = JSON.parse(
      await sim.ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers}']),
    ) as Array<{ name: string }>;
    expect(after.map((c) => c.name).sort()).toEqual(['sidecar', 'web']);
  });

  it('server-side apply: a second manager conflicts on a field it does not own, and --force-conflicts takes it', async () => {
    const cm = (value: string): string =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: owned, namespace: default }\ndata: { key: ${value} }\n`;
    await sim.ok(['apply', '--server-side', '--field-manager=alice', '-f', '-'], cm('one'));
    const conflict = await sim.run(['apply', '--server-side', '--field-manager=bob', '-f', '-'], cm('two'));
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toMatch(/conflict with "alice"/);
    expect(conflict.stderr).toMatch(/\.data\.key/);
    await sim.ok(['apply', '--server-side', '--field-manager=bob', '--force-conflicts', '-f', '-'], cm('two'));
    const stored = JSON.parse(await sim.ok(['get', 'cm', 'owned', '-o', 'json', '--show-managed-fields']));
    expect(stored.data.key).toBe('two');
    const owners = (stored.metadata.managedFields as Array<{ manager: string; fieldsV1: Record<string, any> }>)
      .filter((m) => m.fieldsV1['f:data']?.['f:key'])
      .map((m) => m.manager);
    expect(owners).toEqual(['bob']);
  });

  it('selects by label and by metadata.name', async () => {
    for (const [name, tier] of [
      ['a', 'front'],
      ['b', 'back'],
      ['c', 'front'],
    ]) {
      await sim.ok(
        ['create', '-f', '-'],
        JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `sel-${name}`, labels: { tier } } }),
      );
    }
    expect(lines(await sim.ok(['get', 'cm', '-l', 'tier=front', '-o', 'name']))).toEqual([
      'configmap/sel-a',
      'configmap/sel-c',
    ]);
    expect(lines(await sim.ok(['get', 'cm', '-l', 'tier in (back),tier!=front', '-o', 'name']))).toEqual([
      'configmap/sel-b',
    ]);
    expect(lines(await sim.ok(['get', 'cm', '--field-selector', 'metadata.name=sel-b', '-o', 'name']))).toEqual([
      'configmap/sel-b',
    ]);
    const bad = await sim.run(['get', 'cm', '--field-selector', 'spec.nope=x']);
    expect(bad.stderr).toMatch(/field label not supported: spec.nope/);
  });

  it('streams changes to `kubectl get -w`', async () => {
    const child = spawn('kubectl', [
      '--kubeconfig',
      sim.kubeconfig,
      'get',
      'cm',
      '-w',
      '-o',
      'name',
      '-l',
      'watched=yes',
    ]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await sim.ok(['create', 'configmap', 'w1', '--dry-run=client', '-o', 'json']).then((json) => {
        const o = JSON.parse(json);
        o.metadata.labels = { watched: 'yes' };
        return sim.ok(['create', '-f', '-'], JSON.stringify(o));
      });
      await waitFor('the watch to print configmap/w1', async () => out.includes('configmap/w1'));
      await sim.ok(['label', 'cm', 'w1', 'extra=1']);
      await waitFor('the MODIFIED event', async () => out.split('configmap/w1').length > 2);
    } finally {
      child.kill();
    }
  });

  it('finalizers hold a delete: deletionTimestamp set, the object gone once the last finalizer is removed', async () => {
    await sim.ok(
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'held', finalizers: ['example.com/hold'] },
      }),
    );
    await sim.ok(['delete', 'cm', 'held', '--wait=false']);
    expect(await sim.ok(['get', 'cm', 'held', '-o', 'jsonpath={.metadata.deletionTimestamp}'])).toMatch(
      /^\d{4}-\d\d-\d\dT/,
    );
    await sim.ok(['patch', 'cm', 'held', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    const gone = await sim.run(['get', 'cm', 'held']);
    expect(gone.stderr).toMatch(/configmaps "held" not found/);
  });

  it('deleting a namespace removes everything in it', async () => {
    await sim.ok(
      ['create', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } }),
    );
    await sim.ok(
      ['apply', '-n', 'doomed', '-f', '-'],
      DEPLOYMENT('nginx:1.25').replace('namespace: default', 'namespace: doomed'),
    );
    await sim.ok(['delete', 'ns', 'doomed']);
    expect((await sim.run(['get', 'ns', 'doomed'])).stderr).toMatch(/not found/);
    expect(await sim.server.store().list({ group: 'apps', version: 'v1', resource: 'deployments' }, 'doomed')).toEqual(
      [],
    );
  });

  it('answers a stale resourceVersion with 409 Conflict and an invalid name with 422 Invalid', async () => {
    await sim.ok(
      ['create', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'versioned' }, data: { a: '1' } }),
    );
    const current = JSON.parse(await sim.ok(['get', 'cm', 'versioned', '-o', 'json']));
    await sim.ok(['patch', 'cm', 'versioned', '--type=merge', '-p', '{"data":{"a":"2"}}']);
    const stale = await sim.run(['replace', '-f', '-'], JSON.stringify({ ...current, data: { a: '3' } }));
    expect(stale.stderr).toMatch(
      /Operation cannot be fulfilled on configmaps "versioned": the object has been modified/,
    );
    const invalid = await sim.run(
      ['create', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_Valid' } }),
    );
    expect(invalid.stderr).toMatch(/The ConfigMap "Not_Valid" is invalid: metadata.name: Invalid value: "Not_Valid"/);
    const response = await fetch(`${sim.server.url}/api/v1/namespaces/default/configmaps`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer x' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_Valid' } }),
    });
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Invalid',
      code: 422,
      details: { name: 'Not_Valid', kind: 'ConfigMap', causes: [{ field: 'metadata.name' }] },
    });
  });
});
