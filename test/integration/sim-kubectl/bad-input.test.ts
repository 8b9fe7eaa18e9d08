import { z } from 'zod';
import { startSimUnderTest, type SimUnderTest } from './sim-harness';
import * as build from '../../support/builders';

const StatusSchema = z.looseObject({
  kind: z.literal('Status'),
  code: z.number(),
  reason: z.string(),
  message: z.string(),
});
const statusOf = async (res: Response): Promise<z.infer<typeof StatusSchema>> => StatusSchema.parse(await res.json());

const cm = (name: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, ...extra });
const deployment = (name: string, app: string, selectorApp = app): string =>
  JSON.stringify(
    build.deployment(name, {
      namespace: null,
      replicas: null,
      podLabels: { app },
      selector: { app: selectorApp },
      container: 'web',
      image: 'nginx:1.25',
    }),
  );

// Bad input answered the way kube-apiserver answers it: the status code, reason and message, as raw HTTP sees them
// and as the real kubectl prints them.
describe('simulator: bad input with kubectl and raw HTTP', () => {
  let sim: SimUnderTest;
  const api = (path: string): string => `${sim.server.url}${path}`;
  const post = (path: string, body: string | Buffer, contentType = 'application/json'): Promise<Response> =>
    fetch(api(path), { method: 'POST', headers: { 'content-type': contentType }, body });

  beforeAll(async () => {
    sim = await startSimUnderTest();
  });
  afterAll(() => sim?.stop());

  describe('over raw HTTP', () => {
    it('answers a malformed JSON body with 400 naming the expected type and the start of the body', async () => {
      const res = await post('/api/v1/namespaces/default/configmaps', '{"apiVersion":"v1","kind":"ConfigMap",');
      expect(res.status).toBe(400);
      const status = await statusOf(res);
      expect(status).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'BadRequest', code: 400 });
      expect(status.message).toMatch(
        /^the object provided is unrecognized \(must be of type ConfigMap\): couldn't get version\/kind; json parse error: .+ \(\{"apiVersion":"v1","kind":"Con \.\.\.\)$/,
      );
    });

    it('answers malformed YAML with 400 and the YAML error', async () => {
      const res = await post(
        '/api/v1/namespaces/default/configmaps',
        'metadata:\n  name: x\n   bad: [\n',
        'application/yaml',
      );
      expect(res.status).toBe(400);
      expect((await statusOf(res)).message).toMatch(
        /^the object provided is unrecognized \(must be of type ConfigMap\): error converting YAML to JSON: yaml: /,
      );
    });

    it('takes apiVersion and kind from the URL when the body leaves them out, as kube-apiserver does', async () => {
      const res = await post(
        '/api/v1/namespaces/default/configmaps',
        JSON.stringify({ metadata: { name: 'no-type-meta' }, data: { a: 'b' } }),
      );
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'no-type-meta', namespace: 'default' },
      });
    });

    it('refuses a body of another kind than the URL with 400', async () => {
      const res = await post(
        '/api/v1/namespaces/default/configmaps',
        JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }),
      );
      expect(res.status).toBe(400);
      expect((await statusOf(res)).message).toBe(
        'Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): unknown conversion',
      );
    });

    it('answers an unknown resource with 404 NotFound', async () => {
      const res = await post(
        '/apis/example.com/v1/namespaces/default/widgets',
        JSON.stringify({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }),
      );
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({
        reason: 'NotFound',
        message: 'the server could not find the requested resource',
      });
    });

    it('answers a missing name with 422 naming metadata.name', async () => {
      const res = await post(
        '/api/v1/namespaces/default/configmaps',
        JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }),
      );
      expect(res.status).toBe(422);
      expect(await res.json()).toMatchObject({
        reason: 'Invalid',
        message: 'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required',
        details: { kind: 'ConfigMap', causes: [{ reason: 'FieldValueRequired', field: 'metadata.name' }] },
      });
    });

    it('qualifies the kind with its group in a 422 and brackets several causes', async () => {
      const res = await post(
        '/apis/apps/v1/namespaces/default/deployments',
        JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'Bad' }, spec: {} }),
      );
      expect(res.status).toBe(422);
      const status = await statusOf(res);
      expect(status.message).toMatch(
        /^Deployment\.apps "Bad" is invalid: \[metadata\.name: Invalid value: "Bad": a lowercase RFC 1123 subdomain .*, spec\.selector: Required value\]$/,
      );
      expect(status.details).toMatchObject({ group: 'apps', kind: 'Deployment', name: 'Bad' });
    });

    it('answers a namespaced object in a namespace that does not exist with 404', async () => {
      const res = await post('/api/v1/namespaces/nowhere/configmaps', cm('c'));
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({
        reason: 'NotFound',
        message: 'namespaces "nowhere" not found',
        details: { name: 'nowhere', kind: 'namespaces' },
      });
    });

    it('answers an object over etcd’s 1.5 MiB with 413 and a body over 3 MiB with 413 before reading it all', async () => {
      // A Deployment passes every other check (a ConfigMap would first hit its own 1 MiB data limit).
      const big = JSON.parse(deployment('big', 'big'));
      big.spec.template.spec.containers[0].env = [{ name: 'BLOB', value: 'x'.repeat(1.6 * 1024 * 1024) }];
      const res = await post('/apis/apps/v1/namespaces/default/deployments', JSON.stringify(big));
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({
        reason: 'RequestEntityTooLarge',
        message: 'Request entity too large: etcdserver: request is too large',
      });

      const huge = await post(
        '/api/v1/namespaces/default/configmaps',
        cm('huge', { data: { a: 'x'.repeat(3.2 * 1024 * 1024) } }),
      );
      expect(huge.status).toBe(413);
      expect((await statusOf(huge)).message).toBe('Request entity too large: limit is 3145728');
    });

    it('refuses a server-side apply patch without apiVersion or with another version', async () => {
      const apply = (body: unknown): Promise<Response> =>
        fetch(api('/api/v1/namespaces/default/configmaps/ssa?fieldManager=test'), {
          method: 'PATCH',
          headers: { 'content-type': 'application/apply-patch+yaml' },
          body: JSON.stringify(body),
        });
      const missing = await apply({ kind: 'ConfigMap', metadata: { name: 'ssa' } });
      expect(missing.status).toBe(400);
      expect((await statusOf(missing)).message).toBe('apiVersion must be set in apply patch');
      const wrong = await apply({ apiVersion: 'v2', kind: 'ConfigMap', metadata: { name: 'ssa' } });
      expect((await statusOf(wrong)).message).toBe(
        'Incorrect version specified in apply patch. Specified patch version: v2, expected: v1',
      );
    });
  });

  describe('with kubectl', () => {
    it('prints "no matches for kind" for a kind the server does not serve (client-side and server-side apply, create)', async () => {
      const manifest = 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n';
      for (const verb of [['apply'], ['apply', '--server-side'], ['create']]) {
        const r = await sim.run([...verb, '-f', '-'], manifest);
        expect(r.code).not.toBe(0);
        // Before /openapi/v2 was served, kubectl failed on "failed to download openapi" instead.
        expect(r.stderr).toContain(
          'resource mapping not found for name: "w" namespace: "" from "STDIN": no matches for kind "Widget" in version "example.com/v1"',
        );
        expect(r.stderr).toContain('ensure CRDs are installed first');
      }
    });

    it('prints the name rules a real cluster prints, per kind', async () => {
      const subdomain = await sim.run(['create', '-f', '-'], cm('Bad_Name'));
      expect(subdomain.stderr).toContain(
        `The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      );
      const label = await sim.run(['create', 'namespace', 'team.a']);
      expect(label.stderr).toContain(
        'The Namespace "team.a" is invalid: metadata.name: Invalid value: "team.a": must not contain dots',
      );
      const dns1035 = await sim.run(['create', 'service', 'clusterip', '1web', '--tcp=80:8080']);
      // kubectl's generators print the server's message as it is (no "The" prefix for typed clients).
      expect(dns1035.stderr).toContain(
        `Service "1web" is invalid: metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      );
      // RBAC names are path segments: colons are fine, as in kube's own system:* roles.
      await sim.ok(['create', 'clusterrole', 'system:tmc-reader', '--verb=get', '--resource=pods']);
    });

    it('prints 422 for a missing namespace-less name and NotFound for a missing namespace', async () => {
      const noName = await sim.run(
        ['create', '-f', '-'],
        JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', data: { a: 'b' } }),
      );
      expect(noName.stderr).toContain(
        'The ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required',
      );
      const noNamespace = await sim.run(['create', '-n', 'nowhere', '-f', '-'], cm('c'));
      expect(noNamespace.stderr).toContain(
        'Error from server (NotFound): error when creating "STDIN": namespaces "nowhere" not found',
      );
    });

    it('prints the size limits: ConfigMap data, the last-applied annotation, the request body', async () => {
      const data = await sim.run(['create', '-f', '-'], cm('big-data', { data: { a: 'x'.repeat(1100 * 1024) } }));
      expect(data.stderr).toContain(
        'The ConfigMap "big-data" is invalid: []: Too long: may not be more than 1048576 bytes',
      );
      // Client-side apply copies the object into an annotation, which kube caps at 256 KiB.
      const annotated = await sim.run(
        ['apply', '-f', '-'],
        cm('big-annotation', { data: { a: 'x'.repeat(300 * 1024) } }),
      );
      expect(annotated.stderr).toContain(
        'The ConfigMap "big-annotation" is invalid: metadata.annotations: Too long: may not be more than 262144 bytes',
      );
      const body = await sim.run(['create', '-f', '-'], cm('huge', { data: { a: 'x'.repeat(3.2 * 1024 * 1024) } }));
      expect(body.stderr).toContain(
        'Error from server (RequestEntityTooLarge): error when creating "STDIN": Request entity too large: limit is 3145728',
      );
    });

    it('prints the immutable-selector error for a Deployment and checks the selector against the template', async () => {
      await sim.ok(['apply', '-f', '-'], deployment('web', 'web'));
      const changed = await sim.run(['apply', '-f', '-'], deployment('web', 'other'));
      expect(changed.stderr).toContain(
        'The Deployment "web" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"other"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
      );
      const mismatch = await sim.run([
        'patch',
        'deployment',
        'web',
        '--type=merge',
        '-p',
        '{"spec":{"template":{"metadata":{"labels":{"app":"nope"}}}}}',
      ]);
      expect(mismatch.stderr).toContain(
        'The Deployment "web" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"nope"}: `selector` does not match template `labels`',
      );
      const created = await sim.run(['create', '-f', '-'], deployment('mismatched', 'a', 'b'));
      expect(created.stderr).toContain('`selector` does not match template `labels`');
      // Scaling and image changes are still allowed.
      await sim.ok(['scale', 'deployment', 'web', '--replicas=3']);
      await sim.ok(['set', 'image', 'deployment/web', 'web=nginx:1.27']);
    });

    it('refuses changes to an immutable ConfigMap and to a Job template', async () => {
      await sim.ok(['create', '-f', '-'], cm('frozen', { data: { a: '1' }, immutable: true }));
      const edit = await sim.run(['patch', 'configmap', 'frozen', '--type=merge', '-p', '{"data":{"a":"2"}}']);
      expect(edit.stderr).toContain(
        'The ConfigMap "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set',
      );
      await sim.ok(['create', 'job', 'once', '--image=busybox', '--', 'echo', 'hi']);
      const job = await sim.run(['set', 'image', 'job/once', 'once=busybox:1.36']);
      expect(job.stderr).toMatch(/Job\.batch "once" is invalid: spec\.template: Invalid value: .*: field is immutable/);
    });
  });
});
