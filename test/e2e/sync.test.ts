import { createHash } from 'node:crypto';
import type { Context, SQSEvent } from 'aws-lambda';
import { ScanCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { handler as placementHandler } from '../../functions/placement/handler';
import { handler as statusUpHandler } from '../../functions/status-up/handler';
import { handler as syncApplyHandler } from '../../functions/sync-apply/handler';
import { clusterStatusAnnotation, downstreamNamespace } from '../../lib/api/labels';
import { kubectl, kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

// Function logs at DEBUG, captured below: the Secret's value must not be in any of them.
process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';

const SECRET_VALUE = 'e2e-s3cr3t-do-not-leak';
const SECRET_B64 = Buffer.from(SECRET_VALUE).toString('base64');

/** Every queue message the functions received, as the raw SQS bodies. */
const bodies: string[] = [];
function recording(handler: (event: SQSEvent, context: Context) => Promise<unknown>) {
  return (event: unknown, context: Context): Promise<unknown> => {
    for (const record of (event as SQSEvent).Records ?? []) bodies.push(record.body);
    return handler(event as SQSEvent, context);
  };
}

/**
 * The syncer through the real path (kubectl → kcp → webhook → queues → functions → simulated clusters): dependencies
 * first, Secrets kept out of messages, logs and DynamoDB, a CRD-backed kind, Service/Job/StatefulSet/DaemonSet with
 * status, one write per cluster per change and none for a no-op, an unmanaged object left alone and reported, and a
 * ConfigMap near 1 MiB.
 */
describe('Workload syncer end to end', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  const ws = 'root:default';
  const ns = downstreamNamespace(ws, 'apps');
  const clusters = ['east', 'west'];
  const logs: string[] = [];
  const realWrite = process.stdout.write.bind(process.stdout);

  beforeAll(async () => {
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      logs.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return process.env.TMC_TEST_LOG ? realWrite(chunk, ...(rest as [])) : true;
    }) as typeof process.stdout.write;
    stack = await startE2eStack({
      handlers: {
        placement: recording(placementHandler),
        'sync-apply': recording(syncApplyHandler),
        'status-up': recording(statusUpHandler),
      },
    });
    await kubectlOk(
      stack.kcpKubeconfig,
      ['apply', '-f', '-'],
      [
        'apiVersion: v1',
        'kind: Namespace',
        'metadata: { name: apps, labels: { team: apps } }',
        '---',
        'apiVersion: scheduling.kcp.io/v1alpha1',
        'kind: Placement',
        'metadata: { name: apps-us }',
        'spec:',
        '  namespaceSelector: { matchLabels: { team: apps } }',
        '  clusterConstraints: { regions: [us-east-1, us-west-2] }',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await stack?.cleanup();
    process.stdout.write = realWrite;
  });

  const get = (cluster: string, args: string[]): Promise<Record<string, any> | undefined> =>
    kubectlGetJson(stack.clusterKubeconfigs[cluster], args);
  const kcpGet = (args: string[]): Promise<Record<string, any> | undefined> =>
    kubectlGetJson(stack.kcpKubeconfig, args);
  const requests = (cluster: string) => stack.simulation!.clusters[cluster].requests;
  const onAll = (what: string, args: string[]): Promise<Array<Record<string, any>>> =>
    Promise.all(clusters.map((c) => waitFor(`${what} on ${c}`, () => get(c, args))));

  it('applies what a Deployment references (ConfigMap, Secret, ServiceAccount, PVC) to the same clusters first', async () => {
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], apiManifest('api'));
    const deployments = await onAll('Deployment api', ['deployment', 'api', '-n', ns]);
    expect(deployments.map((d) => d.spec.template.spec.serviceAccountName)).toEqual(['api-sa', 'api-sa']);
    for (const cluster of clusters) {
      for (const dep of [
        ['configmap', 'api-config'],
        ['secret', 'api-secret'],
        ['serviceaccount', 'api-sa'],
        ['pvc', 'api-data'],
      ]) {
        expect(await get(cluster, [...dep, '-n', ns])).toBeDefined();
      }
      // Before the workload: the dependencies' writes come earlier in the cluster's request log.
      const log = requests(cluster).entries({ writes: true, namespace: ns });
      const first = (resource: string, name: string): number =>
        log.findIndex((r) => r.resource === resource && r.name === name);
      const workload = first('deployments', 'api');
      for (const [resource, name] of [
        ['configmaps', 'api-config'],
        ['secrets', 'api-secret'],
        ['serviceaccounts', 'api-sa'],
        ['persistentvolumeclaims', 'api-data'],
      ]) {
        expect(first(resource, name)).toBeGreaterThanOrEqual(0);
        expect(first(resource, name)).toBeLessThan(workload);
      }
    }
    const secret = await get('east', ['secret', 'api-secret', '-n', ns]);
    expect(secret?.data.token).toBe(SECRET_B64);
    expect(secret?.metadata.labels['tmc.kcp.io/managed-by']).toBe('tmc');
  });

  it('keeps the Secret out of queue messages, DynamoDB items and logs', async () => {
    await stack.idle();
    expect(bodies.length).toBeGreaterThan(0);
    expect(bodies.filter((b) => b.includes(SECRET_B64) || b.includes(SECRET_VALUE))).toEqual([]);
    const dynamo = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: stack.endpoints.dynamodb,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const items = JSON.stringify((await dynamo.send(new ScanCommand({ TableName: stack.tableName }))).Items ?? []);
      expect(items).toContain('api-secret'); // the Secret's sync state is recorded …
      expect(items).not.toContain(SECRET_B64); // … its data is not
      expect(items).not.toContain(SECRET_VALUE);
    } finally {
      dynamo.destroy();
    }
    expect(logs.some((l) => l.includes('api-secret'))).toBe(true);
    expect(logs.filter((l) => l.includes(SECRET_B64) || l.includes(SECRET_VALUE))).toEqual([]);
  });

  it('a spec update makes exactly one downstream write per cluster; a no-op re-apply and a re-placement make none', async () => {
    await stack.idle();
    for (const c of clusters) requests(c).reset();
    await kubectlOk(stack.kcpKubeconfig, ['set', 'image', 'deployment/api', '-n', 'apps', 'api=nginx:1.28']);
    await Promise.all(
      clusters.map((c) =>
        waitFor(
          `api on nginx:1.28 on ${c}`,
          async () =>
            (await get(c, ['deployment', 'api', '-n', ns]))?.spec.template.spec.containers[0].image === 'nginx:1.28',
        ),
      ),
    );
    await stack.idle();
    for (const c of clusters) {
      expect(
        requests(c)
          .entries({ writes: true })
          .map((r) => `${r.verb} ${r.resource}/${r.name}`),
      ).toEqual(['apply deployments/api']);
      requests(c).reset();
    }

    // The same manifest again (server-side apply: kcp sees the request, nothing changes) and a Placement edit that
    // changes no decision (every object of the workspace is re-placed).
    const downstreamWrites = (): string[] =>
      clusters.flatMap((c) =>
        requests(c)
          .entries({ writes: true })
          .map((r) => `${c}: ${r.verb} ${r.resource}/${r.name}`),
      );
    await kubectlOk(
      stack.kcpKubeconfig,
      ['apply', '--server-side', '--force-conflicts', '-f', '-'],
      apiManifest('api', 'nginx:1.28'),
    );
    await stack.idle();
    expect(downstreamWrites()).toEqual([]);
    await kubectlOk(stack.kcpKubeconfig, ['label', 'placement', 'apps-us', 'touched=yes']);
    await stack.idle();
    expect(downstreamWrites()).toEqual([]);
    // kubectl rollout status waits for this: the generation applied everywhere maps back to kcp.
    const upstream = await waitFor('observedGeneration 2 in kcp', async () => {
      const d = await kcpGet(['deployment', 'api', '-n', 'apps']);
      return d?.status?.observedGeneration === 2 ? d : undefined;
    });
    expect(upstream.metadata.generation).toBe(2);
    await kubectlOk(stack.kcpKubeconfig, ['rollout', 'status', 'deployment/api', '-n', 'apps', '--timeout=20s']);
  });

  it('syncs a CRD-backed kind: the CRD follows the workspace to its clusters, then its objects', async () => {
    // Only kcp gets the CRD: a copy applied by hand to a cluster is not tmc's, and tmc would leave it alone.
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], WIDGET_CRD);
    await waitFor(
      'widgets served in kcp',
      async () => (await kubectl(stack.kcpKubeconfig, ['get', 'widgets', '-n', 'apps'])).code === 0,
    );
    await kubectlOk(
      stack.kcpKubeconfig,
      ['apply', '-f', '-'],
      'apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: w1, namespace: apps }\nspec: { size: 3 }\n',
    );
    const widgets = await onAll('Widget w1', ['widget', 'w1', '-n', ns]);
    expect(widgets.map((w) => w.spec.size)).toEqual([3, 3]);
  });

  it('syncs a Service, a Job, a StatefulSet and a DaemonSet and brings their status back', async () => {
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], KINDS_MANIFEST);
    const services = await onAll('Service web', ['service', 'web', '-n', ns]);
    expect(services.map((s) => s.spec.ports[0].port)).toEqual([80, 80]);
    await onAll('Job once', ['job', 'once', '-n', ns]);
    await onAll('StatefulSet db', ['statefulset', 'db', '-n', ns]);
    await onAll('DaemonSet agent', ['daemonset', 'agent', '-n', ns]);

    const job = await waitFor('Job once Complete in kcp', async () => {
      const j = await kcpGet(['job', 'once', '-n', 'apps']);
      return j?.status?.conditions?.some(
        (c: { type: string; status: string }) => c.type === 'Complete' && c.status === 'True',
      )
        ? j
        : undefined;
    });
    // Every cluster runs the whole Job: COMPLETIONS reads per copy (1/1 once each cluster completed its one).
    expect(job.status.succeeded).toBe(1);
    // A Duplicated StatefulSet of 2 on 2 clusters reads 2/2 (each copy ready), not 4/2; each copy is named.
    const sts = await waitFor('StatefulSet db ready in kcp', async () => {
      const s = await kcpGet(['statefulset', 'db', '-n', 'apps']);
      return s?.status?.conditions?.some(
        (c: { type: string; status: string }) => c.type === 'ClusterReplicas' && c.status === 'True',
      )
        ? s
        : undefined;
    });
    expect(sts.status).toMatchObject({ replicas: 2, readyReplicas: 2 });
    const perCopy = sts.status.conditions.find((c: { type: string }) => c.type === 'ClusterReplicas');
    expect(perCopy.message).toContain(clusters.map((c) => `${c} 2/2`).join(', '));
    const ds = await waitFor('DaemonSet agent ready in kcp', async () => {
      const d = await kcpGet(['daemonset', 'agent', '-n', 'apps']);
      return d && d.status?.numberReady > 0 && d.status.numberReady === d.status.desiredNumberScheduled ? d : undefined;
    });
    const perCluster = clusters.map((c) => JSON.parse(ds.metadata.annotations[clusterStatusAnnotation(ws, c)]));
    expect(perCluster.map((p) => p.cluster)).toEqual(clusters);
    expect(ds.status.numberReady).toBe(perCluster.reduce((sum, p) => sum + p.status.numberReady, 0));
  });

  it('never overwrites a downstream object tmc did not create, and shows the conflict in kcp', async () => {
    const legacy = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'legacy', namespace: ns },
      spec: {
        selector: { matchLabels: { app: 'legacy' } },
        template: {
          metadata: { labels: { app: 'legacy' } },
          spec: { containers: [{ name: 'legacy', image: 'busybox:legacy' }] },
        },
      },
    };
    await kubectlOk(stack.clusterKubeconfigs.east, ['create', '-f', '-'], JSON.stringify(legacy));
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], apiManifest('legacy'));
    await waitFor('legacy on west', () => get('west', ['deployment', 'legacy', '-n', ns]));
    const upstream = await waitFor('the conflict on east in kcp', async () => {
      const d = await kcpGet(['deployment', 'legacy', '-n', 'apps']);
      const detail = d?.metadata.annotations?.[clusterStatusAnnotation(ws, 'east')];
      return detail && JSON.parse(detail).conditions?.[0]?.reason === 'SyncConflict' ? d : undefined;
    });
    const synced = upstream.status.conditions.find((c: { type: string }) => c.type === 'Synced');
    expect(synced).toMatchObject({ status: 'False' });
    expect(synced.message).toContain('east');
    const east = await get('east', ['deployment', 'legacy', '-n', ns]);
    expect(east?.spec.template.spec.containers[0].image).toBe('busybox:legacy');
    expect(east?.metadata.labels?.['tmc.kcp.io/managed-by']).toBeUndefined();
  });

  it('carries a ConfigMap near 1 MiB to every cluster whole', async () => {
    const big = 'x'.repeat(1000 * 1024);
    const manifest = JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'big', namespace: 'apps' },
      data: { blob: big },
    });
    await kubectlOk(stack.kcpKubeconfig, ['create', '-f', '-'], manifest);
    const copies = await onAll('ConfigMap big', ['configmap', 'big', '-n', ns]);
    const digest = (s: string): string => createHash('sha256').update(s).digest('hex');
    expect(copies.map((c) => digest(c.data.blob))).toEqual([digest(big), digest(big)]);
    expect(bodies.every((b) => Buffer.byteLength(b) < 256 * 1024)).toBe(true);
  });
});

function apiManifest(name: string, image = 'nginx:1.27'): string {
  return `
apiVersion: v1
kind: ConfigMap
metadata: { name: ${name}-config, namespace: apps }
data: { MODE: production }
---
apiVersion: v1
kind: Secret
metadata: { name: ${name}-secret, namespace: apps }
data: { token: ${SECRET_B64} }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: ${name}-sa, namespace: apps }
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: ${name}-data, namespace: apps }
spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: apps, labels: { app: ${name} } }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      serviceAccountName: ${name}-sa
      containers:
        - name: ${name}
          image: ${image}
          envFrom: [{ configMapRef: { name: ${name}-config } }]
          volumeMounts: [{ name: token, mountPath: /var/run/token }, { name: data, mountPath: /data }]
      volumes:
        - { name: token, secret: { secretName: ${name}-secret } }
        - { name: data, persistentVolumeClaim: { claimName: ${name}-data } }
`;
}

const WIDGET_CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: widgets.example.com }
spec:
  group: example.com
  scope: Namespaced
  names: { kind: Widget, plural: widgets, singular: widget, listKind: WidgetList }
  versions:
    - name: v1
      served: true
      storage: true
      subresources: { status: {} }
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: { type: object, properties: { size: { type: integer } } }
            status: { type: object, x-kubernetes-preserve-unknown-fields: true }
`;

const KINDS_MANIFEST = `
apiVersion: v1
kind: Service
metadata: { name: web, namespace: apps }
spec: { selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: batch/v1
kind: Job
metadata: { name: once, namespace: apps }
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: once, image: busybox:1.36, command: [sh, -c, 'true'] }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db, namespace: apps }
spec:
  serviceName: db
  replicas: 2
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec: { containers: [{ name: db, image: postgres:16 }] }
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent, namespace: apps }
spec:
  selector: { matchLabels: { app: agent } }
  template:
    metadata: { labels: { app: agent } }
    spec: { containers: [{ name: agent, image: fluent-bit:3 }] }
`;
