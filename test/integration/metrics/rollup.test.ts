import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoCircuitStore } from '../../../lib/adapters/dynamodb/circuit-store';
import { DynamoHealthStore } from '../../../lib/adapters/dynamodb/health-store';
import { DynamoSyncStateStore } from '../../../lib/adapters/dynamodb/sync-state-store';
import type { HealthState } from '../../../lib/health/cluster-health';
import { ensureQueues, startLocalSqs, type LocalQueues } from '../../../lib/local/aws-services';
import { PromMetrics } from '../../../lib/metrics/prom-metrics';
import { makeSqsClient } from '../../../lib/runtime/aws';
import { buildMetricsRollupDeps, makeMetricsRollupHandler } from '../../../lib/runtime/metrics-rollup';
import { useSharedMetrics } from '../../../lib/runtime/metrics';
import { ENV, type QueueName } from '../../../lib/runtime/resources';
import type { SyncState } from '../../../lib/ports/sync-state-store';
import { startLocalTable, type LocalTable } from '../health/local-table';
import { startPrometheus, type PrometheusServer } from '../../support/prometheus';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const ago = (seconds: number): string => new Date(NOW - seconds * 1000).toISOString();

describe('metrics-rollup on dynalite, fauxqs and a real Prometheus', () => {
  let table: LocalTable;
  let sqsServer: Awaited<ReturnType<typeof startLocalSqs>>;
  let sqs: SQSClient;
  let queues: LocalQueues;
  let prom: PrometheusServer;
  const shared = new PromMetrics();

  beforeAll(async () => {
    [table, sqsServer, prom] = await Promise.all([startLocalTable(), startLocalSqs(), startPrometheus()]);
    sqs = makeSqsClient({ region: 'us-east-1', sqsEndpoint: sqsServer.endpoint });
    queues = await ensureQueues(sqs);

    const health = new DynamoHealthStore(table.doc, table.tableName);
    const seedHealth = async (cluster: string, state: HealthState): Promise<void> => {
      await health.putCluster(
        {
          cluster,
          state,
          since: ago(600),
          reason: 'Seeded',
          consecutiveFailures: 0,
          consecutiveSuccesses: 1,
          history: [],
          version: 1,
        },
        0,
      );
    };
    await seedHealth('east', 'Healthy');
    await seedHealth('west', 'Healthy');
    await seedHealth('edge', 'Unhealthy');
    // Healthy when last probed, 20 minutes ago: the probe stopped, so the gauge must not keep saying Healthy.
    await health.putCluster(
      {
        cluster: 'south',
        state: 'Healthy',
        since: ago(3600),
        reason: 'ProbeSucceeded',
        consecutiveFailures: 0,
        consecutiveSuccesses: 9,
        lastProbeAt: ago(1200),
        history: [],
        version: 1,
      },
      0,
    );
    // A mirrored SyncTarget the probe has not reached yet: Unknown.
    await table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          pk: 'CLUSTER#north',
          sk: 'META#root:default',
          gsi1pk: 'CLUSTERS',
          gsi1sk: 'root:default|north',
          name: 'north',
        },
      }),
    );
    await new DynamoCircuitStore(table.doc, table.tableName).compareAndSet(
      { cluster: 'edge', state: 'open', failures: 5, openedAt: ago(30), updatedAt: ago(30), version: 1 },
      0,
    );

    const syncs = new DynamoSyncStateStore({ doc: table.doc, tableName: table.tableName });
    const seedSync = async (name: string, cluster: string, state: SyncState, secondsAgo: number): Promise<void> => {
      const ref = {
        workspace: 'root:default',
        group: 'apps',
        version: 'v1',
        resource: 'deployments',
        kind: 'Deployment',
        namespace: 'default',
        name,
      };
      await syncs.put({ ref, cluster, state, decisionVersion: 1, appliedGeneration: 1, updatedAt: ago(secondsAgo) });
    };
    await seedSync('web', 'east', 'applied', 100);
    await seedSync('web', 'west', 'applied', 100);
    await seedSync('api', 'east', 'pending', 45);
    await seedSync('api', 'edge', 'failed', 300);
    await seedSync('old', 'west', 'deleting', 10);

    for (let i = 0; i < 3; i += 1)
      await sqs.send(new SendMessageCommand({ QueueUrl: queues.sync.url, MessageBody: `{"n":${i}}` }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queues.placement.dlqUrl, MessageBody: '{}' }));
  });

  afterAll(async () => {
    useSharedMetrics(undefined);
    sqs?.destroy();
    await Promise.all([table?.close(), sqsServer?.stop(), prom?.stop()]);
  });

  function env(): Record<string, string> {
    const out: Record<string, string> = {
      [ENV.tableName]: table.tableName,
      [ENV.dynamodbEndpoint]: table.endpoint,
      [ENV.sqsEndpoint]: sqsServer.endpoint,
      AWS_REGION: 'us-east-1',
      TMC_PROMETHEUS_REMOTE_WRITE_URL: `${prom.url}/api/v1/write`,
    };
    for (const name of Object.keys(queues) as QueueName[]) {
      out[ENV.queueUrl(name)] = queues[name].url;
      out[ENV.dlqUrl(name)] = queues[name].dlqUrl;
    }
    return out;
  }

  it('publishes gauges that match the seeded table and queues, and pushes them to Prometheus', async () => {
    useSharedMetrics(shared);
    const deps = buildMetricsRollupDeps(env());
    const report = await makeMetricsRollupHandler({ ...deps, now: () => NOW })();
    expect(report.pushError).toBeUndefined();
    expect(report.pushed).toBeGreaterThan(20);

    const text = await shared.render();
    const expected = [
      'tmc_clusters{state="Healthy"} 2',
      'tmc_clusters{state="Unhealthy"} 1',
      'tmc_clusters{state="Unknown"} 2',
      'tmc_cluster_health_state{cluster="edge"} 2',
      'tmc_cluster_health_state{cluster="south"} 3',
      'tmc_cluster_health_state{cluster="north"} 3',
      'tmc_objects{state="applied"} 2',
      'tmc_objects{state="pending"} 1',
      'tmc_objects{state="failed"} 1',
      'tmc_objects{state="deleting"} 1',
      'tmc_oldest_pending_sync_seconds 300',
      'tmc_circuit_state{cluster="edge"} 2',
      'tmc_circuit_state{cluster="east"} 0',
      'tmc_queue_backlog_messages{queue="sync"} 3',
      'tmc_queue_backlog_messages{queue="placement"} 0',
      'tmc_dlq_messages{queue="placement"} 1',
      'tmc_function_invocations_total{function="metrics-rollup",result="ok"} 1',
    ];
    for (const line of expected) expect(text).toContain(line);

    // The rollup stamps every sample with one collection time (NOW): query Prometheus at that time.
    const at = NOW / 1000;
    const read = async (promql: string): Promise<string | undefined> => {
      const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(promql)}&time=${at}`);
      const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
      return body.data.result[0]?.value[1];
    };
    expect(await read('tmc_clusters{state="Unhealthy"}')).toBe('1');
    expect(await read('tmc_objects{state="pending"}')).toBe('1');
    expect(await read('tmc_dlq_messages{queue="placement"}')).toBe('1');
    expect(await read('tmc_oldest_pending_sync_seconds')).toBe('300');
  });

  it('a retried push of one snapshot leaves one sample per series in Prometheus', async () => {
    useSharedMetrics(shared);
    let attempts = 0;
    const deps = buildMetricsRollupDeps(env());
    const flaky = deps.publisher;
    if (flaky === undefined) throw new Error('remote-write is configured in env()');
    const later = NOW + 60_000;
    // The first push reaches Prometheus but its answer is "lost"; the publisher's caller retries the same series.
    const publisher = {
      push: async (series: Parameters<typeof flaky.push>[0]): Promise<void> => {
        attempts += 1;
        await flaky.push(series);
        if (attempts === 1) await flaky.push(series);
      },
    };
    await makeMetricsRollupHandler({ ...deps, publisher, now: () => later })();
    const res = await fetch(
      `${prom.url}/api/v1/query?query=${encodeURIComponent('count_over_time(tmc_dlq_messages{queue="placement"}[30s])')}&time=${later / 1000 + 1}`,
    );
    const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
    expect(body.data.result[0]?.value[1]).toBe('1');
  });
});
