import { join } from 'node:path';
import { BUILTIN_RESOURCES } from '../../../lib/kube-api/resource-catalog';
import { configMap, deployment, gadgetCrd, widgetCrd } from '../../support/builders';
import { startSimUnderTest, type SimUnderTest } from './sim-harness';

const CRDS = join(__dirname, '../../../config/tmc');

/**
 * Issue 17's simulator fidelity, with the real kubectl: `kubectl explain` over the published Kubernetes 1.32 schemas
 * and tmc's CRDs, unknown fields answered as kube-apiserver 1.32 answers them (Warn by default, Strict, Ignore, and
 * server-side apply's typed-patch error), `kubectl apply --prune -l` with kubectl's default allowlist, every standard
 * kind of `kubectl api-resources`, and a CRD with its custom resources in one apply.
 */
describe('simulator: kubectl explain, field validation, prune and the standard kinds', () => {
  let sim: SimUnderTest;
  beforeAll(async () => {
    sim = await startSimUnderTest();
    await sim.ok(['apply', '-f', CRDS]);
  });
  afterAll(() => sim?.stop());

  const misspelt = (name: string): Record<string, unknown> => {
    const d = deployment(name, { namespace: 'default', container: 'web' }) as Record<string, any>;
    d.spec.template.spec.containers[0].imagePullPolicyy = 'Always';
    return d;
  };
  const UNKNOWN = 'unknown field "spec.template.spec.containers[0].imagePullPolicyy"';

  describe('kubectl explain', () => {
    it.each([
      ['deployment.spec.replicas', 'Number of desired pods'],
      ['pods.spec.containers.imagePullPolicy', 'Image pull policy. One of Always, Never, IfNotPresent'],
      ['storageclass.provisioner', 'provisioner indicates the type of the provisioner'],
      [
        'flowschema.spec.priorityLevelConfiguration',
        '`priorityLevelConfiguration` should reference a PriorityLevelConfiguration',
      ],
      ['synctarget.spec.evictAfter', 'How long the cluster may be unhealthy before its work fails over'],
      ['placement.spec.replicas.mode', 'Duplicated: every cluster runs all replicas'],
      ['placement.metadata.labels', 'Map of string keys and values'],
    ])('explains %s', async (field, text) => {
      const out = await sim.ok(['explain', field]);
      expect(out.replace(/\s+/g, ' ')).toContain(text);
    });

    it.each([
      [
        'deployment.spec.strategy.type',
        ['Recreate', 'RollingUpdate'],
        'Kill all existing pods before creating new ones.',
      ],
      [
        'pods.spec.containers.imagePullPolicy',
        ['Always', 'IfNotPresent', 'Never'],
        'means that kubelet always attempts',
      ],
      [
        'service.spec.type',
        ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'],
        'will only be accessible inside',
      ],
      ['placement.spec.replicas.mode', ['Duplicated', 'Divided'], 'Duplicated: every cluster runs all replicas'],
    ])('prints ENUM for %s as a 1.32 cluster does', async (field, values, text) => {
      const out = await sim.ok(['explain', field]);
      expect(out).toContain(`ENUM:\n${values.map((v) => `    ${v}\n`).join('')}\nDESCRIPTION:`);
      expect(out.replace(/\s+/g, ' ')).toContain(text);
    });

    it('lists enum values beside a field, as kubectl explain does for a kind', async () => {
      expect(await sim.ok(['explain', 'deployment.spec.strategy'])).toMatch(
        /^ {2}type\t<string>\n {2}enum: Recreate, RollingUpdate\n/m,
      );
    });

    it('lists the fields of a kind', async () => {
      const out = await sim.ok(['explain', 'deployment.spec']);
      for (const field of ['minReadySeconds', 'replicas', 'selector', 'strategy', 'template'])
        expect(out).toMatch(new RegExp(`^\\s+${field}\\s+<`, 'm'));
      expect(await sim.ok(['explain', 'synctarget.spec'])).toMatch(/^\s+workloadCluster\s+<Object> -required-/m);
    });
  });

  describe('unknown fields', () => {
    it('kubectl apply (kubectl defaults to --validate=strict): a 400 naming the field, nothing stored', async () => {
      const r = await sim.run(['apply', '-f', '-'], JSON.stringify(misspelt('strict')));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        `Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: ${UNKNOWN}`,
      );
      expect((await sim.run(['get', 'deployment', 'strict'])).code).not.toBe(0);
    });

    it('--validate=warn: created with a warning, the field dropped; an update warns again', async () => {
      const first = await sim.run(['apply', '--validate=warn', '-f', '-'], JSON.stringify(misspelt('warned')));
      expect(first.code).toBe(0);
      expect(first.stderr).toContain(`Warning: ${UNKNOWN}`);
      const stored = JSON.parse(await sim.ok(['get', 'deployment', 'warned', '-o', 'json']));
      expect(stored.spec.template.spec.containers[0]).not.toHaveProperty('imagePullPolicyy');
      expect(stored.spec.template.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
      const again = await sim.run(['apply', '--validate=warn', '-f', '-'], JSON.stringify(misspelt('warned')));
      expect(again.stderr).toContain(`Warning: ${UNKNOWN}`);
    });

    it('--validate=false (Ignore): no warning, the field dropped', async () => {
      const r = await sim.run(['apply', '--validate=false', '-f', '-'], JSON.stringify(misspelt('ignored')));
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain('unknown field');
    });

    it('over HTTP without fieldValidation: Warn, the header kube-apiserver sends', async () => {
      const res = await fetch(`${sim.server.url}/apis/apps/v1/namespaces/default/deployments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(misspelt('http')),
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('warning')).toBe(`299 - ${JSON.stringify(UNKNOWN)}`);
    });

    it('a merge patch under Strict: 400 with the patched object’s unknown fields in key order', async () => {
      const res = await fetch(
        `${sim.server.url}/apis/apps/v1/namespaces/default/deployments/http?fieldValidation=Strict`,
        {
          method: 'PATCH',
          headers: { 'content-type': 'application/merge-patch+json' },
          body: JSON.stringify({ spec: { zeta: 1, alpha: 2 } }),
        },
      );
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toBe(
        'strict decoding error: unknown field "spec.alpha", unknown field "spec.zeta"',
      );
    });

    it('server-side apply: the typed-patch error, keyed by the list element', async () => {
      const r = await sim.run(['apply', '--server-side', '-f', '-'], JSON.stringify(misspelt('ssa')));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        'failed to create typed patch object (default/ssa; apps/v1, Kind=Deployment): .spec.template.spec.containers[name="web"].imagePullPolicyy: field not declared in schema',
      );
    });

    it('a custom resource is checked against its CRD schema', async () => {
      const r = await sim.run(
        ['apply', '-f', '-'],
        `apiVersion: workload.kcp.io/v1alpha1
kind: SyncTarget
metadata: { name: typo }
spec:
  workloadCluster: { name: typo, endpoint: "https://typo.example" }
  unschedulabel: true
`,
      );
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('strict decoding error: unknown field "spec.unschedulabel"');
    });

    describe("a custom resource's unknown fields are pruned by its CRD's structural schema", () => {
      const gadget = (name: string, spec: Record<string, unknown>): string =>
        JSON.stringify({
          apiVersion: 'example.com/v1',
          kind: 'Gadget',
          metadata: { name, namespace: 'default' },
          spec,
        });
      const stored = async (name: string): Promise<Record<string, unknown>> =>
        (JSON.parse(await sim.ok(['get', 'gadget', name, '-o', 'json'])) as { spec: Record<string, unknown> }).spec;
      beforeAll(async () => {
        await sim.ok(['apply', '-f', '-'], JSON.stringify(gadgetCrd()));
        await sim.ok(['wait', '--for=condition=Established', 'crd/gadgets.example.com']);
      });

      it('--validate=warn: a warning, the field dropped, preserve-unknown-fields kept', async () => {
        const r = await sim.run(
          ['apply', '--validate=warn', '-f', '-'],
          gadget('warned', { size: 1, sise: 2, extra: { anything: { goes: true } } }),
        );
        expect(r.code).toBe(0);
        expect(r.stderr).toContain('Warning: unknown field "spec.sise"');
        expect(await stored('warned')).toEqual({ size: 1, extra: { anything: { goes: true } } });
      });

      it('--validate=false: dropped without a warning; a merge patch is pruned too', async () => {
        const r = await sim.run(
          ['apply', '--validate=false', '-f', '-'],
          gadget('ignored', { size: 1, colour: 'red' }),
        );
        expect(r.code).toBe(0);
        expect(r.stderr).not.toContain('unknown field');
        expect(await stored('ignored')).toEqual({ size: 1 });
        const patched = await sim.run([
          'patch',
          'gadget',
          'ignored',
          '--type',
          'merge',
          '-p',
          JSON.stringify({ spec: { shape: 'round', size: 3 } }),
        ]);
        expect(patched.stderr).toContain('Warning: unknown field "spec.shape"');
        expect(await stored('ignored')).toEqual({ size: 3 });
      });

      it("Strict (kubectl's default): a 400, nothing stored", async () => {
        const r = await sim.run(['apply', '-f', '-'], gadget('strict', { size: 1, sise: 2 }));
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain(
          'Gadget in version "v1" cannot be handled as a Gadget: strict decoding error: unknown field "spec.sise"',
        );
        expect((await sim.run(['get', 'gadget', 'strict'])).code).not.toBe(0);
      });
    });
  });

  it('kubectl apply --prune -l prunes without --prune-allowlist, listing the default allowlist', async () => {
    const cm = (name: string): string => JSON.stringify(configMap(name, { labels: { app: 'pruned' } }));
    await sim.ok(['apply', '-f', '-'], `${cm('keep')}\n${cm('drop')}`);
    sim.server.requests.reset();
    const out = await sim.ok(['apply', '--prune', '-l', 'app=pruned', '-f', '-'], cm('keep'));
    expect(out).toContain('configmap/drop pruned');
    expect((await sim.run(['get', 'configmap', 'drop'])).code).not.toBe(0);
    await sim.ok(['get', 'configmap', 'keep']);
    // kubectl's default allowlist: every kind of it is listed once, with the selector.
    for (const [group, resource] of [
      ['', 'persistentvolumes'],
      ['', 'replicationcontrollers'],
      ['batch', 'cronjobs'],
      ['apps', 'statefulsets'],
      ['networking.k8s.io', 'ingresses'],
    ]) {
      expect(sim.server.requests.count({ verb: 'list', group, resource })).toBe(1);
    }
  });

  it('serves every standard kind of kubectl api-resources on kube 1.32', async () => {
    const served = (await sim.ok(['api-resources', '-o', 'name'])).split('\n');
    // kube-apiserver 1.32's list.
    const expected = [
      'bindings',
      'componentstatuses',
      'configmaps',
      'endpoints',
      'events',
      'limitranges',
      'namespaces',
      'nodes',
      'persistentvolumeclaims',
      'persistentvolumes',
      'pods',
      'podtemplates',
      'replicationcontrollers',
      'resourcequotas',
      'secrets',
      'serviceaccounts',
      'services',
      'mutatingwebhookconfigurations.admissionregistration.k8s.io',
      'validatingadmissionpolicies.admissionregistration.k8s.io',
      'validatingadmissionpolicybindings.admissionregistration.k8s.io',
      'validatingwebhookconfigurations.admissionregistration.k8s.io',
      'customresourcedefinitions.apiextensions.k8s.io',
      'apiservices.apiregistration.k8s.io',
      'controllerrevisions.apps',
      'daemonsets.apps',
      'deployments.apps',
      'replicasets.apps',
      'statefulsets.apps',
      'selfsubjectreviews.authentication.k8s.io',
      'tokenreviews.authentication.k8s.io',
      'localsubjectaccessreviews.authorization.k8s.io',
      'selfsubjectaccessreviews.authorization.k8s.io',
      'selfsubjectrulesreviews.authorization.k8s.io',
      'subjectaccessreviews.authorization.k8s.io',
      'horizontalpodautoscalers.autoscaling',
      'cronjobs.batch',
      'jobs.batch',
      'certificatesigningrequests.certificates.k8s.io',
      'leases.coordination.k8s.io',
      'endpointslices.discovery.k8s.io',
      'events.events.k8s.io',
      'flowschemas.flowcontrol.apiserver.k8s.io',
      'prioritylevelconfigurations.flowcontrol.apiserver.k8s.io',
      'ingressclasses.networking.k8s.io',
      'ingresses.networking.k8s.io',
      'networkpolicies.networking.k8s.io',
      'runtimeclasses.node.k8s.io',
      'poddisruptionbudgets.policy',
      'clusterrolebindings.rbac.authorization.k8s.io',
      'clusterroles.rbac.authorization.k8s.io',
      'rolebindings.rbac.authorization.k8s.io',
      'roles.rbac.authorization.k8s.io',
      'priorityclasses.scheduling.k8s.io',
      'csidrivers.storage.k8s.io',
      'csinodes.storage.k8s.io',
      'csistoragecapacities.storage.k8s.io',
      'storageclasses.storage.k8s.io',
      'volumeattachments.storage.k8s.io',
    ];
    expect(served.filter((n) => n && !n.endsWith('kcp.io') && !n.endsWith('example.com')).sort()).toEqual(
      expected.sort(),
    );
    expect(BUILTIN_RESOURCES).toHaveLength(expected.length);
  });

  it.each([
    ['storage.k8s.io/v1', 'StorageClass', 'sc', { provisioner: 'example.com/disk' }],
    [
      'storage.k8s.io/v1',
      'VolumeAttachment',
      'va',
      {
        spec: { attacher: 'example.com/disk', nodeName: 'n1', source: { persistentVolumeName: 'pv1' } },
      },
    ],
    ['storage.k8s.io/v1', 'CSINode', 'n1', { spec: { drivers: [] } }],
    ['flowcontrol.apiserver.k8s.io/v1', 'PriorityLevelConfiguration', 'plc', { spec: { type: 'Exempt', exempt: {} } }],
    [
      'apiregistration.k8s.io/v1',
      'APIService',
      'v1.example.com',
      {
        spec: { group: 'example.com', version: 'v1', groupPriorityMinimum: 100, versionPriority: 10 },
      },
    ],
  ])('stores a %s %s applied with kubectl, no warnings', async (apiVersion, kind, name, body) => {
    const r = await sim.run(['apply', '-f', '-'], JSON.stringify({ apiVersion, kind, metadata: { name }, ...body }));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(await sim.ok(['get', `${kind.toLowerCase()}.${apiVersion.split('/')[0]}`, name, '-o', 'name'])).toContain(
      name,
    );
  });

  it("prints kube's columns for VolumeAttachments and CSINodes", async () => {
    expect(await sim.ok(['get', 'volumeattachments'])).toMatch(
      /^NAME\s+ATTACHER\s+PV\s+NODE\s+ATTACHED\s+AGE\nva\s+example\.com\/disk\s+pv1\s+n1\s+false\s+/,
    );
    expect(await sim.ok(['get', 'csinodes'])).toMatch(/^NAME\s+DRIVERS\s+AGE\nn1\s+0\s+/);
  });

  it('kubectl auth whoami answers with the user (SelfSubjectReview)', async () => {
    expect(await sim.ok(['auth', 'whoami'])).toMatch(/Username\s+system:anonymous/);
  });

  it('a CRD and its custom resources in one apply fail the first time, as against kube-apiserver', async () => {
    const cr = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'default' } };
    const manifest = `${JSON.stringify(widgetCrd())}\n${JSON.stringify({ ...cr, spec: { size: 1 } })}`;
    const first = await sim.run(['apply', '-f', '-'], manifest);
    expect(first.code).not.toBe(0);
    expect(first.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/widgets.example.com created');
    expect(first.stderr).toContain('no matches for kind "Widget" in version "example.com/v1"');
    expect(first.stderr).toContain('ensure CRDs are installed first');
    expect(await sim.ok(['apply', '-f', '-'], manifest)).toContain('widget.example.com/w created');
    expect(await sim.ok(['explain', 'widget'])).toMatch(/KIND:\s+Widget/);
  });
});
