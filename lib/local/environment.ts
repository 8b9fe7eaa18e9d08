import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { makeSqsClient } from '../runtime/aws';
import { QUEUES, TABLE, type QueueDefinition, type QueueName } from '../runtime/resources';
import { DEFAULT_TMC_USER, webhookCredentialsFor } from '../webhooks';
import { ensureQueues, ensureTable, startLocalDynamo, startLocalSqs } from './aws-services';
import { clusterLabels, resolveClusters, type LocalClusterSpec } from './clusters';
import { writeKubeconfig } from './kubeconfig-files';
import type { Log } from '../observability/log';
import { statePaths, type StatePaths } from './paths';
import { startSimulator, type SimulatedEnvironment } from './simulator';

/**
 * What tmc's functions connect to when they run in a process apart from their environment (`tmc chaos`): the
 * DynamoDB and SQS emulators, kcp and the clusters. Killing the functions' process is then what a Lambda crash is:
 * SQS keeps its messages, kcp and the clusters keep their objects. Written as `<state dir>/environment.json` by
 * {@link startLocalEnvironment}; the local stack takes it as `environment` (docs/local-stack.md). No secrets: the
 * kubeconfig files it names are 0600.
 */
export const LocalEnvironmentSchema = z.object({
  dynamodb: z.url(),
  sqs: z.url(),
  region: z.string().min(1),
  table: z.string().min(3),
  kcpUrl: z.url(),
  /** The first is the stack's workspace, the rest its extra workspaces. */
  workspaces: z.array(z.string().min(1)).min(1),
  /** kcp as its user (objects are applied with it); `tmcKcpKubeconfig` is tmc's own identity, for the functions. */
  kcpKubeconfig: z.string().min(1),
  tmcKcpKubeconfig: z.string().min(1),
  clusters: z.array(
    z.object({
      name: z.string().min(1),
      url: z.url(),
      kubeconfig: z.string().min(1),
      labels: z.record(z.string(), z.string()),
      capacity: z.record(z.string(), z.string()).optional(),
    }),
  ),
  pid: z.number().int().positive(),
});
export type LocalEnvironment = z.infer<typeof LocalEnvironmentSchema>;

export function environmentFilePath(stateDir: string): string {
  return join(stateDir, 'environment.json');
}

export function readLocalEnvironment(path: string): LocalEnvironment {
  const parsed = LocalEnvironmentSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success)
    throw new Error(`${path} is not a local environment file: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

/** QUEUES with per-queue changes (tests and the chaos suite shorten visibility timeouts). */
export function queueDefinitions(
  changes: Partial<Record<QueueName, Partial<QueueDefinition>>> = {},
): Record<QueueName, QueueDefinition> {
  return Object.fromEntries(
    (Object.keys(QUEUES) as QueueName[]).map((name) => [name, { ...QUEUES[name], ...(changes[name] ?? {}) }]),
  ) as Record<QueueName, QueueDefinition>;
}

/**
 * A random token in a state-dir file (0600), created on first use: the webhook token (shared by the environment and
 * the stack) and the content key.
 */
export function readOrCreateToken(path: string): string {
  if (existsSync(path)) {
    const token = readFileSync(path, 'utf8').trim();
    if (token !== '') return token;
  }
  const token = randomBytes(32).toString('base64url');
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return token;
}

export interface LocalEnvironmentOptions {
  projectRoot: string;
  stateDir: string;
  /** Every workspace the simulated kcp serves; the first is the stack's. */
  workspaces: string[];
  clusters?: number | string[] | LocalClusterSpec[];
  /**
   * Where tmc's HTTP API will listen (`http://127.0.0.1:<port>`): the simulated servers present the webhook token only
   * to that URL, so the functions' process must start its API there.
   */
  apiUrl: string;
  logger: Log;
  simulator?: { latencyMs?: number; readyDelayMs?: number };
  /** Per-queue changes to QUEUES; the stack connecting to this environment must be given the same. */
  queues?: Partial<Record<QueueName, Partial<QueueDefinition>>>;
  /**
   * Keeps DynamoDB (LevelDB files) and kcp's and the clusters' objects (`save()`, and on stop) in the state dir, so that
   * an environment started again on it, with `resume`, finds them (SQS's messages are not kept: fauxqs is in memory).
   */
  persist?: boolean;
  /** Starts on the ports of the `environment.json` already in the state dir: the URLs tmc's functions hold stay valid. */
  resume?: boolean;
}

export interface RunningLocalEnvironment {
  environment: LocalEnvironment;
  paths: StatePaths;
  simulation: SimulatedEnvironment;
  /** With `persist`: writes kcp's and the clusters' objects now (DynamoDB is on disk already). */
  save(): void;
  stop(): Promise<void>;
}

/** The ports of an environment's endpoints, to start it again where its clients look for it. */
function portsOf(environment: LocalEnvironment): {
  dynamodb: number;
  sqs: number;
  kcp: number;
  clusters: Record<string, number>;
} {
  const port = (url: string): number => Number(new URL(url).port);
  return {
    dynamodb: port(environment.dynamodb),
    sqs: port(environment.sqs),
    kcp: port(environment.kcpUrl),
    clusters: Object.fromEntries(environment.clusters.map((c) => [c.name, port(c.url)])),
  };
}

/**
 * Starts the emulators (in memory) and the simulator, creates the table and queues, writes the kubeconfigs and
 * `environment.json`. tmc's bootstrap (CRDs, webhooks, SyncTargets) is left to the stack that connects to it.
 */
export async function startLocalEnvironment(options: LocalEnvironmentOptions): Promise<RunningLocalEnvironment> {
  const paths = statePaths(options.stateDir);
  mkdirSync(paths.clustersDir, { recursive: true });
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const [workspace, ...extraWorkspaces] = options.workspaces;
  if (workspace === undefined) throw new Error('A local environment needs at least one workspace');
  const ports = options.resume ? portsOf(readLocalEnvironment(environmentFilePath(paths.root))) : undefined;
  const cleanups: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse().splice(0))
      await cleanup().catch((error: unknown) =>
        options.logger.warn('Stopping a part of the environment failed', { error }),
      );
  };
  try {
    const onCrash = (error: Error): void =>
      options.logger.error('A local AWS emulator stopped unexpectedly', { error });
    const dynamo = await startLocalDynamo({
      projectRoot: options.projectRoot,
      onCrash,
      port: ports?.dynamodb,
      path: options.persist ? paths.dynamodb : undefined,
    });
    cleanups.push(() => dynamo.stop());
    const sqsServer = await startLocalSqs({ projectRoot: options.projectRoot, onCrash, port: ports?.sqs });
    cleanups.push(() => sqsServer.stop());
    const dynamoClient = new DynamoDBClient({
      region,
      endpoint: dynamo.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await ensureTable(dynamoClient, TABLE.baseName);
    dynamoClient.destroy();
    const sqs = makeSqsClient({ region, sqsEndpoint: sqsServer.endpoint });
    await ensureQueues(sqs, queueDefinitions(options.queues));
    sqs.destroy();

    const clusters = resolveClusters(options.clusters);
    const simulation = await startSimulator(options.projectRoot, {
      workspace,
      clusters,
      kubeconfigDir: join(paths.root, 'sim'),
      logger: options.logger,
      ...options.simulator,
      ...(options.persist ? { statePath: join(paths.root, 'sim', 'state.json') } : {}),
      ...(ports ? { ports: { kcp: ports.kcp, clusters: ports.clusters } } : {}),
    });
    cleanups.push(() => simulation.stop());
    for (const extra of extraWorkspaces) simulation.handle.kcp.createLogicalCluster(extra);
    const kcpBase = simulation.kcpUrl.replace(/\/+$/, '');
    writeKubeconfig(paths.kcpKubeconfig, { name: workspace, server: `${kcpBase}/clusters/${workspace}` });
    // Kept in the state dir: functions that outlive this environment still hold it in their kubeconfig.
    const tmcToken = readOrCreateToken(join(paths.root, 'tmc-kcp-token'));
    simulation.handle.kcp.registerTokenUser(tmcToken, {
      username: DEFAULT_TMC_USER,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:tmc-system'],
    });
    writeKubeconfig(paths.tmcKcpKubeconfig, {
      name: `tmc@${workspace}`,
      server: `${kcpBase}/clusters/${workspace}`,
      token: tmcToken,
    });
    simulation.setWebhookCredentials(webhookCredentialsFor(options.apiUrl, readOrCreateToken(paths.webhookToken)));

    const environment: LocalEnvironment = {
      dynamodb: dynamo.endpoint,
      sqs: sqsServer.endpoint,
      region,
      table: TABLE.baseName,
      kcpUrl: simulation.kcpUrl,
      workspaces: options.workspaces,
      kcpKubeconfig: paths.kcpKubeconfig,
      tmcKcpKubeconfig: paths.tmcKcpKubeconfig,
      clusters: clusters.map((cluster) => {
        const url = simulation.clusterUrls[cluster.name];
        if (url === undefined) throw new Error(`The simulator did not start cluster ${cluster.name}`);
        const kubeconfig = paths.clusterKubeconfig(cluster.name);
        writeKubeconfig(kubeconfig, { name: cluster.name, server: url });
        return { name: cluster.name, url, kubeconfig, labels: clusterLabels(cluster), capacity: cluster.capacity };
      }),
      pid: process.pid,
    };
    const file = environmentFilePath(paths.root);
    // Written aside and renamed: whoever waits for the file never reads half of it.
    writeFileSync(`${file}.tmp`, `${JSON.stringify(environment, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
    return { environment, paths, simulation, save: () => simulation.save(), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
