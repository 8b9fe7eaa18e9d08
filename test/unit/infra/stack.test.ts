import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, Aws, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { CfnResource } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { METRICS } from '../../../lib/metrics/catalog';
import { isLambdaBuiltIn } from '../../../lib/metrics/emf-policy';
import { REMOTE_WRITE_ENV } from '../../../lib/metrics/remote-write-config';
import { buildVirtualWorkspaceDeps } from '../../../lib/runtime/virtual-workspace';
import { buildApiDeps } from '../../../lib/runtime/api';
import { buildAuthorizerDeps } from '../../../lib/runtime/authorizer';
import { buildHealthProbeDeps } from '../../../lib/runtime/health-probe';
import { buildIngressDeps } from '../../../lib/runtime/ingress';
import { buildMetricsRollupDeps } from '../../../lib/runtime/metrics-rollup';
import { buildPlacementDeps } from '../../../lib/runtime/placement';
import { buildRecoverySweepDeps } from '../../../lib/runtime/recovery-sweep';
import { buildStatusUpDeps } from '../../../lib/runtime/status-up';
import { buildSyncApplyDeps } from '../../../lib/runtime/sync-apply';
import { buildFeedRouteDeps } from '../../../lib/runtime/syncer-feed';
import { buildFeedAuthorizerDeps } from '../../../lib/runtime/syncer-feed-authorizer';
import {
  AUTHORIZER,
  ENV,
  FUNCTION_ACCESS,
  TABLE_ACTIONS,
  FUNCTIONS,
  QUEUES,
  ROUTES,
  activelyTraced,
  SCHEDULES,
  SYNCER_FEED,
  TABLE,
  type FunctionName,
  type QueueName,
} from '../../../lib/runtime/resources';
import { grantsFor, type GrantResource } from '../../../lib/runtime/grants';
import { buildTmcApp, deployableFunctions } from '../../../infra/tmc-app';
import type { TmcStack } from '../../../infra/tmc-stack';

/**
 * The CDK stack as synthesized (bundling skipped, ENVIRONMENT.md): one stack shared by every test in this file.
 * Expectations come from lib/runtime/resources.ts, the same file the local stack builds from.
 */
const projectRoot = resolve(__dirname, '../../..');
const NAMESPACE = 'tmc/test';
let app: App;
let stack: TmcStack;
let template: Template;
let deployed: FunctionName[];

beforeAll(() => {
  app = new App({
    context: {
      'aws:cdk:bundling-stacks': [],
      stage: 'test',
      workspaces: 'root:org:team-a,root:org:team-b',
      // Strings, as `cdk deploy -c key=value` passes them: the config must coerce them.
      maxConcurrency: '{"sync": 50}',
      scheduleRates: '{"health-probe": "120"}',
      syncLagAlarmSeconds: '600',
      alarmEmail: 'ops@example.com',
      prometheusRemoteWrite: 'amp',
    },
  });
  stack = buildTmcApp(app, projectRoot);
  template = Template.fromStack(stack);
  deployed = deployableFunctions(projectRoot);
});

/**
 * The DynamoDB actions lib/ sends: each `new XCommand(` whose class comes from the DynamoDB SDK packages, mapped to its
 * IAM action. The local stack (lib/local) and the simulator create tables, which no deployed function does.
 */
function dynamoActionsSentBy(dir: string): string[] {
  const actions = new Set<string>();
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.ts') && !/^(local|sim)\//.test(f),
  );
  for (const file of files) {
    const source = readFileSync(resolve(dir, file), 'utf8');
    const imported = [
      ...source.matchAll(/import \{([^}]*)\} from '@aws-sdk\/(lib-dynamodb|client-dynamodb)'/g),
    ].flatMap((m) => m[1]!.split(',').map((s) => s.replace('type ', '').trim()));
    for (const [, command] of source.matchAll(/new (\w+)Command\(/g)) {
      if (!imported.includes(`${command}Command`)) continue;
      const base = command!.replace(/Item$/, '');
      actions.add(
        `dynamodb:${['Get', 'Put', 'Update', 'Delete', 'BatchGet', 'BatchWrite'].includes(base) ? `${base}Item` : command}`,
      );
    }
  }
  return [...actions].sort();
}

type Json = Record<string, unknown>;
const logicalId = (construct: { node: { defaultChild?: unknown } }): string =>
  stack.getLogicalId(construct.node.defaultChild as CfnResource);
const fnOf = (name: FunctionName): Json => {
  const fn = stack.functions[name];
  if (!fn) throw new Error(`functions/${name} is not in the stack`);
  return template.toJSON().Resources[logicalId(fn.fn)] as Json;
};
const envOf = (name: FunctionName): Record<string, unknown> =>
  ((fnOf(name).Properties as Json).Environment as { Variables: Record<string, unknown> }).Variables;

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
  Condition?: unknown;
}
/** Every statement of the policies attached to a function's role. */
function statementsOf(name: FunctionName): Statement[] {
  const roleId = logicalId(stack.functions[name]!.role);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{
    Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } };
  }>;
  return policies
    .filter((p) => p.Properties.Roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}
const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement): unknown[] => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
function resourcesFor(name: FunctionName, action: string): string[] {
  return statementsOf(name)
    .filter((s) => actionsOf(s).includes(action))
    .flatMap((s) => resourcesOf(s).map((r) => JSON.stringify(r)));
}
const arnOfQueue = (q: { node: { defaultChild?: unknown } }): string =>
  JSON.stringify({ 'Fn::GetAtt': [logicalId(q), 'Arn'] });
/** The schedules' failure destination in the template. */
const SCHEDULE_FAILURES = (): string => arnOfQueue(stack.scheduleFailures);

describe('functions', () => {
  it('deploys every folder of functions/ and nothing that is not one', () => {
    const folders = readdirSync(resolve(projectRoot, 'functions')).sort();
    expect([...deployed].sort()).toEqual(folders);
    for (const folder of folders) expect(Object.keys(FUNCTIONS)).toContain(folder);
    template.resourceCountIs('AWS::Lambda::Function', folders.length);
  });

  it('wires every function to a route, a queue, a schedule or an authorizer', () => {
    const routeTargets = new Set([...ROUTES.map((r) => r.target), SYNCER_FEED.function, SYNCER_FEED.authorizer]);
    const consumers = new Set(Object.values(QUEUES).map((q) => q.consumer));
    const scheduled = new Set(SCHEDULES.map((s) => s.target));
    const unwired = deployed.filter(
      (n) => !routeTargets.has(n) && !consumers.has(n) && !scheduled.has(n) && n !== AUTHORIZER.function,
    );
    expect(unwired).toEqual([]);
  });

  it.each(Object.values(FUNCTIONS).map((f) => [f.name, f] as const))(
    '%s: Node.js 22 on arm64 with its memory, timeout, tracing and source maps',
    (name, definition) => {
      if (!deployed.includes(name)) return; // declared before its folder exists: left out by design (tested above)
      expect(fnOf(name).Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: definition.memoryMb,
        Timeout: definition.timeoutSeconds,
        Handler: 'index.handler',
        // A scheduled run is no part of a change's trace, and with Active each would be a billed trace.
        TracingConfig: { Mode: activelyTraced(name) ? 'Active' : 'PassThrough' },
        FunctionName: `tmc-test-${name}`,
      });
      if (!activelyTraced(name)) expect(envOf(name)).toMatchObject({ POWERTOOLS_TRACE_ENABLED: 'false' });
      else expect(envOf(name).POWERTOOLS_TRACE_ENABLED).toBeUndefined();
      expect(envOf(name)).toMatchObject({
        NODE_OPTIONS: '--enable-source-maps',
        [ENV.stage]: 'test',
        [ENV.metricsNamespace]: NAMESPACE,
      });
    },
  );

  it('actively traces the message path only: every schedule target, status-up too, is PassThrough', () => {
    const modeOf = (name: FunctionName): unknown => (fnOf(name).Properties as Json).TracingConfig;
    // status-up consumes the status queue but also runs every minute as the status backstop.
    for (const name of ['health-probe', 'recovery-sweep', 'metrics-rollup', 'status-up'] as const)
      expect([name, modeOf(name)]).toEqual([name, { Mode: 'PassThrough' }]);
    for (const name of ['ingress', 'placement', 'sync-apply', 'virtual-workspace'] as const)
      expect([name, modeOf(name)]).toEqual([name, { Mode: 'Active' }]);
  });

  it('tells every function that reads kcp which workspaces to serve', () => {
    for (const name of deployed) {
      expect(envOf(name)[ENV.workspaces]).toBe(
        FUNCTION_ACCESS[name].kcp ? 'root:org:team-a,root:org:team-b' : undefined,
      );
    }
  });

  it('gives every function its own log group with the configured retention', () => {
    for (const name of deployed) {
      template.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: `/aws/lambda/tmc-test-${name}`,
        RetentionInDays: 30,
      });
    }
  });

  // The env the stack sets must satisfy each composition root: the same loadConfig a Lambda cold start runs.
  const builders: Record<FunctionName, (env: Record<string, string>) => unknown> = {
    ingress: buildIngressDeps,
    placement: buildPlacementDeps,
    'sync-apply': buildSyncApplyDeps,
    'status-up': buildStatusUpDeps,
    'health-probe': buildHealthProbeDeps,
    'recovery-sweep': buildRecoverySweepDeps,
    'metrics-rollup': buildMetricsRollupDeps,
    api: buildApiDeps,
    'virtual-workspace': buildVirtualWorkspaceDeps,
    authorizer: buildAuthorizerDeps,
    'syncer-feed': buildFeedRouteDeps,
    'syncer-feed-authorizer': buildFeedAuthorizerDeps,
  };
  it.each(Object.keys(builders) as FunctionName[])(
    '%s: the environment the stack sets is enough for its composition root',
    (name) => {
      if (!deployed.includes(name)) return;
      // CloudFormation references become values of the shape the deployed function would see.
      const env = Object.fromEntries(
        Object.entries(envOf(name)).map(([key, value]) => {
          if (typeof value === 'string') return [key, value];
          if (key === SYNCER_FEED.env.endpoint)
            return [key, `https://a1b2c3.execute-api.eu-west-1.amazonaws.com/${SYNCER_FEED.stageName}`];
          if (key.endsWith('_URL'))
            return [key, `https://sqs.eu-west-1.amazonaws.com/123456789012/${key.toLowerCase()}`];
          if (key.endsWith('_ARN'))
            return [key, `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${key.toLowerCase()}`];
          if (key === REMOTE_WRITE_ENV.url)
            return [key, 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write'];
          return [key, `${key.toLowerCase()}-value`];
        }),
      );
      expect(() => builders[name]({ ...env, AWS_REGION: 'eu-west-1' })).not.toThrow();
    },
  );
});

describe('state table', () => {
  it('is on-demand with point-in-time recovery, TTL and the GSI of TABLE, retained on stack delete', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        TableName: 'tmc-test-state',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
        ],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
        DeletionProtectionEnabled: true,
        GlobalSecondaryIndexes: TABLE.indexes.map((index) => ({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
      },
    });
  });
});

describe('removal policies by stage', () => {
  const STATEFUL = [
    'AWS::DynamoDB::Table',
    'AWS::Logs::LogGroup',
    'AWS::SecretsManager::Secret',
    'AWS::APS::Workspace',
  ];
  const policiesOf = (t: Template): Array<[string, unknown]> =>
    STATEFUL.flatMap((type) =>
      Object.values(t.findResources(type)).map(
        (r) => [type, (r as { DeletionPolicy?: unknown }).DeletionPolicy] as [string, unknown],
      ),
    );

  it('keeps every stateful resource of a non-dev stage on delete, but not after a failed first deploy', () => {
    const policies = policiesOf(template);
    expect(new Set(policies.map(([type]) => type))).toEqual(new Set(STATEFUL));
    for (const [type, policy] of policies) expect([type, policy]).toEqual([type, 'RetainExceptOnCreate']);
  });

  it.each([
    ['the dev stage by default', { stage: 'dev' }],
    ['any stage told removalPolicy=destroy', { stage: 'qa', removalPolicy: 'destroy', prometheusRemoteWrite: 'amp' }],
  ])(
    'destroys the table, log groups and secrets of %s with the stack, so the next deploy finds no leftovers',
    (_, context) => {
      const dev = Template.fromStack(
        buildTmcApp(new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } }), projectRoot),
      );
      const policies = policiesOf(dev);
      expect(policies.length).toBeGreaterThan(deployed.length + 3);
      for (const [type, policy] of policies) expect([type, policy]).toEqual([type, 'Delete']);
      dev.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
    },
  );
});

describe('queues', () => {
  it.each(Object.values(QUEUES).map((q) => [q.name, q] as const))(
    '%s: DLQ and redrive, visibility six times its consumer timeout, encrypted',
    (name, definition) => {
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: `tmc-test-${name}`,
        VisibilityTimeout: FUNCTIONS[definition.consumer].timeoutSeconds * 6,
        MessageRetentionPeriod: definition.retentionSeconds,
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.dlqs[name]), 'Arn'] },
          maxReceiveCount: definition.maxReceiveCount,
        },
      });
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: `tmc-test-${name}-dlq`,
        MessageRetentionPeriod: definition.dlqRetentionSeconds,
        SqsManagedSseEnabled: true,
      });
    },
  );

  it.each(Object.values(QUEUES).map((q) => [q.name, q] as const))(
    '%s: event source mapping with batch size, concurrency and partial batch failures',
    (name, definition) => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.queues[name]), 'Arn'] },
        FunctionName: { Ref: logicalId(stack.functions[definition.consumer]!.fn) },
        BatchSize: definition.batchSize,
        // `-c maxConcurrency={"sync":50}` overrides resources.ts for sync only.
        ScalingConfig: { MaximumConcurrency: name === 'sync' ? 50 : definition.maxConcurrency },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    },
  );
});

describe('least privilege', () => {
  const TABLE_READ: string[] = [...TABLE_ACTIONS.read];
  const TABLE_WRITE: string[] = [...TABLE_ACTIONS.write];

  it('grants every DynamoDB operation the production code sends (derived from its commands, not a copy of the grants)', () => {
    const sent = dynamoActionsSentBy(resolve(projectRoot, 'lib'));
    expect(sent).toContain('dynamodb:BatchGetItem');
    const reads = sent.filter((a) => /:(Get|BatchGet|Query|Scan)/.test(a));
    expect(TABLE_READ).toEqual(expect.arrayContaining(reads));
    expect([...TABLE_READ, ...TABLE_WRITE]).toEqual(expect.arrayContaining(sent));
  });

  /** A grant's resource as the template must name it, resolved here from the stack's constructs, not by the stack. */
  function templateArnOf(name: FunctionName, resource: GrantResource): string | undefined {
    const token = (value: string): string => JSON.stringify(stack.resolve(value));
    const secretRef = (secretName: string): string =>
      JSON.stringify({
        Ref: Object.keys(
          template.findResources('AWS::SecretsManager::Secret', { Properties: { Name: secretName } }),
        )[0],
      });
    switch (resource.kind) {
      case 'table':
        return token(stack.table.tableArn);
      case 'index':
        return token(`${stack.table.tableArn}/index/${resource.index}`);
      case 'queue':
        return arnOfQueue(stack.queues[resource.queue]);
      case 'dlq':
        return arnOfQueue(stack.dlqs[resource.queue]);
      case 'secret':
        return secretRef(`tmc/test/${resource.secret}`);
      case 'cluster-secrets':
        return token(`arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:tmc/test/clusters/*`);
      case 'prometheus-workspace':
        return JSON.stringify({ 'Fn::GetAtt': [Object.keys(template.findResources('AWS::APS::Workspace'))[0], 'Arn'] });
      case 'log-group':
        return token(stack.functions[name]!.logGroup.logGroupArn);
      case 'schedule-failures':
        return SCHEDULE_FAILURES();
      case 'feed-connections':
        return token(
          `arn:${Aws.PARTITION}:execute-api:${Aws.REGION}:${Aws.ACCOUNT_ID}:${stack.syncerFeed!.api.apiId}/${SYNCER_FEED.stageName}/POST/@connections/*`,
        );
      case 'any':
        return JSON.stringify('*');
    }
  }
  const pairs = (entries: Array<{ actions: readonly string[]; resources: readonly string[] }>): string[] =>
    [
      ...new Set(
        entries.flatMap((e) =>
          e.actions.flatMap((action) => e.resources.map((resource) => `${action} on ${resource}`)),
        ),
      ),
    ].sort();

  it.each(Object.keys(FUNCTION_ACCESS) as FunctionName[])(
    '%s: the role allows exactly the grants of lib/runtime/grants.ts, nothing more',
    (name) => {
      if (!deployed.includes(name)) return;
      const scheduled = SCHEDULES.some((schedule) => schedule.target === name);
      const expected = grantsFor(name, { scheduled }).map((grant) => ({
        actions: grant.actions,
        resources: grant.resources
          .map((resource) => templateArnOf(name, resource))
          .filter((arn): arn is string => arn !== undefined),
      }));
      const actual = statementsOf(name).map((s) => {
        expect(s.Effect).toBe('Allow');
        return { actions: actionsOf(s), resources: resourcesOf(s).map((r) => JSON.stringify(r)) };
      });
      expect(pairs(actual)).toEqual(pairs(expected));
    },
  );

  it.each(Object.keys(FUNCTION_ACCESS) as FunctionName[])(
    '%s: only its table actions, on the table and its GSI',
    (name) => {
      if (!deployed.includes(name)) return;
      const access = FUNCTION_ACCESS[name];
      const dynamo = statementsOf(name).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
      // A write limited to the function's own component-health item is a statement of its own, with the condition.
      const ownHealth = dynamo.filter((s) => s.Condition !== undefined);
      const actions = dynamo
        .filter((s) => s.Condition === undefined)
        .flatMap(actionsOf)
        .sort();
      const expected =
        access.table === 'none' ? [] : access.table === 'read' ? TABLE_READ : [...TABLE_READ, ...TABLE_WRITE];
      expect(actions).toEqual([...expected].sort());
      expect(ownHealth.map((s) => [actionsOf(s), s.Condition])).toEqual(
        access.recordsOwnHealth && access.table !== 'read-write'
          ? [
              [
                ['dynamodb:UpdateItem'],
                { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [`COMPONENT#${name}`] } },
              ],
            ]
          : [],
      );
      for (const s of dynamo) {
        expect(JSON.stringify(s.Resource)).not.toContain('"*"');
        expect(JSON.stringify(s.Resource)).not.toContain('index/*');
      }
    },
  );

  it.each(Object.keys(FUNCTION_ACCESS) as FunctionName[])(
    '%s: sends only to its queues, consumes only its own queue',
    (name) => {
      if (!deployed.includes(name)) return;
      const access = FUNCTION_ACCESS[name];
      const sends = access.sends.map((q) => arnOfQueue(stack.queues[q]));
      // Lambda itself sends a failed scheduled run to the schedule-failures queue, with the function's role.
      const failures = SCHEDULES.some((s) => s.target === name) ? [SCHEDULE_FAILURES()] : [];
      expect(new Set(resourcesFor(name, 'sqs:SendMessage'))).toEqual(new Set([...sends, ...failures]));
      const consumed = Object.values(QUEUES)
        .filter((q) => q.consumer === name)
        .map((q) => arnOfQueue(stack.queues[q.name]));
      const drained = access.redrives.map((q) => arnOfQueue(stack.dlqs[q]));
      expect(new Set(resourcesFor(name, 'sqs:ReceiveMessage'))).toEqual(new Set([...consumed, ...drained]));
      expect(new Set(resourcesFor(name, 'sqs:DeleteMessage'))).toEqual(new Set([...consumed, ...drained]));
    },
  );

  it.each(Object.keys(FUNCTION_ACCESS) as FunctionName[])('%s: reads only the secrets it needs', (name) => {
    if (!deployed.includes(name)) return;
    const access = FUNCTION_ACCESS[name];
    const secrets = resourcesFor(name, 'secretsmanager:GetSecretValue');
    const refOf = (id: string): string => JSON.stringify({ Ref: id });
    const kcpId = Object.keys(
      template.findResources('AWS::SecretsManager::Secret', { Properties: { Name: 'tmc/test/kcp-kubeconfig' } }),
    )[0];
    const tokensId = Object.keys(
      template.findResources('AWS::SecretsManager::Secret', { Properties: { Name: 'tmc/test/webhook-tokens' } }),
    )[0];
    expect(secrets.includes(refOf(kcpId))).toBe(access.kcp);
    const contentKeyId = Object.keys(
      template.findResources('AWS::SecretsManager::Secret', { Properties: { Name: 'tmc/test/content-key' } }),
    )[0];
    expect(secrets.includes(refOf(tokensId))).toBe(access.webhookTokens);
    expect(secrets.includes(refOf(contentKeyId))).toBe(access.contentKey);
    expect(secrets.some((s) => s.includes('secret:tmc/test/clusters/*'))).toBe(access.clusterCredentials);
    expect(secrets).toHaveLength(
      Number(access.kcp) + Number(access.webhookTokens) + Number(access.contentKey) + Number(access.clusterCredentials),
    );
    // Never the other way round: no function may write or delete secrets.
    expect(
      statementsOf(name)
        .flatMap(actionsOf)
        .filter(
          (a) =>
            a.startsWith('secretsmanager:') &&
            !['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'].includes(a),
        ),
    ).toEqual([]);
  });

  it('allows "*" only for X-Ray, which has no resource-level permissions', () => {
    for (const name of deployed) {
      const wide = statementsOf(name).filter((s) => resourcesOf(s).includes('*'));
      expect(wide.flatMap(actionsOf).every((a) => a.startsWith('xray:'))).toBe(true);
    }
  });

  it('lets exactly the functions that record metrics write to the Prometheus workspace, and tells them where', () => {
    // From the code: each composition root that builds its metrics with createFunctionMetrics pushes them
    // (lib/runtime/metrics.ts), so each needs the grant and the endpoint.
    const recorders = deployed.filter((name) =>
      readFileSync(resolve(projectRoot, 'lib/runtime', `${name}.ts`), 'utf8').includes('createFunctionMetrics('),
    );
    expect(recorders).toContain('sync-apply');
    const writers = deployed.filter((name) => statementsOf(name).some((s) => actionsOf(s).includes('aps:RemoteWrite')));
    expect(writers.sort()).toEqual(recorders.sort());
    for (const name of recorders) {
      expect(envOf(name)).toMatchObject({ [REMOTE_WRITE_ENV.auth]: 'sigv4' });
      expect(envOf(name)[REMOTE_WRITE_ENV.url]).toBeDefined();
    }
    template.resourceCountIs('AWS::APS::Workspace', 1);
  });
});

describe('HTTP API', () => {
  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s routes to its function, behind the authorizer when authenticated',
    (routeKey, route) => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey,
        AuthorizationType: route.authenticated ? 'CUSTOM' : 'NONE',
        ...(route.authenticated ? { AuthorizerId: Match.anyValue() } : {}),
      });
      // Route → integration → the target function.
      const routes = Object.values(
        template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: routeKey } }),
      ) as Array<{ Properties: { Target: unknown } }>;
      expect(routes).toHaveLength(1);
      const integrationId = /integrations\/","?\{"Ref":"([^"]+)"\}/.exec(
        JSON.stringify(routes[0].Properties.Target),
      )?.[1];
      expect(integrationId).toBeDefined();
      const integration = template.toJSON().Resources[integrationId!] as { Properties: { IntegrationUri: unknown } };
      expect(integration.Properties.IntegrationUri).toEqual({
        'Fn::GetAtt': [logicalId(stack.functions[route.target]!.fn), 'Arn'],
      });
    },
  );

  it('checks the Authorization header with the authorizer function, simple responses, cached as long as the token cache', () => {
    const httpAuthorizer = {
      AuthorizerType: 'REQUEST',
      IdentitySource: ['$request.header.Authorization'],
      EnableSimpleResponses: true,
      AuthorizerPayloadFormatVersion: '2.0',
      AuthorizerResultTtlInSeconds: AUTHORIZER.resultsCacheTtlSeconds,
    };
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', httpAuthorizer);
    const authorizer = Object.values(
      template.findResources('AWS::ApiGatewayV2::Authorizer', { Properties: httpAuthorizer }),
    )[0] as {
      Properties: { AuthorizerUri: unknown };
    };
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(
      logicalId(stack.functions[AUTHORIZER.function]!.fn),
    );
  });

  it('logs access without headers and throttles the default stage', () => {
    const stage = Object.values(
      template.findResources('AWS::ApiGatewayV2::Stage', { Properties: { StageName: '$default' } }),
    )[0] as {
      Properties: { AccessLogSettings: { Format: string }; DefaultRouteSettings: Json; StageName: string };
    };
    expect(stage.Properties.StageName).toBe('$default');
    expect(stage.Properties.DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: 500,
      ThrottlingBurstLimit: 1000,
    });
    expect(stage.Properties.AccessLogSettings.Format).not.toMatch(/header|authorization/i);
    // A managed cluster's status webhook URL carries its credential in the path: no path or URL variable is logged.
    expect(stage.Properties.AccessLogSettings.Format).not.toMatch(
      /\$context\.(path|resourcePath)|\$request\.path|pathParameters|rawPath/,
    );
    expect(ROUTES.filter((r) => r.pathCredential).map((r) => r.path)).toEqual([
      '/webhooks/status/{cluster}/{credential}',
    ]);
  });
});

describe('syncer change feed (WebSocket API)', () => {
  const feed = (): NonNullable<TmcStack['syncerFeed']> => {
    if (stack.syncerFeed === undefined) throw new Error('the stack has no change feed');
    return stack.syncerFeed;
  };
  const apiRef = (): Json => ({ Ref: logicalId(feed().api) });
  const integrationTargetOf = (routeKey: string): unknown => {
    const routes = Object.values(
      template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: routeKey, ApiId: apiRef() } }),
    ) as Array<{ Properties: { Target: unknown } }>;
    expect(routes).toHaveLength(1);
    const integrationId = /integrations\/","?\{"Ref":"([^"]+)"\}/.exec(
      JSON.stringify(routes[0].Properties.Target),
    )?.[1];
    return (template.toJSON().Resources[integrationId!] as { Properties: { IntegrationUri: unknown } }).Properties
      .IntegrationUri;
  };

  it('is a WebSocket API with one auto-deployed, throttled stage whose access log has no header or query', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      Name: 'tmc-test-syncer-feed',
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    });
    const stages = Object.values(
      template.findResources('AWS::ApiGatewayV2::Stage', { Properties: { ApiId: apiRef() } }),
    ) as Array<{ Properties: { StageName: string; AutoDeploy: boolean; AccessLogSettings: { Format: string } } }>;
    expect(stages).toHaveLength(1);
    expect(stages[0].Properties).toMatchObject({ StageName: SYNCER_FEED.stageName, AutoDeploy: true });
    expect(stages[0].Properties.AccessLogSettings.Format).not.toMatch(/header|authorization|querystring/i);
  });

  it.each(SYNCER_FEED.routes.map((r) => [r] as const))('%s runs the syncer-feed function', (routeKey) => {
    expect(integrationTargetOf(routeKey)).toEqual(
      expect.objectContaining({
        'Fn::Join': expect.arrayContaining([
          expect.arrayContaining([{ 'Fn::GetAtt': [logicalId(stack.functions[SYNCER_FEED.function]!.fn), 'Arn'] }]),
        ]),
      }),
    );
  });

  it('admits $connect only through the syncer-credential authorizer, with the credential and SyncTarget as identity sources', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      ApiId: apiRef(),
      RouteKey: '$connect',
      AuthorizationType: 'CUSTOM',
      AuthorizerId: Match.anyValue(),
    });
    for (const routeKey of ['$disconnect', '$default'])
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        ApiId: apiRef(),
        RouteKey: routeKey,
        AuthorizationType: 'NONE',
      });
    const authorizers = Object.values(
      template.findResources('AWS::ApiGatewayV2::Authorizer', { Properties: { ApiId: apiRef() } }),
    ) as Array<{ Properties: Json }>;
    expect(authorizers).toHaveLength(1);
    expect(authorizers[0].Properties).toMatchObject({
      AuthorizerType: 'REQUEST',
      IdentitySource: [
        'route.request.header.Authorization',
        `route.request.querystring.${SYNCER_FEED.query.workspace}`,
        `route.request.querystring.${SYNCER_FEED.query.syncTarget}`,
      ],
    });
    expect(JSON.stringify(authorizers[0].Properties.AuthorizerUri)).toContain(
      logicalId(stack.functions[SYNCER_FEED.authorizer]!.fn),
    );
  });

  it('lets exactly the functions whose access says so post to connections, on this API’s stage only', () => {
    const posters = deployed.filter((name) =>
      statementsOf(name).some((s) => actionsOf(s).includes('execute-api:ManageConnections')),
    );
    expect(posters).toEqual(deployed.filter((name) => FUNCTION_ACCESS[name].feedConnections));
    expect(posters).toContain('sync-apply');
    for (const name of posters) {
      const [resource, ...others] = resourcesFor(name, 'execute-api:ManageConnections');
      expect(others).toEqual([]);
      expect(resource).toContain(JSON.stringify(apiRef()));
      expect(resource).toContain(`/${SYNCER_FEED.stageName}/POST/@connections/*`);
      expect(envOf(name)[SYNCER_FEED.env.endpoint]).toBeDefined();
    }
    expect(JSON.stringify(envOf('virtual-workspace')[SYNCER_FEED.env.url])).toContain(logicalId(feed().api));
  });
});

describe('schedules', () => {
  it.each(SCHEDULES.map((s) => [s.name, s] as const))(
    '%s: an EventBridge rule invoking its target',
    (name, schedule) => {
      const minutes = (name === 'health-probe' ? 120 : schedule.rateSeconds) / 60;
      template.hasResourceProperties('AWS::Events::Rule', {
        Name: `tmc-test-${name}`,
        ScheduleExpression: `rate(${minutes} minute${minutes === 1 ? '' : 's'})`,
        Targets: [
          Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(stack.functions[schedule.target]!.fn), 'Arn'] } }),
        ],
      });
    },
  );
});

describe('schedule runs', () => {
  const targets = [...new Set(SCHEDULES.map((s) => s.target))];

  it.each(targets)(
    '%s: no asynchronous retries by Lambda, failures recorded in the schedule-failures queue',
    (name) => {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalId(stack.functions[name]!.fn) },
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnFailure: { Destination: JSON.parse(arnOfQueue(stack.scheduleFailures)) } },
      });
    },
  );

  it('configures asynchronous invocation only for schedule targets', () => {
    expect(Object.keys(template.findResources('AWS::Lambda::EventInvokeConfig'))).toHaveLength(
      targets.filter((t) => deployed.includes(t)).length,
    );
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'tmc-test-schedule-failures',
      SqsManagedSseEnabled: true,
    });
  });

  it.each(SCHEDULES.filter((s) => s.exclusive).map((s) => [s.name, s] as const))(
    '%s never overlaps itself: its timeout is shorter than its rate',
    (name, schedule) => {
      const rule = Object.values(
        template.findResources('AWS::Events::Rule', { Properties: { Name: `tmc-test-${name}` } }),
      )[0] as { Properties: { ScheduleExpression: string } };
      const [, amount, unit] =
        /^rate\((\d+) (minutes?|seconds?|hours?)\)$/.exec(rule.Properties.ScheduleExpression) ?? [];
      const rateSeconds = Number(amount) * (unit!.startsWith('minute') ? 60 : unit!.startsWith('hour') ? 3600 : 1);
      expect((fnOf(schedule.target).Properties as Json).Timeout).toBeLessThan(rateSeconds);
    },
  );

  it('refuses a stage whose rates would let an exclusive schedule overlap', () => {
    const exclusive = SCHEDULES.find((s) => s.exclusive)!;
    const build = (): unknown =>
      buildTmcApp(new App({ context: { 'aws:cdk:bundling-stacks': [], stage: 'overlap' } }), projectRoot);
    expect(build).not.toThrow();
    const original = FUNCTIONS[exclusive.target].timeoutSeconds;
    FUNCTIONS[exclusive.target].timeoutSeconds = 60;
    try {
      expect(build).toThrow(`Schedule ${exclusive.name} must never overlap`);
    } finally {
      FUNCTIONS[exclusive.target].timeoutSeconds = original;
    }
  });

  it('does not page on one failed scheduled run: schedule targets alarm on two bad 5-minute periods of three', () => {
    for (const name of deployed) {
      const alarm = Object.values(
        template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: `tmc-test-${name}-error-rate` } }),
      )[0] as { Properties: Json };
      const scheduled = targets.includes(name);
      expect(alarm.Properties).toMatchObject(
        scheduled ? { EvaluationPeriods: 3, DatapointsToAlarm: 2 } : { EvaluationPeriods: 1 },
      );
    }
  });
});

describe('alarms and dashboard', () => {
  const catalog = new Set<string>(METRICS.map((m) => m.name));

  it('alarms on every DLQ, sync lag, an Unhealthy cluster and each function error rate, all notifying the topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Array<{ Properties: Json }>;
    const names = alarms.map((a) => a.Properties.AlarmName as string);
    for (const queue of Object.keys(QUEUES)) expect(names).toContain(`tmc-test-${queue}-dlq-not-empty`);
    expect(names).toEqual(
      expect.arrayContaining([
        'tmc-test-sync-lag',
        'tmc-test-cluster-unhealthy',
        ...deployed.map((n) => `tmc-test-${n}-error-rate`),
      ]),
    );
    const topic = { Ref: logicalId(stack.observability.topic) };
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([topic]);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'tmc-test-sync-lag',
      MetricName: 'tmc_oldest_pending_sync_seconds',
      Namespace: NAMESPACE,
      Dimensions: [{ Name: 'service', Value: 'metrics-rollup' }],
      Threshold: 600,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'tmc-test-cluster-unhealthy',
      MetricName: 'tmc_clusters',
      Dimensions: Match.arrayWith([{ Name: 'state', Value: 'Unhealthy' }]),
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('lets CloudWatch alarms of this account publish to the alarm topic, and only over TLS', () => {
    const topicId = logicalId(stack.observability.topic);
    const policies = Object.values(template.findResources('AWS::SNS::TopicPolicy')) as Array<{
      Properties: { Topics: unknown[]; PolicyDocument: { Statement: Json[] } };
    }>;
    const statements = policies
      .filter((p) => JSON.stringify(p.Properties.Topics) === JSON.stringify([{ Ref: topicId }]))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toEqual([
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      }),
    ]);
    expect(statements.filter((s) => s.Effect === 'Deny')).toEqual([
      expect.objectContaining({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);
  });

  interface AlarmMetric {
    Id: string;
    Expression?: string;
    MetricStat?: {
      Metric: { Namespace: string; MetricName: string; Dimensions: Array<{ Name: string; Value: unknown }> };
    };
  }
  const alarmNamed = (name: string): { Properties: Json & { Metrics?: AlarmMetric[] } } => {
    const found = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: name } }));
    expect(found).toHaveLength(1);
    return found[0] as { Properties: Json & { Metrics?: AlarmMetric[] } };
  };
  const statsOf = (alarm: {
    Properties: { Metrics?: AlarmMetric[] };
  }): Array<{ ns: string; name: string; dims: Record<string, string> }> =>
    (alarm.Properties.Metrics ?? []).flatMap((m) =>
      m.MetricStat
        ? [
            {
              ns: m.MetricStat.Metric.Namespace,
              name: m.MetricStat.Metric.MetricName,
              dims: Object.fromEntries(m.MetricStat.Metric.Dimensions.map((d) => [d.Name, JSON.stringify(d.Value)])),
            },
          ]
        : [],
    );

  it.each([
    ['api-4xx', '4xx'],
    ['api-5xx', '5xx'],
  ])('%s: the share of HTTP API requests answered %s, over at least 5 requests', (alarmName, metricName) => {
    const alarm = alarmNamed(`tmc-test-${alarmName}`);
    const apiId = JSON.stringify({ Ref: logicalId(stack.api) });
    expect(statsOf(alarm)).toEqual(
      expect.arrayContaining([
        { ns: 'AWS/ApiGateway', name: metricName, dims: { ApiId: apiId } },
        { ns: 'AWS/ApiGateway', name: 'Count', dims: { ApiId: apiId } },
      ]),
    );
    expect(alarm.Properties.Metrics!.find((m) => m.Expression !== undefined)!.Expression).toContain('requests >= 5');
  });

  it('alarms on throttles of every function, and of the table and its GSI, not on a single period', () => {
    const lambdas = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .map((a) => a as { Properties: Json })
      .filter((a) => /^tmc-test-lambda-throttles(-\d+)?$/.test(String(a.Properties.AlarmName)));
    // CloudWatch refuses an alarm reading more than 10 metrics: every function is covered across as many as needed.
    expect(lambdas.length).toBe(Math.ceil(deployed.length / 10));
    for (const alarm of lambdas) expect(statsOf(alarm).length).toBeLessThanOrEqual(10);
    expect(
      lambdas
        .flatMap(statsOf)
        .map((m) => `${m.ns} ${m.name} ${m.dims.FunctionName}`)
        .sort(),
    ).toEqual(
      deployed
        .map((name) => `AWS/Lambda Throttles ${JSON.stringify({ Ref: logicalId(stack.functions[name]!.fn) })}`)
        .sort(),
    );
    const dynamo = alarmNamed('tmc-test-dynamodb-throttles');
    const table = JSON.stringify({ Ref: logicalId(stack.table) });
    const expected = ['ReadThrottleEvents', 'WriteThrottleEvents'].flatMap((name) => [
      { ns: 'AWS/DynamoDB', name, dims: { TableName: table } },
      ...TABLE.indexes.map((index) => ({
        ns: 'AWS/DynamoDB',
        name,
        dims: { TableName: table, GlobalSecondaryIndexName: JSON.stringify(index.name) },
      })),
    ]);
    expect(statsOf(dynamo)).toEqual(expect.arrayContaining(expected));
    expect(statsOf(dynamo)).toHaveLength(expected.length);
    for (const alarm of [...lambdas, dynamo])
      expect(alarm.Properties).toMatchObject({ EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 1 });
    for (const alarm of lambdas)
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: logicalId(stack.observability.topic) }]);
    const topic = { Ref: logicalId(stack.observability.topic) };
    for (const name of ['api-4xx', 'api-5xx', 'lambda-throttles', 'dynamodb-throttles'])
      expect(alarmNamed(`tmc-test-${name}`).Properties.AlarmActions).toEqual([topic]);
  });

  it('names only metrics in lib/metrics/catalog.ts, with every label as a dimension', () => {
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Array<{
      Properties: Json;
    }>) {
      const name = alarm.Properties.MetricName;
      if (typeof name === 'string' && alarm.Properties.Namespace === NAMESPACE) {
        expect(catalog).toContain(name);
        const dims = (alarm.Properties.Dimensions as Array<{ Name: string }>).map((d) => d.Name).sort();
        expect(dims).toEqual(['service', ...METRICS.find((m) => m.name === name)!.labels].sort());
      }
    }
    const body = dashboardBody();
    const named = new Set([...body.matchAll(/\btmc_[a-z_]+\b/g)].map((m) => m[0]));
    expect([...named].filter((n) => !catalog.has(n))).toEqual([]);
    // The panels issue 7 asks for: sync throughput and lag, placement, cluster health, errors, DLQ.
    for (const needed of [
      'tmc_sync_operations_total',
      'tmc_sync_lag_seconds',
      'tmc_placement_decisions_total',
      'tmc_clusters',
      'tmc_cluster_health_state',
      'tmc_function_invocations_total',
      'tmc_dlq_messages',
    ]) {
      expect(named).toContain(needed);
    }
  });

  it('shows every metric of the catalog on a panel, from CloudWatch EMF or from Lambda where EMF does not send it', () => {
    const body = dashboardBody();
    const named = new Set([...body.matchAll(/\btmc_[a-z_]+\b/g)].map((m) => m[0]));
    // Sent to EMF only as failures (the rest is AWS/Lambda's): a panel for the failures, Lambda's metrics for the rest.
    const neverSent = METRICS.map((m) => m.name).filter((name) => isLambdaBuiltIn(name, {}));
    expect(neverSent).toEqual(['tmc_function_duration_seconds']);
    expect(named.has('tmc_function_duration_seconds')).toBe(false);
    expect(body).toContain('"Duration"');
    expect(body).toMatch(/result = 'error'/);
    expect(METRICS.map((m) => m.name).filter((name) => !named.has(name) && !neverSent.includes(name))).toEqual([]);
  });

  it('reads a fixed-service EMF series only where that function sends it', () => {
    // Each `service` a panel names against what that function records (the queue age is the consumers', not the rollup's).
    const body = JSON.parse(dashboardBody()) as { widgets: Array<{ properties: { metrics?: unknown[][] } }> };
    const series = body.widgets.flatMap((w) => w.properties.metrics ?? []).filter((m) => m[0] === NAMESPACE);
    const pairs = new Set(series.map((m) => `${String(m[1])}@${String(m[m.indexOf('service') + 1])}`));
    expect([...pairs].sort()).toEqual(
      [
        'tmc_clusters@metrics-rollup',
        'tmc_dlq_messages@metrics-rollup',
        'tmc_oldest_pending_sync_seconds@metrics-rollup',
        'tmc_placement_duration_seconds@placement',
        'tmc_queue_backlog_messages@metrics-rollup',
        'tmc_status_lag_seconds@status-up',
      ].sort(),
    );
  });

  it('queries each metric with exactly its dimensions in the stage namespace', () => {
    const body = dashboardBody();
    for (const match of body.matchAll(/SELECT \w+\((tmc_[a-z_]+)\) FROM SCHEMA\(\\"([^"\\]+)\\", ([^)]+)\)/g)) {
      const [, name, namespace, dims] = match;
      expect(namespace).toBe(NAMESPACE);
      expect(dims.split(', ').sort()).toEqual(['service', ...METRICS.find((m) => m.name === name)!.labels].sort());
    }
    expect(body).toMatch(/SELECT SUM\(tmc_sync_operations_total\)/);
  });
});

describe('outputs', () => {
  it('prints what docs/deploy.md uses', () => {
    const outputs = Object.keys(template.toJSON().Outputs as Json);
    expect(outputs).toEqual(
      expect.arrayContaining([
        'ApiUrl',
        'TableName',
        'WebhookTokensSecretArn',
        'KcpKubeconfigSecretArn',
        'ClusterSecretPrefix',
        'DashboardUrl',
        'AlarmTopicArn',
        'PrometheusWorkspaceEndpoint',
        'SyncerFeedUrl',
        ...(Object.keys(QUEUES) as QueueName[]).flatMap((q) => [`${q}QueueUrl`, `${q}DlqUrl`]),
      ]),
    );
  });
});

describe('cdk-nag', () => {
  it('finds nothing unacknowledged in the AwsSolutions pack', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    const findings = report.violations.map(
      (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('finds nothing unacknowledged in a disposable dev stage either', () => {
    const dev = buildTmcApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), projectRoot);
    const report = new AwsSolutionsChecks().validateScope(dev);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('still reports a finding nobody acknowledged (the check is live)', () => {
    const probe = new Stack(new App(), 'probe');
    new sqs.Queue(probe, 'Unencrypted', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    const report = new AwsSolutionsChecks().validateScope(probe);
    expect(report.violations.map((v) => v.ruleName)).toEqual(
      expect.arrayContaining(['AwsSolutions-SQS2', 'AwsSolutions-SQS3', 'AwsSolutions-SQS4']),
    );
  });
});

/** The dashboard's JSON text, with CloudFormation references rendered as placeholders. */
function dashboardBody(): string {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Array<{
    Properties: { DashboardBody: unknown };
  }>;
  expect(dashboards).toHaveLength(1);
  const render = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
    if (join) return join[1].map(render).join(join[0]);
    return '<ref>';
  };
  return render(dashboards[0].Properties.DashboardBody);
}
