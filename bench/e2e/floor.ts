import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { z } from 'zod';
import {
  ensureQueues,
  ensureTable,
  startLocalDynamo,
  startLocalSqs,
  type LocalDynamo,
  type LocalSqs,
} from '../../lib/local/aws-services';
import { resolveClusters } from '../../lib/local/clusters';
import { findProjectRoot } from '../../lib/local/paths';
import { makeSqsClient } from '../../lib/runtime/aws';
import { startSimulation, type Simulation } from '../../lib/sim';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { countAwsOperationsInThreads } from '../support/aws-op-counter-threads';
import { cpuSplitter } from '../support/cpu-split';
import { BENCH_USER_AGENT, forEachBounded, kcpWriter } from './kcp-writer';
import type { FloorJob } from './floor-pipeline';
import { configMap, deployment, name, NS } from './objects';
import { cpuPerSync, requestsPerSync, type CpuPerSync, type RequestsPerSync } from './per-sync';

/**
 * The floor run: the create phase's work (N Deployments and N ConfigMaps written to kcp, each applied on every
 * cluster, status back for each Deployment) done by the least a correct design needs (floor-pipeline.ts) instead of
 * tmc, on a fresh simulator and fresh emulators with nothing else running, measured the same way (per-thread CPU,
 * requests at the emulators and the simulator). tmc ÷ floor says how far each figure is from its lower bound.
 */

export interface FloorResult {
  objects: number;
  clusters: number;
  /** First kcp write → last status written. */
  convergeMs: number;
  cpu?: CpuPerSync;
  requestsPerSync: RequestsPerSync;
}

const WorkerReply = z.union([
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('done'), ok: z.literal(true) }),
  z.object({ type: z.literal('done'), ok: z.literal(false), error: z.string() }),
]);
const WORKSPACE = 'root:floor';

interface FloorThread {
  run(job: FloorJob): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the pipeline's thread and resolves once its modules are loaded (outside the measured window). */
async function startFloorThread(): Promise<FloorThread> {
  const worker = new Worker(join(findProjectRoot(), 'bench', 'e2e', 'floor-worker.mjs'), { env: { ...process.env } });
  let settle: { resolve: () => void; reject: (err: Error) => void } | undefined;
  const failed = (err: Error): void => settle?.reject(err);
  worker.on('error', failed);
  worker.once('exit', (code) => failed(new Error(`The floor pipeline's thread exited with code ${code}`)));
  const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  worker.on('message', (raw: unknown) => {
    const reply = WorkerReply.parse(raw);
    if (reply.type === 'ready' || reply.ok) settle?.resolve();
    else if ('error' in reply) settle?.reject(new Error(`The floor pipeline failed: ${reply.error}`));
  });
  await ready;
  return {
    run: (job) => {
      const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
      worker.postMessage(job);
      return done;
    },
    stop: async () => {
      await worker.terminate();
    },
  };
}

export async function runFloor(options: {
  objects: number;
  clusters: number;
  latencyMs: number;
  readyDelayMs: number;
  concurrency: number;
}): Promise<FloorResult> {
  const N = options.objects;
  const clusters = resolveClusters(options.clusters).map((c) => ({
    name: c.name,
    labels: {},
    capacity: { cpu: '100000', memory: '100000Gi', pods: 10_000_000 },
  }));
  let sim: Simulation | undefined;
  let dynamo: LocalDynamo | undefined;
  let sqs: LocalSqs | undefined;
  try {
    sim = await startSimulation({
      kcp: { workspaces: [WORKSPACE] },
      clusters,
      latencyMs: options.latencyMs,
      readyDelayMs: options.readyDelayMs,
    });
    [dynamo, sqs] = await Promise.all([startLocalDynamo(), startLocalSqs()]);
    const tableName = 'tmc-floor';
    const dynamoClient = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const sqsClient = makeSqsClient({ region: 'us-east-1', dynamodbEndpoint: undefined, sqsEndpoint: sqs.endpoint });
    await ensureTable(dynamoClient, tableName);
    const queues = await ensureQueues(sqsClient);
    dynamoClient.destroy();
    sqsClient.destroy();
    const kcp = kcpWriter(sim.kcp.serverUrl(WORKSPACE));
    await kcp.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    for (const server of Object.values(sim.clusters))
      await kcpWriter(server.serverUrl()).create('/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: NS },
      });
    const aws = await countAwsOperationsInThreads({ dynamodb: dynamo.thread, sqs: sqs.thread });
    const cpu = cpuSplitter(findProjectRoot());
    const pipeline = await startFloorThread();
    try {
      for (const server of [sim.kcp, ...Object.values(sim.clusters)]) server.requests.reset();
      await aws.reset();
      await cpu?.start();
      const t0 = performance.now();
      await forEachBounded(N, options.concurrency, async (i) => {
        await kcp.create(`/api/v1/namespaces/${NS}/configmaps`, configMap(i));
        await kcp.create(`/apis/apps/v1/namespaces/${NS}/deployments`, deployment(i));
      });
      const objects: FloorJob['objects'] = Array.from({ length: N }, (_, i) => [
        { resource: 'configmaps' as const, name: name(i), body: configMap(i) },
        { resource: 'deployments' as const, name: name(i), body: deployment(i) },
      ]).flat();
      await pipeline.run({
        objects,
        clusters: Object.entries(sim.clusters).map(([n, s]) => ({ name: n, url: s.serverUrl() })),
        kcpUrl: sim.kcp.serverUrl(WORKSPACE),
        namespace: NS,
        dynamodbEndpoint: dynamo.endpoint,
        sqsEndpoint: sqs.endpoint,
        tableName,
        placementQueueUrl: queues.placement.url,
        syncQueueUrl: queues.sync.url,
        readyReplicas: 1, // a Duplicated Deployment of 1 replica: READY counts per copy (docs/syncer.md)
      });
      const convergeMs = Math.round(performance.now() - t0);
      const split = await cpu?.stop();
      const [dynamodb, sqsCounts] = await Promise.all([aws.snapshot('dynamodb'), aws.snapshot('sqs')]);
      const tally = (records: Array<{ verb: string }>): Record<string, number> =>
        records.reduce<Record<string, number>>((out, r) => ({ ...out, [r.verb]: (out[r.verb] ?? 0) + 1 }), {});
      const kcpRecords = sim.kcp.requests
        .entries({ logicalCluster: WORKSPACE })
        .filter((r) => r.userAgent !== BENCH_USER_AGENT && r.namespace === NS);
      const clusterRecords = Object.values(sim.clusters).flatMap((s) =>
        s.requests
          .entries({ namespace: NS })
          .filter((r) => r.resource === 'deployments' || r.resource === 'configmaps'),
      );
      const syncs = 2 * N * clusters.length;
      const served = {
        dynamodb: Object.values(dynamodb.requests).reduce((a, b) => a + b, 0),
        sqs: Object.values(sqsCounts.requests).reduce((a, b) => a + b, 0),
        kube: [sim.kcp, ...Object.values(sim.clusters)].reduce((n, s) => n + s.requests.count(), 0),
      };
      return {
        objects: 2 * N,
        clusters: clusters.length,
        convergeMs,
        ...(split ? { cpu: cpuPerSync(split, syncs, served) } : {}),
        requestsPerSync: requestsPerSync(syncs, {
          dynamodb: dynamodb.requests,
          sqs: sqsCounts.requests,
          sqsByQueue: sqsCounts,
          kcp: tally(kcpRecords),
          clusters: tally(clusterRecords),
        }),
      };
    } finally {
      await pipeline.stop();
      cpu?.close();
      await aws.close();
    }
  } finally {
    await Promise.allSettled([sim?.stop(), dynamo?.stop(), sqs?.stop()]);
  }
}
