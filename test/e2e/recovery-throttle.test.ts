import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { clusterStatusAnnotation, downstreamNamespace } from '../../lib/api/labels';
import { QUEUES } from '../../lib/runtime/resources';
import type { RequestRecord } from '../../lib/sim/request-log';
import { kubectlGetJson, kubectlOk } from '../support/kubectl';
import { waitFor } from '../support/wait';
import { startE2eStack } from './support';
import { deployment } from '../support/builders';

/**
 * Well above the first retry's own backoff (at most 2 s, plus ~2.5 s of handling measured on a loaded machine): a
 * redelivery this late proves the header was honoured.
 */
const RETRY_AFTER_SECONDS = 6;
const COUNT = 20;
const names = Array.from({ length: COUNT }, (_, i) => `burst-${i + 1}`);
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };

/** The Placement of the burst: first to `region` (edge), then moved to west while west throttles. */
function placement(region: string): string {
  return `
apiVersion: scheduling.kcp.io/v1alpha1
kind: Placement
metadata: { name: burst }
spec:
  objectSelectors: [{ group: apps, kind: Deployment, labelSelector: { matchLabels: { tier: burst } } }]
  numberOfClusters: 1
  clusterConstraints: { regions: [${region}] }
---
apiVersion: scheduling.kcp.io/v1alpha1
kind: Placement
metadata: { name: warm }
spec:
  objectSelectors: [{ group: apps, kind: Deployment, labelSelector: { matchLabels: { tier: warm } } }]
  numberOfClusters: 1
  clusterConstraints: { regions: [us-west-2] }
`;
}

/** The value of one counter series in the Prometheus text the stack serves, 0 when absent. */
function counter(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').pop()) : 0;
}

/**
 * Issue 6: "a cluster answering 429 receives backoff, not a flood (counted in the simulator's log)". `west` answers
 * every request with 429 and Retry-After while 20 Deployments are placed on it. Each message is tried, deferred with
 * ChangeMessageVisibility for at least Retry-After (not retried at once, not left to the queue's 6-minute visibility
 * timeout), and tried again; after the fault lifts everything converges with one apply per Deployment.
 */
describe('recovery: a throttling cluster receives backoff, not a flood', () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  const ns = downstreamNamespace('root:default', 'default');

  beforeAll(async () => {
    stack = await startE2eStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('defers every refused message for at least Retry-After, bounds the attempts, and converges when the 429s stop', async () => {
    const sim = stack.simulation;
    if (!sim) throw new Error('The e2e stack runs the simulator');
    const west = sim.clusters.west;
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], placement('eu-central-1'));
    // One Deployment on west first, so sync-apply's per-container discovery and namespace caches are warm: under the
    // fault each attempt is then exactly one request naming its Deployment.
    await kubectlOk(
      stack.kcpKubeconfig,
      ['apply', '-f', '-'],
      JSON.stringify(deployment('warm', { labels: { tier: 'warm' } })),
    );
    // The 20 run on edge first; moving their Placement to west then places all of them there in one burst (applying
    // 20 objects through kcp's admission one by one would spread them over many seconds).
    await kubectlOk(
      stack.kcpKubeconfig,
      ['apply', '-f', '-'],
      names.map((n) => `---\n${JSON.stringify(deployment(n, { labels: { tier: 'burst' } }))}\n`).join(''),
    );
    await waitFor(
      'warm on west and the 20 on edge',
      async () =>
        west.store().get(DEPLOYMENTS, ns, 'warm') &&
        names.every((n) => sim.clusters.edge.store().get(DEPLOYMENTS, ns, n)),
    );
    await stack.idle();
    const retriesBefore = counter(await stack.metrics.render(), 'tmc_retries_total', {
      function: 'sync-apply',
      category: 'cluster-throttled',
    });

    west.requests.reset();
    west.faults.set({ throttle: { rate: 1, retryAfterSeconds: RETRY_AFTER_SECONDS } });
    await kubectlOk(stack.kcpKubeconfig, ['apply', '-f', '-'], placement('us-west-2'));
    const refused = (name: string): RequestRecord[] => west.requests.entries({ ...DEPLOYMENTS, name, code: 429 });
    // The window: until every Deployment has been refused twice (its first try and one redelivery), or one of them
    // is one refusal short of maxReceiveCount (past it SQS dead-letters the message; recovery-sweep redrives it
    // minutes later, which this test does not wait for).
    const lastChance = QUEUES.sync.maxReceiveCount - 1;
    await waitFor(
      'every Deployment refused twice',
      async () => names.every((n) => refused(n).length >= 2) || names.some((n) => refused(n).length >= lastChance),
      { timeoutMs: 40_000 },
    );

    // Throttled status is visible on the kcp object while the cluster refuses.
    const first = names.find((n) => refused(n).length > 0) ?? names[0];
    const shown = await kubectlGetJson(stack.kcpKubeconfig, ['deployment', first, '-n', 'default']);
    const annotation = shown?.metadata?.annotations?.[clusterStatusAnnotation('root:default', 'west')];
    expect(JSON.parse(annotation ?? '{}').conditions?.[0]).toMatchObject({
      type: 'Synced',
      status: 'False',
      reason: 'ClusterThrottled',
    });

    west.faults.clear();
    const attempts = names.map(refused);
    const totalRefused = west.requests.count({ code: 429 });
    expect(attempts.filter((t) => t.length >= 2).length).toBeGreaterThan(0); // the gap checks below are not vacuous
    for (const tries of attempts) {
      // Bounded: below maxReceiveCount in the window, so no message is dead-lettered.
      expect(tries.length).toBeGreaterThanOrEqual(1);
      expect(tries.length).toBeLessThan(QUEUES.sync.maxReceiveCount);
      for (let i = 1; i < tries.length; i++) {
        const gap = tries[i].at - tries[i - 1].at;
        // Not a flood, and Retry-After honoured: each redelivery waited at least what the cluster asked for...
        expect(gap).toBeGreaterThanOrEqual(RETRY_AFTER_SECONDS * 1000);
        // ...and came from tmc's ChangeMessageVisibility, not from the queue's default visibility timeout (6 min).
        expect(gap).toBeLessThan(QUEUES.sync.visibilityTimeoutSeconds * 1000);
      }
    }
    // Nothing else on west was hammered: every refused request was one of these attempts.
    const perDeployment = attempts.reduce((sum, t) => sum + t.length, 0);
    expect(totalRefused).toBe(perDeployment);
    // Every refused attempt was deferred (the deferrer changes the message's visibility for each one). The last
    // refusals may still be recording their failure when the log already counts them: wait for the counter.
    const deferred = async (): Promise<number> =>
      counter(await stack.metrics.render(), 'tmc_retries_total', {
        function: 'sync-apply',
        category: 'cluster-throttled',
      }) - retriesBefore;
    await waitFor(`${perDeployment} deferrals counted`, async () => (await deferred()) >= perDeployment);

    // The fault lifts: everything converges, with one apply per Deployment (no pile-up of queued retries).
    await waitFor('the 20 on west', async () => names.every((n) => west.store().get(DEPLOYMENTS, ns, n)), {
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    await stack.idle({ timeoutMs: 60_000 });
    for (const n of names)
      expect(
        west.requests.entries({ ...DEPLOYMENTS, name: n, verb: 'apply' }).filter((r) => r.code < 300),
      ).toHaveLength(1);
    const list = await kubectlGetJson<{
      items: Array<{ metadata: { name: string; annotations?: Record<string, string> } }>;
    }>(stack.kcpKubeconfig, ['deployments', '-n', 'default', '-l', 'tier=burst']);
    const synced = (list?.items ?? []).filter(
      (d) =>
        JSON.parse(d.metadata.annotations?.[clusterStatusAnnotation('root:default', 'west')] ?? '{}').conditions?.[0]
          ?.status === 'True',
    );
    expect(synced.map((d) => d.metadata.name).sort()).toEqual([...names].sort());
    const dlq = await stack.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.queues.sync.dlqUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    expect(Number(dlq.Attributes?.ApproximateNumberOfMessages ?? 0)).toBe(0);
  }, 150_000);
});
