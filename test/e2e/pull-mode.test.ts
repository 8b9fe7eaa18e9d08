import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { DynamoSyncerConnectionStore } from '../../lib/adapters/dynamodb/syncer-connection-store';
import { downstreamNamespace, stateLabel } from '../../lib/api/labels';
import { makeDynamoDocumentClient } from '../../lib/runtime/aws';
import { syncerSubject } from '../../lib/vw/syncer-view';
import { UNKNOWN_TOKEN_USER } from '../../lib/sim/authentication';
import { deployment } from '../support/builders';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';

const PROJECT_ROOT = join(__dirname, '..', '..');
const LIVENESS = { timeoutMs: 120_000, intervalMs: 250 };
const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };

/**
 * Issue 15 on the whole local stack: `lab` is a pull cluster, which tmc's functions hold no credentials for. A real
 * `tmc syncer` process (the banner's command) syncs it through the virtual workspace: a Deployment placed on `lab`
 * lands, READY comes back in kcp, a scale flows down, a delete removes it, and every request `lab` answered came from
 * the syncer. Stopping the syncer turns `lab` not Ready.
 */
describe('pull mode: tmc syncer beside a cluster tmc cannot reach', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  let syncer: ChildProcess | undefined;
  let syncerOutput = '';
  let clusterKubeconfig: string;
  let healthPort: number;
  const ns = downstreamNamespace('root:default', 'apps');

  beforeAll(async () => {
    // Health-probe reads it from the functions' environment: a syncer silent for 3 s counts as stale.
    process.env.TMC_SYNCER_STALE_AFTER_SECONDS = '3';
    // east, a push cluster, is where lab's work fails over to once lab's syncer stops.
    stack = await startE2eStack({ clusters: ['east'], pullClusters: ['lab'] });
    // The syncer's own token for lab: the simulator names any unregistered token's holder `token-user`, so the request
    // log tells the syncer's requests from anyone else's.
    const labConfig = parse(readFileSync(stack.clusterKubeconfigs.lab, 'utf8')) as {
      users: { user: Record<string, unknown> }[];
    };
    for (const u of labConfig.users) u.user = { token: 'the-syncer-of-lab' };
    clusterKubeconfig = join(stack.paths.root, 'syncer-lab-cluster.kubeconfig');
    writeFileSync(clusterKubeconfig, stringify(labConfig));
    healthPort = await freePort();
  }, 180_000);
  afterAll(async () => {
    if (syncer && syncer.exitCode === null) syncer.kill('SIGKILL');
    delete process.env.TMC_SYNCER_STALE_AFTER_SECONDS;
    await stack?.cleanup();
  });

  const lab = (): NonNullable<typeof stack.simulation>['clusters'][string] => {
    const server = stack.simulation?.clusters.lab;
    if (!server) throw new Error('the stack runs no simulated lab');
    return server;
  };
  const readyCondition = async (): Promise<string | undefined> => {
    const st = await kubectlGetJson(stack.kcpKubeconfig, ['synctarget', 'lab']);
    return st?.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status;
  };
  /** lab's change-feed connections as the table records them ($connect and $disconnect of the syncer-feed function). */
  const feedConnections = async (): Promise<string[]> => {
    const doc = makeDynamoDocumentClient({ region: stack.env.AWS_REGION, dynamodbEndpoint: stack.endpoints.dynamodb });
    try {
      return await new DynamoSyncerConnectionStore(doc, stack.tableName).list(syncerSubject(stack.workspace, 'lab'));
    } finally {
      doc.destroy();
    }
  };
  const labDeployment = (): Record<string, any> | undefined =>
    lab().store().get({ group: 'apps', version: 'v1', resource: 'deployments' }, ns, 'web');

  it('registers lab in pull mode and writes the syncer its credentials', async () => {
    const st = await kubectlGetJson(stack.kcpKubeconfig, ['synctarget', 'lab']);
    expect(st?.spec?.syncMode).toBe('Pull');
    expect(st?.spec?.credentials).toBeUndefined();
    expect(stack.syncerKubeconfigs.lab).toBe(join(stack.paths.root, 'syncers', 'lab.kubeconfig'));
  });

  it('starts the syncer with the banner command and its heartbeats make lab Ready', async () => {
    const uid = (
      await kubectlOk(stack.kcpKubeconfig, ['get', 'synctarget', 'lab', '-o', 'jsonpath={.metadata.uid}'])
    ).trim();
    expect(uid).not.toBe('');
    syncer = spawn(
      process.execPath,
      [
        'bin/tmc.mjs',
        'syncer',
        '--sync-target-name=lab',
        `--sync-target-uid=${uid}`,
        `--workspace-cluster=${stack.workspace}`,
        `--kcp-kubeconfig=${stack.syncerKubeconfigs.lab}`,
        `--cluster-kubeconfig=${clusterKubeconfig}`,
        '--heartbeat=1',
        `--health-port=${healthPort}`,
        // No full pass after the first: every change below reaches the syncer through the change feed.
        '--resync=3600',
      ],
      { cwd: PROJECT_ROOT, env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'WARN' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    syncer.stdout?.on('data', (c: Buffer) => (syncerOutput += c.toString()));
    syncer.stderr?.on('data', (c: Buffer) => (syncerOutput += c.toString()));
    await waitFor(
      'lab Ready from its syncer heartbeats',
      async () => {
        if (syncer?.exitCode !== null) throw new Error(`tmc syncer exited with ${syncer?.exitCode}: ${syncerOutput}`);
        await stack.invoke('health-probe', scheduled);
        await stack.idle();
        return (await readyCondition()) === 'True';
      },
      LIVENESS,
    );
    // /readyz turns 200 after the first full pass: everything below happens after it and reaches the syncer by the feed.
    await waitFor(
      'the syncer ready',
      async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status === 200,
      LIVENESS,
    );
    // One connection, recorded by the feed's $connect route after its authorizer admitted the syncer's credential:
    // sync-apply posts every change below to it (PostToConnection), and the syncer runs no second pass (--resync).
    // Its handshake may finish after the first pass: it runs the authorizer and $connect (cold starts on a busy machine).
    await waitFor('the feed connection recorded', async () => (await feedConnections()).length === 1, LIVENESS);
  }, 180_000);

  it('lands a Deployment placed on lab and brings READY back to kcp', async () => {
    await kubectlOk(stack.kcpKubeconfig, ['label', 'synctarget', 'lab', 'mode=pull']);
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
        'metadata: { name: apps-lab }',
        'spec:',
        '  namespaceSelector: { matchLabels: { team: apps } }',
        '  clusterConstraints: { regions: [us-east-1] }',
        '  numberOfClusters: 1',
        '  affinity: { preferred: [{ weight: 100, preference: { matchLabels: { mode: pull } } }] }',
        '',
      ].join('\n'),
    );
    await kubectlOk(
      stack.kcpKubeconfig,
      ['apply', '-n', 'apps', '-f', '-'],
      JSON.stringify(deployment('web', { namespace: 'apps', labels: { app: 'web' }, replicas: 2, container: 'web' })),
    );
    await waitFor('the Deployment on lab', async () => labDeployment()?.spec?.replicas === 2, LIVENESS);
    const ready = await waitFor(
      'READY 2 in kcp',
      async () => {
        const d = await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'web', '-n', 'apps']);
        return d?.status?.readyReplicas === 2 ? d : undefined;
      },
      LIVENESS,
    );
    expect(ready.status.readyReplicas).toBe(2);
  }, 180_000);

  it('carries a scale down to lab', async () => {
    await kubectlOk(stack.kcpKubeconfig, ['scale', 'deployment', 'web', '-n', 'apps', '--replicas=3']);
    await waitFor('3 replicas on lab', async () => labDeployment()?.spec?.replicas === 3, LIVENESS);
    await waitFor(
      'READY 3 in kcp',
      async () =>
        (await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'web', '-n', 'apps']))?.status?.readyReplicas === 3,
      LIVENESS,
    );
  }, 180_000);

  it('removes the copy on lab when the Deployment is deleted in kcp', async () => {
    await kubectlOk(stack.kcpKubeconfig, ['delete', 'deployment', 'web', '-n', 'apps', '--wait=false']);
    await waitFor('the copy gone from lab', async () => labDeployment() === undefined, LIVENESS);
    // tmc's finalizer is released once the copy is gone, so kcp finishes the delete.
    await waitFor(
      'the Deployment gone from kcp',
      async () => (await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'web', '-n', 'apps'])) === undefined,
      LIVENESS,
    );
  }, 180_000);

  const labDeploymentNamed = (name: string): Record<string, any> | undefined =>
    lab().store().get({ group: 'apps', version: 'v1', resource: 'deployments' }, ns, name);
  const tmc = async (args: string[]): Promise<string> =>
    new Promise((resolve, reject) =>
      execFile(process.execPath, ['bin/tmc.mjs', ...args], { cwd: PROJECT_ROOT }, (err, stdout, stderr) =>
        err ? reject(new Error(`tmc ${args.slice(0, 2).join(' ')} failed: ${stderr}`)) : resolve(stdout),
      ),
    );

  it("lab's request log holds requests of the syncer only: none from tmc's functions", () => {
    const all = lab().requests.entries();
    const syncerWrites = lab().requests.count({ user: UNKNOWN_TOKEN_USER, writes: true });
    expect(syncerWrites).toBeGreaterThan(0);
    expect(all.filter((r) => r.user !== UNKNOWN_TOKEN_USER)).toEqual([]);
  });

  it('prints the syncer credentials, and --rotate issues new ones while the old ones keep working', async () => {
    const kubeconfig = (args: string[]): Promise<string> =>
      tmc(['syncer', 'kubeconfig', 'lab', '--state-dir', stack.paths.root, ...args]);
    const tokenOf = (text: string): string =>
      (parse(text) as { users: { user: { token: string } }[] }).users[0].user.token;
    const infoStatus = async (token: string): Promise<number> =>
      (await fetch(`${stack.apiUrl}/syncers/${stack.workspace}/lab`, { headers: { authorization: `Bearer ${token}` } }))
        .status;
    const printed = await kubeconfig([]);
    expect(printed).toBe(readFileSync(stack.syncerKubeconfigs.lab, 'utf8'));
    const old = tokenOf(printed);
    const rotated = tokenOf(await kubeconfig(['--rotate']));
    expect(rotated).not.toBe(old);
    expect(tokenOf(readFileSync(stack.syncerKubeconfigs.lab, 'utf8'))).toBe(rotated);
    // The function caches a SyncTarget's digests for up to 30 s, so the new credential is accepted within that.
    await waitFor('the rotated credential accepted', async () => (await infoStatus(rotated)) === 200, LIVENESS);
    expect(await infoStatus(old)).toBe(200);
    expect(await infoStatus('not-a-credential')).toBe(401);
  }, 120_000);

  it("prints the manifest an operator applies to lab, and lab's API server accepts it", async () => {
    const manifest = await tmc([
      'syncer',
      'manifest',
      'lab',
      '--state-dir',
      stack.paths.root,
      '--kubeconfig',
      stack.kcpKubeconfig,
      '--image',
      'registry.example/tmc-syncer:e2e',
    ]);
    const applied = await kubectlOk(stack.clusterKubeconfigs.lab, ['apply', '-f', '-'], manifest);
    for (const line of [
      'namespace/tmc-syncer',
      'serviceaccount/tmc-syncer-lab',
      'clusterrole.rbac.authorization.k8s.io/tmc-syncer-lab',
      'clusterrolebinding.rbac.authorization.k8s.io/tmc-syncer-lab',
      'secret/tmc-syncer-lab',
      'deployment.apps/tmc-syncer-lab',
    ])
      expect(applied).toContain(`${line} created`);
    // The Secret holds the syncer's current (rotated) credentials; the Deployment the SyncTarget's uid.
    const secret = await kubectlGetJson(stack.clusterKubeconfigs.lab, ['secret', 'tmc-syncer-lab', '-n', 'tmc-syncer']);
    expect(Buffer.from(secret?.data.kubeconfig, 'base64').toString('utf8')).toBe(
      readFileSync(stack.syncerKubeconfigs.lab, 'utf8'),
    );
    const uid = (
      await kubectlOk(stack.kcpKubeconfig, ['get', 'synctarget', 'lab', '-o', 'jsonpath={.metadata.uid}'])
    ).trim();
    const pod = (
      await kubectlGetJson(stack.clusterKubeconfigs.lab, ['deployment', 'tmc-syncer-lab', '-n', 'tmc-syncer'])
    )?.spec.template.spec;
    expect(pod.serviceAccountName).toBe('tmc-syncer-lab');
    expect(pod.containers[0].image).toBe('registry.example/tmc-syncer:e2e');
    expect(pod.containers[0].args).toContain(`--sync-target-uid=${uid}`);
  }, 120_000);

  it('turns lab not Ready once its syncer stops, and moves its work to east past evictAfter', async () => {
    await kubectlOk(stack.kcpKubeconfig, [
      'patch',
      'synctarget',
      'lab',
      '--type',
      'merge',
      '-p',
      '{"spec":{"evictAfter":"1s"}}',
    ]);
    await kubectlOk(
      stack.kcpKubeconfig,
      ['apply', '-n', 'apps', '-f', '-'],
      JSON.stringify(deployment('api', { namespace: 'apps', labels: { app: 'api' }, replicas: 1, container: 'api' })),
    );
    await waitFor('api on lab', async () => labDeploymentNamed('api') !== undefined, LIVENESS);
    const exited = new Promise<number | null>((resolve) => syncer?.once('exit', (code) => resolve(code)));
    syncer?.kill('SIGTERM');
    await exited;
    const requestsAfterStop = lab().requests.count();
    await waitFor(
      'lab not Ready without heartbeats',
      async () => {
        await stack.invoke('health-probe', scheduled);
        await stack.idle();
        return (await readyCondition()) === 'False';
      },
      LIVENESS,
    );
    // Judged from the missing heartbeats alone: health-probe never called lab.
    expect(lab().requests.count()).toBe(requestsAfterStop);
    // The syncer's close ran $disconnect, which forgot its connection.
    expect(await feedConnections()).toEqual([]);

    // Past evictAfter the recovery sweep moves api to east, the other cluster its Placement allows.
    const moved = await waitFor(
      'api running on east, READY in kcp',
      async () => {
        await stack.invoke('health-probe', scheduled);
        await stack.invoke('recovery-sweep', scheduled);
        await stack.idle();
        const d = await kubectlGetJson(stack.kcpKubeconfig, ['deployment', 'api', '-n', 'apps']);
        return d?.status?.readyReplicas === 1 && d.metadata.labels?.[stateLabel('root:default', 'east')] === 'Sync'
          ? d
          : undefined;
      },
      LIVENESS,
    );
    expect(moved.metadata.labels[stateLabel('root:default', 'lab')]).toBeUndefined();
    expect(await kubectlGetJson(stack.clusterKubeconfigs.east, ['deployment', 'api', '-n', ns])).toMatchObject({
      spec: { replicas: 1 },
    });
    // lab's copy stays until lab is back (its syncer removes it then): tmc's functions still never called lab.
    expect(lab().requests.count()).toBe(requestsAfterStop);
  }, 240_000);
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
