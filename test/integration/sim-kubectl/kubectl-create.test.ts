import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimUnderTest, type SimUnderTest } from './sim-harness';

type Json = Record<string, any>;

const PROTO_NS = 'via-proto';
const JSON_NS = 'via-json';
const PROTOBUF_REQUEST = 'Content-Type: application/vnd.kubernetes.protobuf';

interface Case {
  /** `kubectl create` arguments; `{name}` is replaced per path for cluster-scoped objects (they share one space). */
  args: string[];
  /** What `kubectl get` takes to find the object. */
  get: [string, string];
  clusterScoped?: boolean;
  /** What kubectl was asked for, checked on the object stored through the protobuf path. */
  expect: (stored: Json) => void;
}

let files: string;
const file = (name: string): string => join(files, name);

// Every `kubectl create` generator whose resource the simulator serves, in an order where references exist.
const CASES: Array<[string, Case]> = [
  [
    'namespace',
    {
      args: ['namespace', '{name}'],
      get: ['namespace', '{name}'],
      clusterScoped: true,
      expect: (o) => expect(o.status).toEqual({ phase: 'Active' }),
    },
  ],
  [
    'configmap from literals and a binary file',
    {
      args: [
        'configmap',
        'cfg',
        '--from-literal=greeting=hello',
        '--from-literal=mode=fast',
        `--from-file=blob=${'{files}'}/blob.bin`,
      ],
      get: ['configmap', 'cfg'],
      expect: (o) => {
        expect(o.data).toEqual({ greeting: 'hello', mode: 'fast' });
        expect(Buffer.from(o.binaryData.blob, 'base64')).toEqual(Buffer.from([0, 1, 0xfe, 0xff]));
      },
    },
  ],
  [
    'secret generic',
    {
      args: ['secret', 'generic', 'creds', '--from-literal=password=hunter2', '--type=example.com/basic'],
      get: ['secret', 'creds'],
      expect: (o) => {
        expect(o.type).toBe('example.com/basic');
        expect(Buffer.from(o.data.password, 'base64').toString()).toBe('hunter2');
      },
    },
  ],
  [
    'secret docker-registry',
    {
      args: [
        'secret',
        'docker-registry',
        'reg',
        '--docker-server=registry.example',
        '--docker-username=u',
        '--docker-password=p',
      ],
      get: ['secret', 'reg'],
      expect: (o) => {
        expect(o.type).toBe('kubernetes.io/dockerconfigjson');
        expect(
          JSON.parse(Buffer.from(o.data['.dockerconfigjson'], 'base64').toString()).auths['registry.example'].username,
        ).toBe('u');
      },
    },
  ],
  [
    'secret tls',
    {
      args: ['secret', 'tls', 'cert', `--cert=${'{files}'}/tls.crt`, `--key=${'{files}'}/tls.key`],
      get: ['secret', 'cert'],
      expect: (o) => {
        expect(o.type).toBe('kubernetes.io/tls');
        expect(Buffer.from(o.data['tls.crt'], 'base64').toString()).toBe(readFileSync(file('tls.crt'), 'utf8'));
      },
    },
  ],
  [
    'serviceaccount',
    {
      args: ['serviceaccount', 'robot'],
      get: ['serviceaccount', 'robot'],
      expect: (o) => expect(o.metadata.name).toBe('robot'),
    },
  ],
  [
    'service clusterip',
    {
      args: ['service', 'clusterip', 'web', '--tcp=80:8080'],
      get: ['service', 'web'],
      expect: (o) => {
        expect(o.spec.type).toBe('ClusterIP');
        expect(o.spec.selector).toEqual({ app: 'web' });
        expect(o.spec.ports).toEqual([{ name: '80-8080', port: 80, protocol: 'TCP', targetPort: 8080 }]);
        expect(o.spec.clusterIP).toMatch(/^10\./);
      },
    },
  ],
  [
    'service nodeport',
    {
      args: ['service', 'nodeport', 'np', '--tcp=80:http', '--node-port=30080'],
      get: ['service', 'np'],
      expect: (o) =>
        expect(o.spec.ports).toEqual([
          { name: '80-http', port: 80, protocol: 'TCP', targetPort: 'http', nodePort: 30080 },
        ]),
    },
  ],
  [
    'service loadbalancer',
    {
      args: ['service', 'loadbalancer', 'lb', '--tcp=443:8443'],
      get: ['service', 'lb'],
      expect: (o) => expect(o.spec.type).toBe('LoadBalancer'),
    },
  ],
  [
    'service externalname',
    {
      args: ['service', 'externalname', 'ext', '--external-name=db.example.com'],
      get: ['service', 'ext'],
      expect: (o) => expect(o.spec).toMatchObject({ type: 'ExternalName', externalName: 'db.example.com' }),
    },
  ],
  [
    'deployment',
    {
      args: ['deployment', 'web', '--image=nginx:1.25', '--replicas=2', '--port=8080'],
      get: ['deployment', 'web'],
      expect: (o) => {
        expect(o.metadata.labels).toEqual({ app: 'web' });
        expect(o.spec.replicas).toBe(2);
        expect(o.spec.selector).toEqual({ matchLabels: { app: 'web' } });
        expect(o.spec.template.metadata.labels).toEqual({ app: 'web' });
        expect(o.spec.template.spec.containers).toMatchObject([
          { name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 8080, protocol: 'TCP' }], resources: {} },
        ]);
      },
    },
  ],
  [
    'deployment with zero replicas and a command',
    {
      args: ['deployment', 'idle', '--image=busybox:1.36', '--replicas=0', '--', 'sleep', '3600'],
      get: ['deployment', 'idle'],
      expect: (o) => {
        expect(o.spec.replicas).toBe(0);
        expect(o.spec.template.spec.containers[0].command).toEqual(['sleep', '3600']);
      },
    },
  ],
  [
    'job',
    {
      args: ['job', 'once', '--image=busybox:1.36', '--', 'echo', 'hi'],
      get: ['job', 'once'],
      expect: (o) =>
        expect(o.spec.template.spec).toMatchObject({
          restartPolicy: 'Never',
          containers: [{ name: 'once', image: 'busybox:1.36', command: ['echo', 'hi'] }],
        }),
    },
  ],
  [
    'cronjob',
    {
      args: ['cronjob', 'nightly', '--image=busybox:1.36', '--schedule=*/5 * * * *', '--', 'date'],
      get: ['cronjob', 'nightly'],
      expect: (o) => {
        expect(o.spec.schedule).toBe('*/5 * * * *');
        expect(o.spec.jobTemplate.spec.template.spec).toMatchObject({
          restartPolicy: 'OnFailure',
          containers: [{ image: 'busybox:1.36', command: ['date'] }],
        });
      },
    },
  ],
  [
    'job from a cronjob',
    {
      args: ['job', 'manual', '--from=cronjob/nightly'],
      get: ['job', 'manual'],
      expect: (o) => {
        expect(o.metadata.annotations).toEqual({ 'cronjob.kubernetes.io/instantiate': 'manual' });
        expect(o.metadata.ownerReferences).toMatchObject([{ kind: 'CronJob', name: 'nightly', controller: true }]);
        expect(o.spec.template.spec.containers[0].command).toEqual(['date']);
      },
    },
  ],
  [
    'role',
    {
      args: ['role', 'reader', '--verb=get,list', '--resource=pods,configmaps', '--resource-name=a'],
      get: ['role', 'reader'],
      expect: (o) =>
        expect(o.rules).toEqual([
          { apiGroups: [''], resources: ['pods', 'configmaps'], resourceNames: ['a'], verbs: ['get', 'list'] },
        ]),
    },
  ],
  [
    'rolebinding',
    {
      args: ['rolebinding', 'readers', '--role=reader', '--user=alice', '--group=devs'],
      get: ['rolebinding', 'readers'],
      expect: (o) => {
        expect(o.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' });
        expect(o.subjects).toEqual([
          { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' },
          { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'devs' },
        ]);
      },
    },
  ],
  [
    'clusterrole',
    {
      args: ['clusterrole', '{name}', '--verb=get', '--non-resource-url=/healthz'],
      get: ['clusterrole', '{name}'],
      clusterScoped: true,
      expect: (o) => expect(o.rules).toEqual([{ nonResourceURLs: ['/healthz'], verbs: ['get'] }]),
    },
  ],
  [
    'clusterrole with an aggregation rule',
    {
      args: ['clusterrole', '{name}', '--aggregation-rule=rbac.example.com/aggregate=true'],
      get: ['clusterrole', '{name}'],
      clusterScoped: true,
      expect: (o) =>
        expect(o.aggregationRule).toEqual({
          clusterRoleSelectors: [{ matchLabels: { 'rbac.example.com/aggregate': 'true' } }],
        }),
    },
  ],
  [
    'clusterrolebinding',
    {
      args: ['clusterrolebinding', '{name}', '--clusterrole=view', `--serviceaccount=${PROTO_NS}:robot`],
      get: ['clusterrolebinding', '{name}'],
      clusterScoped: true,
      expect: (o) => expect(o.subjects).toEqual([{ kind: 'ServiceAccount', name: 'robot', namespace: PROTO_NS }]),
    },
  ],
  [
    'poddisruptionbudget with minAvailable',
    {
      args: ['poddisruptionbudget', 'pdb', '--selector=app=web', '--min-available=1'],
      get: ['poddisruptionbudget', 'pdb'],
      expect: (o) => expect(o.spec).toEqual({ minAvailable: 1, selector: { matchLabels: { app: 'web' } } }),
    },
  ],
  [
    'poddisruptionbudget with a percentage',
    {
      args: ['poddisruptionbudget', 'pdb-pct', '--selector=app=web', '--max-unavailable=50%'],
      get: ['poddisruptionbudget', 'pdb-pct'],
      expect: (o) => expect(o.spec.maxUnavailable).toBe('50%'),
    },
  ],
  [
    'ingress',
    {
      args: [
        'ingress',
        'front',
        '--class=nginx',
        '--rule=shop.example/api*=web:80,tls=shop-tls',
        '--default-backend=web:http',
      ],
      get: ['ingress', 'front'],
      expect: (o) =>
        expect(o.spec).toEqual({
          ingressClassName: 'nginx',
          defaultBackend: { service: { name: 'web', port: { name: 'http' } } },
          rules: [
            {
              host: 'shop.example',
              http: {
                paths: [
                  { path: '/api', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
                ],
              },
            },
          ],
          tls: [{ hosts: ['shop.example'], secretName: 'shop-tls' }],
        }),
    },
  ],
];

/** JSON null and an absent field decode to the same Go value (a nil slice: `rules: null` of an aggregated ClusterRole). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

/** Drops what differs between two stored objects whatever the request encoding: server-assigned fields and status. */
function comparable(obj: Json): Json {
  const text = JSON.stringify(withoutNulls(obj)).replaceAll(JSON_NS, PROTO_NS).replaceAll('"js-', '"pb-');
  const out = JSON.parse(text) as Json;
  // Status comes from the simulated controllers (a Deployment's availability), not from the request.
  delete out.status;
  for (const key of ['uid', 'resourceVersion', 'creationTimestamp']) delete out.metadata[key];
  for (const entry of out.metadata.managedFields ?? []) delete entry.time;
  if (out.spec) {
    delete out.spec.clusterIP;
    delete out.spec.clusterIPs;
  }
  // kubectl names a Job created from a CronJob after the uid of the CronJob it copied.
  for (const ref of out.metadata.ownerReferences ?? []) delete ref.uid;
  return out;
}

// The typed generators (`kubectl create namespace|configmap|secret|deployment…`) send protobuf; each is run once as
// is and once as `--dry-run=client -o json | kubectl create -f -` (JSON), and both stored objects must be the same.
describe('simulator: kubectl create generators (protobuf request bodies)', () => {
  let sim: SimUnderTest;

  beforeAll(async () => {
    files = mkdtempSync(join(tmpdir(), 'tmc-kubectl-create-'));
    writeFileSync(file('blob.bin'), Buffer.from([0, 1, 0xfe, 0xff]));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        file('tls.key'),
        '-out',
        file('tls.crt'),
        '-days',
        '1',
        '-subj',
        '/CN=shop.example',
      ],
      { stdio: 'ignore' },
    );
    sim = await startSimUnderTest();
    await sim.ok(['create', 'namespace', PROTO_NS]);
    await sim.ok(['create', 'namespace', JSON_NS]);
  });
  afterAll(async () => {
    await sim?.stop();
    if (files) rmSync(files, { recursive: true, force: true });
  });

  it.each(CASES)('%s', async (_label, c) => {
    const fill = (args: string[], prefix: string): string[] =>
      args.map((a) =>
        a
          .replaceAll('{name}', `${prefix}-${c.get[0]}-${CASES.findIndex(([, x]) => x === c)}`)
          .replaceAll('{files}', files),
      );
    const scope = (ns: string): string[] => (c.clusterScoped ? [] : ['-n', ns]);

    // Flags go before the generator's arguments: whatever follows `--` is the container's command.
    const viaProto = await sim.run([...scope(PROTO_NS), '-v=8', 'create', ...fill(c.args, 'pb')]);
    expect(viaProto.stdout).toMatch(/ created\n$/);
    // -v=8 prints request headers: the typed path really sent protobuf, not a JSON fallback.
    expect(viaProto.stderr).toContain(PROTOBUF_REQUEST);

    const intended = await sim.ok([
      ...scope(JSON_NS),
      '--dry-run=client',
      '-o',
      'json',
      'create',
      ...fill(c.args, 'js'),
    ]);
    const viaJson = await sim.run(['create', '-f', '-', ...scope(JSON_NS), '-v=8'], intended);
    expect(viaJson.code).toBe(0);
    expect(viaJson.stderr).not.toContain(PROTOBUF_REQUEST);

    const [kind, name] = c.get;
    const storedProto = JSON.parse(
      await sim.ok(['get', kind, fill([name], 'pb')[0], ...scope(PROTO_NS), '-o', 'json']),
    ) as Json;
    const storedJson = JSON.parse(
      await sim.ok(['get', kind, fill([name], 'js')[0], ...scope(JSON_NS), '-o', 'json']),
    ) as Json;
    c.expect(storedProto);
    expect(comparable(storedProto)).toEqual(comparable(storedJson));
  });

  it('answers a protobuf kind it cannot decode with 415 naming the kind, and the server keeps serving', async () => {
    const fixture = JSON.parse(
      readFileSync(join(__dirname, '../../unit/sim-protobuf/fixtures/kubectl-create-bodies.json'), 'utf8'),
    ) as Json;
    const res = await fetch(`${sim.server.url}/api/v1/namespaces/${PROTO_NS}/configmaps`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf', Accept: 'application/json' },
      body: Buffer.from(String(fixture.priorityclass.body), 'base64'),
    });
    expect(res.status).toBe(415);
    const status = (await res.json()) as Json;
    expect(status).toMatchObject({ kind: 'Status', code: 415, reason: 'UnsupportedMediaType' });
    expect(status.message).toMatch(/PriorityClass of scheduling\.k8s\.io\/v1.*kubectl apply -f/);
    expect(await sim.ok(['get', 'configmap', 'cfg', '-n', PROTO_NS, '-o', 'name'])).toBe('configmap/cfg\n');
  });
});
