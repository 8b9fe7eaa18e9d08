import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SyncMessageSchema, type SyncMessage } from '../../../lib/api/messages';
import type { ObjectRef } from '../../../lib/api/object-ref';
import { DynamoDecisionStore } from '../../../lib/adapters/dynamodb/decision-store';
import { DynamoHealthStore } from '../../../lib/adapters/dynamodb/health-store';
import { SqsWorkQueue } from '../../../lib/adapters/sqs/sqs-work-queue';
import {
  ensureQueues,
  ensureTable,
  startLocalDynamo,
  startLocalSqs,
  type LocalDynamo,
  type LocalQueues,
  type LocalSqs,
} from '../../../lib/local/aws-services';
import { enforceLocalIam, runAs } from '../../../lib/local/iam';
import { createStackLogger } from '../../../lib/local/log';
import { FunctionRuntime } from '../../../lib/local/function-runtime';
import { findProjectRoot } from '../../../lib/local/paths';
import { PromMetrics } from '../../../lib/metrics/prom-metrics';
import { startLocalStack, type LocalStack } from '../../../lib/local/stack';
import { loadConfig, tableNameOf } from '../../../lib/runtime/config';
import { makeDynamoDocumentClient, makeSqsClient } from '../../../lib/runtime/aws';
import { makeSecretsManagerClient } from '../../../lib/runtime/secrets-client';
import { buildPlacementDeps } from '../../../lib/runtime/placement';
import { ENV, FUNCTION_ACCESS, QUEUES, SYNCER_FEED, TABLE, type QueueName } from '../../../lib/runtime/resources';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeFeedConnectionsClient } from '../../../lib/runtime/feed-client';
import { PutCommand } from '@aws-sdk/lib-dynamodb';

/**
 * IAM on the local stack (lib/local/iam.ts) against dynalite and fauxqs: the same deps the functions build, checked
 * against the grants the CDK roles are built from (lib/runtime/grants.ts), with one grant removed at a time.
 */
const ref: ObjectRef = {
  workspace: 'root:default',
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'default',
  name: 'web',
};
const syncMessage: SyncMessage = {
  type: 'sync',
  ref,
  cluster: 'east',
  action: 'apply',
  decisionVersion: 1,
  trace: { traceId: 't-1', enqueuedAt: new Date().toISOString() },
};

let dir: string;
let dynamo: LocalDynamo;
let sqsServer: LocalSqs;
let queues: LocalQueues;
let env: Record<string, string>;
let stopIam: (() => void) | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tmc-iam-'));
  [dynamo, sqsServer] = await Promise.all([startLocalDynamo(), startLocalSqs()]);
  const region = 'us-east-1';
  const admin = new DynamoDBClient({
    region,
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(admin, TABLE.baseName);
  admin.destroy();
  const sqs = makeSqsClient({ region, sqsEndpoint: sqsServer.endpoint });
  queues = await ensureQueues(sqs, QUEUES);
  sqs.destroy();
  const kubeconfig = join(dir, 'kcp.kubeconfig');
  writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: []\n');
  const contentKey = join(dir, 'content-key');
  writeFileSync(contentKey, 'local-content-key\n');
  env = {
    [ENV.contentKeyFile]: contentKey,
    AWS_REGION: region,
    [ENV.stage]: 'local',
    [ENV.tableName]: TABLE.baseName,
    [ENV.dynamodbEndpoint]: dynamo.endpoint,
    [ENV.sqsEndpoint]: sqsServer.endpoint,
    [ENV.kcpKubeconfig]: kubeconfig,
  };
  for (const name of Object.keys(queues) as QueueName[]) {
    env[ENV.queueUrl(name)] = queues[name].url;
    env[ENV.dlqUrl(name)] = queues[name].dlqUrl;
  }
});
afterEach(() => {
  stopIam?.();
  stopIam = undefined;
});
afterAll(async () => {
  await Promise.all([dynamo?.stop(), sqsServer?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

/** The error a failed call ends in, following `cause` through the adapters' own errors. */
async function failure(call: Promise<unknown>): Promise<{ name: string; message: string; httpStatusCode?: number }> {
  let err: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err === undefined) throw new Error('The call succeeded');
  while (err instanceof Error && err.cause !== undefined && !('$metadata' in err)) err = err.cause;
  if (!(err instanceof Error)) throw new Error(`Not an error: ${String(err)}`);
  const metadata = '$metadata' in err ? (err.$metadata as { httpStatusCode?: number }) : {};
  return { name: err.name, message: err.message, httpStatusCode: metadata.httpStatusCode };
}

describe('local IAM', () => {
  it("lets placement's deps do everything its real grants allow", async () => {
    stopIam = enforceLocalIam({ env });
    const deps = buildPlacementDeps(env);
    await runAs('placement', async () => {
      await expect(deps.decisions.getMany([ref])).resolves.toBeInstanceOf(Map);
      await expect(deps.decisions.get(ref)).resolves.toBeUndefined();
      await expect(deps.syncQueue.send([syncMessage])).resolves.toBeUndefined();
    });
  });

  it("fails placement's BatchGetItem with AccessDeniedException once dynamodb:BatchGetItem is removed from its grants", async () => {
    stopIam = enforceLocalIam({
      env,
      adjust: (name, grants) =>
        name === 'placement'
          ? grants.map((g) => ({ ...g, actions: g.actions.filter((a) => a !== 'dynamodb:BatchGetItem') }))
          : grants,
    });
    const deps = buildPlacementDeps(env);
    await runAs('placement', async () => {
      const denied = await failure(deps.decisions.getMany([ref]));
      expect(denied).toMatchObject({ name: 'AccessDeniedException', httpStatusCode: 400 });
      expect(denied.message).toBe(
        `User: arn:aws:sts::000000000000:assumed-role/tmc-local-placement/tmc-local-placement is not authorized to perform: dynamodb:BatchGetItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/${TABLE.baseName} because no identity-based policy allows the dynamodb:BatchGetItem action`,
      );
      // The other reads are still granted.
      await expect(deps.decisions.get(ref)).resolves.toBeUndefined();
    });
  });

  it('fails a send to a queue the function may no longer send to, and only that one', async () => {
    stopIam = enforceLocalIam({ env, access: { placement: { ...FUNCTION_ACCESS.placement, sends: ['placement'] } } });
    const deps = buildPlacementDeps(env);
    await runAs('placement', async () => {
      const denied = await failure(deps.syncQueue.send([syncMessage]));
      expect(denied.name).toBe('AccessDenied');
      expect(denied.message).toContain(`sqs:SendMessage on resource: ${queues.sync.arn}`);
    });
  });

  it('checks each function against its own grants: metrics-rollup reads the table but may not write it', async () => {
    stopIam = enforceLocalIam({ env });
    const doc = makeDynamoDocumentClient({ region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint });
    const store = new DynamoDecisionStore(doc, TABLE.baseName);
    const put = (): Promise<unknown> =>
      doc.send(new PutCommand({ TableName: TABLE.baseName, Item: { pk: 'iam-test', sk: 'x' } }));
    await runAs('metrics-rollup', async () => {
      await expect(store.get(ref)).resolves.toBeUndefined();
      expect((await failure(put())).message).toContain('perform: dynamodb:PutItem on resource');
    });
    await expect(runAs('placement', put)).resolves.toBeDefined();
    // Outside any invocation (the stack's own calls, as Lambda's service makes them) nothing is checked.
    const queue = new SqsWorkQueue<SyncMessage>({
      sqs: makeSqsClient({ region: 'us-east-1', sqsEndpoint: sqsServer.endpoint }),
      queueUrl: queues.sync.url,
      name: 'sync',
      schema: SyncMessageSchema,
    });
    await expect(queue.send([syncMessage])).resolves.toBeUndefined();
    await expect(runAs('metrics-rollup', () => failure(queue.send([syncMessage])))).resolves.toMatchObject({
      name: 'AccessDenied',
    });
  });

  it('lets metrics-rollup record its own component health and nothing else of the table', async () => {
    stopIam = enforceLocalIam({ env });
    const doc = makeDynamoDocumentClient({ region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint });
    const health = new DynamoHealthStore(doc, TABLE.baseName);
    const record = (component: string): Promise<void> =>
      health.recordInvocation(component, { ok: true, at: Date.now() });
    await runAs('metrics-rollup', async () => {
      await expect(record('metrics-rollup')).resolves.toBeUndefined();
      expect((await failure(record('placement'))).message).toContain('perform: dynamodb:UpdateItem on resource');
    });
    await expect(health.getComponent('metrics-rollup')).resolves.toBeDefined();
    await expect(health.getComponent('placement')).resolves.toBeUndefined();
  });

  it("denies reading a secret outside the function's grants before any request leaves the process", async () => {
    stopIam = enforceLocalIam({ env });
    // Credentials are resolved before a request is signed, as in AWS; nothing here reaches Secrets Manager.
    process.env.AWS_ACCESS_KEY_ID = 'local';
    process.env.AWS_SECRET_ACCESS_KEY = 'local';
    const secrets = makeSecretsManagerClient({ region: 'us-east-1' });
    const denied = await runAs('ingress', () =>
      failure(secrets.send(new GetSecretValueCommand({ SecretId: 'tmc/local/clusters/east' }))),
    );
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toContain(
      'secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:000000000000:secret:tmc/local/clusters/east',
    );
  });

  it("lets sync-apply post to the change feed's connections, and no function whose access lacks it", async () => {
    const posts: string[] = [];
    const server = createServer((req, res) => {
      posts.push(`${req.method} ${req.url}`);
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${SYNCER_FEED.stageName}`;
    const post = new PostToConnectionCommand({
      ConnectionId: 'L0SM9cOFvHcCIhw=',
      Data: new TextEncoder().encode('{}'),
    });
    try {
      stopIam = enforceLocalIam({ env });
      const client = makeFeedConnectionsClient({ region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint }, endpoint);
      await runAs('sync-apply', () => client.send(post));
      expect(posts).toEqual(['POST /feed/@connections/L0SM9cOFvHcCIhw%3D']);
      const denied = await runAs('virtual-workspace', () => failure(client.send(post)));
      expect(denied.name).toBe('AccessDeniedException');
      expect(denied.message).toContain(
        'execute-api:ManageConnections on resource: arn:aws:execute-api:us-east-1:000000000000:local/feed/POST/@connections/',
      );
      stopIam();
      stopIam = enforceLocalIam({
        env,
        access: { 'sync-apply': { ...FUNCTION_ACCESS['sync-apply'], feedConnections: false } },
      });
      const reduced = makeFeedConnectionsClient({ region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint }, endpoint);
      expect((await runAs('sync-apply', () => failure(reduced.send(post)))).name).toBe('AccessDeniedException');
      expect(posts).toHaveLength(1);
    } finally {
      server.close();
    }
  });

  it('adds nothing to clients built without the hook (production)', async () => {
    const doc = makeDynamoDocumentClient({ region: 'us-east-1', dynamodbEndpoint: dynamo.endpoint });
    const store = new DynamoDecisionStore(doc, TABLE.baseName);
    expect(doc.middlewareStack.identify().some((m) => m.includes('tmcLocalIam'))).toBe(false);
    await runAs('metrics-rollup', async () => {
      await expect(store.getMany([ref])).resolves.toBeInstanceOf(Map);
    });
  });
});

describe('local IAM in a function thread', () => {
  it("checks the calls of a function running in a worker thread against that function's grants", async () => {
    Object.assign(process.env, env); // a thread copies the environment when it starts
    const runtime = new FunctionRuntime({
      projectRoot: findProjectRoot(),
      region: 'us-east-1',
      logger: createStackLogger({ level: 'silent' }),
      threads: ['ingress'],
      handlerModules: { ingress: join(__dirname, 'fixtures', 'iam-handler.ts') },
      metrics: new PromMetrics(),
      iam: true,
    });
    try {
      // ingress sends to placement and status, never to sync.
      await expect(runtime.invoke('ingress', { queue: 'placement' })).resolves.toBe('sent to placement');
      await expect(runtime.invoke('ingress', { queue: 'sync' })).rejects.toMatchObject({
        name: 'AccessDenied',
        message: expect.stringContaining('tmc-local-ingress is not authorized to perform: sqs:SendMessage'),
      });
    } finally {
      await runtime.stop();
    }
  });
});

describe('local IAM in the local stack', () => {
  let stackDir: string;
  let stack: LocalStack | undefined;
  afterAll(async () => {
    await stack?.stop();
    if (stackDir !== undefined) rmSync(stackDir, { recursive: true, force: true });
  });

  it("checks a function's calls when the stack invokes it, with the access the stack was given", async () => {
    stackDir = mkdtempSync(join(tmpdir(), 'tmc-iam-stack-'));
    const kubeconfig = join(stackDir, 'kcp.kubeconfig');
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: []\n');
    // A handler that writes the table with a client built as the composition roots build theirs.
    const write = async (): Promise<string> => {
      const config = loadConfig(process.env, { table: true });
      await makeDynamoDocumentClient(config).send(
        new PutCommand({ TableName: tableNameOf(config), Item: { pk: 'iam-stack', sk: 'x' } }),
      );
      return 'written';
    };
    stack = await startLocalStack({
      stateDir: join(stackDir, 'state'),
      port: 0,
      kcpKubeconfig: kubeconfig,
      bootstrap: false,
      schedules: false,
      persist: false,
      logger: createStackLogger({ level: 'silent' }),
      handlers: { placement: write, 'sync-apply': write },
      iam: { access: { placement: { ...FUNCTION_ACCESS.placement, table: 'read' } } },
    });
    await expect(stack.invoke('placement', {})).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(stack.invoke('sync-apply', {})).resolves.toBe('written');
  });
});
