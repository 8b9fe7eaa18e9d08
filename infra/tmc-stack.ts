import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as aps from 'aws-cdk-lib/aws-aps';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { REMOTE_WRITE_ENV } from '../lib/metrics/remote-write-config';
import {
  AUTHORIZER,
  ENV,
  FUNCTION_ACCESS,
  FUNCTIONS,
  QUEUES,
  ROUTES,
  SCHEDULES,
  SYNCER_FEED,
  TABLE,
  type FunctionAccess,
  type FunctionName,
  type QueueName,
} from '../lib/runtime/resources';
import { grantsFor, resolveGrants, type GrantResource } from '../lib/runtime/grants';
import type { TmcConfig } from './config';
import { PrivateNetwork } from './network';
import { Observability } from './observability';
import { SyncerFeedApi } from './syncer-feed';
import { TmcFunction } from './tmc-function';
import { clusterSecretPrefix } from '../lib/api/cluster-credentials';

export interface TmcStackProps extends StackProps {
  config: TmcConfig;
  projectRoot: string;
  /** Functions to build; default every FUNCTIONS entry whose functions/<name>/handler.ts exists. */
  functions: readonly FunctionName[];
}

// Where operators put cluster credentials (per workspace below it): functions that reach clusters may read under it.
export { clusterSecretPrefix };

/**
 * tmc in one stack, built from lib/runtime/resources.ts (the local stack builds from the same file): the state
 * table, the queues with their DLQs, one function per FUNCTIONS entry with exactly the access FUNCTION_ACCESS lists,
 * the event source mappings, the HTTP API with ROUTES behind the token authorizer, the SCHEDULES, the secrets,
 * Prometheus remote-write when asked for, and the dashboard and alarms.
 */
export class TmcStack extends Stack {
  readonly table: dynamodb.Table;
  readonly queues = {} as Record<QueueName, sqs.Queue>;
  readonly dlqs = {} as Record<QueueName, sqs.Queue>;
  readonly functions: Partial<Record<FunctionName, TmcFunction>> = {};
  readonly api: apigwv2.HttpApi;
  readonly observability: Observability;
  readonly stage: string;
  readonly config: TmcConfig;
  /** Set when the context names a VPC (infra/network.ts). */
  readonly network?: PrivateNetwork;
  /** Where Lambda records a scheduled invocation that failed (no retries). */
  readonly scheduleFailures: sqs.Queue;
  /** The pull-mode change feed's WebSocket API (infra/syncer-feed.ts), when its functions are built. */
  readonly syncerFeed?: SyncerFeedApi;

  constructor(scope: Construct, id: string, props: TmcStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.stage = config.stage;
    this.config = config;
    const prefix = `tmc-${config.stage}`;

    // retain: kept on delete and replacement, yet removed when the first deploy rolls back (RetainExceptOnCreate), so a
    // failed first deploy leaves no names behind. destroy: the stage goes with its stack (docs/deploy.md, Teardown).
    const removalPolicy =
      config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    const retained = config.removalPolicy === 'retain';
    this.table = new dynamodb.Table(this, TABLE.id, {
      tableName: `${prefix}-state`,
      partitionKey: { name: TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE.ttlAttribute,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // The table is tmc's memory of what it applied where; losing it on a stack delete would orphan every object,
      // so only a disposable stage lets it go.
      removalPolicy,
      deletionProtection: retained,
    });
    for (const index of TABLE.indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType[index.projection],
      });
    }

    for (const definition of Object.values(QUEUES)) {
      const dlq = new sqs.Queue(this, `${definition.name}-dlq`, {
        queueName: `${prefix}-${definition.name}-dlq`,
        retentionPeriod: Duration.seconds(definition.dlqRetentionSeconds),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      this.dlqs[definition.name] = dlq;
      this.queues[definition.name] = new sqs.Queue(this, `${definition.name}-queue`, {
        queueName: `${prefix}-${definition.name}`,
        visibilityTimeout: Duration.seconds(definition.visibilityTimeoutSeconds),
        retentionPeriod: Duration.seconds(definition.retentionSeconds),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        deadLetterQueue: { queue: dlq, maxReceiveCount: definition.maxReceiveCount },
      });
    }

    this.scheduleFailures = new sqs.Queue(this, 'ScheduleFailures', {
      queueName: `${prefix}-schedule-failures`,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.scheduleFailures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'It is itself a dead-letter destination: failed scheduled invocations, kept for an operator to read',
    });

    // Created empty-ish: the operator puts kcp's kubeconfig in after the deploy (docs/deploy.md).
    const kcpKubeconfig = new secretsmanager.Secret(this, 'KcpKubeconfig', {
      secretName: `tmc/${config.stage}/kcp-kubeconfig`,
      description: "kcp's kubeconfig for tmc (replace the generated value with the kubeconfig's text)",
      removalPolicy,
    });
    // One random token to start with; rotation puts a second one next to it (docs/webhooks.md).
    const webhookTokens = new secretsmanager.Secret(this, 'WebhookTokens', {
      secretName: `tmc/${config.stage}/webhook-tokens`,
      description:
        'Bearer tokens kcp and the clusters present to tmc webhooks: a JSON array, {"tokens": [...]} or comma-separated',
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
      removalPolicy,
    });
    // The HMAC key of Secret content hashes (docs/state.md): generated here, never shown, read by placement and sync-apply.
    const contentKey = new secretsmanager.Secret(this, 'ContentKey', {
      secretName: `tmc/${config.stage}/content-key`,
      description:
        'Key of the HMAC tmc stores for Secret contents instead of a plain hash; replacing it re-applies every Secret once',
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
      removalPolicy,
    });
    Validations.of(contentKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A new key changes every stored Secret hash, so each Secret is re-applied once to every cluster; rotate by hand (docs/state.md) rather than on a schedule',
    });
    for (const secret of [kcpKubeconfig, webhookTokens]) {
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Rotation needs a matching change in kcp and every cluster (admission kubeconfig, kcp credentials), so it is the documented two-token procedure, not a rotation Lambda',
      });
    }

    const ampWorkspace =
      config.prometheusRemoteWrite === 'amp' ? new aps.CfnWorkspace(this, 'Prometheus', { alias: prefix }) : undefined;
    ampWorkspace?.applyRemovalPolicy(removalPolicy);
    const remoteWrite = remoteWriteSettings(config, ampWorkspace, this);

    const environment = { [ENV.stage]: config.stage, [ENV.metricsNamespace]: config.metricsNamespace };
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    const secretArns = {
      'kcp-kubeconfig': kcpKubeconfig.secretArn,
      'webhook-tokens': webhookTokens.secretArn,
      'content-key': contentKey.secretArn,
    };
    const scheduled = new Set(SCHEDULES.map((schedule) => schedule.target));
    if (props.functions.includes(SYNCER_FEED.function))
      this.syncerFeed = new SyncerFeedApi(this, 'SyncerFeed', { prefix, logRetention, removalPolicy });
    // Only the functions that call clusters go into the VPC: the others reach nothing private, and stay off its ENIs.
    this.network =
      config.vpc === undefined
        ? undefined
        : new PrivateNetwork(this, 'Network', { stage: config.stage, config: config.vpc });
    for (const name of props.functions) {
      const network =
        this.network !== undefined && FUNCTION_ACCESS[name].clusterCredentials
          ? this.network.functionNetwork
          : undefined;
      const fn = new TmcFunction(this, `fn-${name}`, {
        definition: FUNCTIONS[name],
        projectRoot: props.projectRoot,
        stage: config.stage,
        logRetention,
        environment,
        removalPolicy,
        network,
      });
      this.functions[name] = fn;
      const access = FUNCTION_ACCESS[name];
      fn.setEnvironment(
        this.environmentFor(access, {
          kcpKubeconfig: kcpKubeconfig.secretArn,
          webhookTokens: webhookTokens.secretArn,
          contentKey: contentKey.secretArn,
          workspaces: config.workspaces,
          remoteWrite: remoteWrite?.variables,
        }),
      );
      fn.applyGrants(
        resolveGrants(grantsFor(name, { scheduled: scheduled.has(name) }), (resource) =>
          this.arnOf(resource, fn, secretArns, remoteWrite?.ampWorkspaceArn),
        ),
      );
      if (access.clusterCredentials) fn.acknowledgeSecretPrefix(clusterSecretPrefix(config.stage));
      if (access.feedConnections) this.syncerFeed?.acknowledgeConnectionsGrant(fn.role);
    }

    for (const definition of Object.values(QUEUES)) {
      const consumer = this.functions[definition.consumer];
      if (consumer === undefined) continue;
      // Its grants cover the queue it consumes (lib/runtime/grants.ts); the URL is for deferring a message's visibility.
      consumer.setEnvironment({ [ENV.queueUrl(definition.name)]: this.queues[definition.name].queueUrl });
      consumer.fn.addEventSource(
        new SqsEventSource(this.queues[definition.name], {
          batchSize: definition.batchSize,
          maxBatchingWindow:
            definition.maximumBatchingWindowSeconds > 0
              ? Duration.seconds(definition.maximumBatchingWindowSeconds)
              : undefined,
          maxConcurrency: config.maxConcurrency[definition.name] ?? definition.maxConcurrency,
          reportBatchItemFailures: true,
        }),
      );
    }

    // Scheduled runs are asynchronous invocations: Lambda would retry a failed one twice more on its own (overlapping
    // the next tick); no retries, and the failed event with its error goes to a queue an operator can read.
    for (const name of new Set(SCHEDULES.map((schedule) => schedule.target))) {
      this.functions[name]?.fn.configureAsyncInvoke({
        retryAttempts: 0,
        onFailure: new destinations.SqsDestination(this.scheduleFailures),
      });
    }
    for (const schedule of SCHEDULES) {
      const target = this.functions[schedule.target];
      if (target === undefined) continue;
      const rate = config.scheduleRates[schedule.name] ?? schedule.rateSeconds;
      if (schedule.exclusive === true && FUNCTIONS[schedule.target].timeoutSeconds >= rate) {
        throw new Error(
          `Schedule ${schedule.name} must never overlap: ${schedule.target}'s timeout must be shorter than its rate (${rate} s)`,
        );
      }
      new events.Rule(this, `schedule-${schedule.name}`, {
        ruleName: `${prefix}-${schedule.name}`,
        description: `tmc ${schedule.name} → ${schedule.target}`,
        schedule: events.Schedule.rate(Duration.seconds(rate)),
        // A missed tick is caught by the next one; retrying a stale sweep only overlaps it with the fresh one.
        targets: [new targets.LambdaFunction(target.fn, { retryAttempts: 0 })],
      });
    }

    this.api = this.createHttpApi(prefix, logRetention, removalPolicy);
    if (this.syncerFeed !== undefined) {
      this.syncerFeed.addRoutes(this.functions, prefix);
      this.functions['virtual-workspace']?.setEnvironment({ [SYNCER_FEED.env.url]: this.syncerFeed.url });
    }

    this.observability = new Observability(this, 'Observability', {
      stage: config.stage,
      namespace: config.metricsNamespace,
      functions: Object.fromEntries(Object.entries(this.functions).map(([name, fn]) => [name, fn.fn])),
      dlqs: this.dlqs,
      syncLagAlarmSeconds: config.syncLagAlarmSeconds,
      errorRateAlarmPercent: config.errorRateAlarmPercent,
      alarmEmail: config.alarmEmail,
      scheduled: SCHEDULES.map((schedule) => schedule.target),
      httpApi: this.api,
      table: this.table,
      tableIndexes: TABLE.indexes.map((index) => index.name),
    });

    new CfnOutput(this, 'ApiUrl', {
      value: this.api.apiEndpoint,
      description: 'tmc HTTP API: pass to `tmc webhooks install --url`',
    });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    if (this.syncerFeed !== undefined)
      new CfnOutput(this, 'SyncerFeedUrl', {
        value: this.syncerFeed.url,
        description: 'the change feed pull-mode syncers connect to (the virtual workspace tells them)',
      });
    for (const name of Object.keys(QUEUES) as QueueName[]) {
      new CfnOutput(this, `${name}QueueUrl`, { value: this.queues[name].queueUrl });
      new CfnOutput(this, `${name}DlqUrl`, { value: this.dlqs[name].queueUrl });
    }
    new CfnOutput(this, 'WebhookTokensSecretArn', {
      value: webhookTokens.secretArn,
      description: 'pass to `tmc webhooks install --token-secret`',
    });
    new CfnOutput(this, 'KcpKubeconfigSecretArn', {
      value: kcpKubeconfig.secretArn,
      description: "put kcp's kubeconfig here",
    });
    new CfnOutput(this, 'ClusterSecretPrefix', {
      value: clusterSecretPrefix(config.stage),
      description: 'name cluster credential secrets under this prefix',
    });
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards/dashboard/${prefix}`,
    });
    new CfnOutput(this, 'ScheduleFailuresQueueUrl', {
      value: this.scheduleFailures.queueUrl,
      description: 'failed scheduled runs (event and error)',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.observability.topic.topicArn });
    if (ampWorkspace !== undefined)
      new CfnOutput(this, 'PrometheusWorkspaceEndpoint', { value: ampWorkspace.attrPrometheusEndpoint });
  }

  /** The variables naming every resource `access` covers (queues consumed are added by their event source). */
  private environmentFor(
    access: FunctionAccess,
    values: {
      kcpKubeconfig: string;
      webhookTokens: string;
      contentKey: string;
      workspaces: string;
      remoteWrite?: Record<string, string>;
    },
  ): Record<string, string> {
    const env: Record<string, string> = {};
    if (access.table !== 'none') env[ENV.tableName] = this.table.tableName;
    for (const queue of [...access.sends, ...access.inspects, ...access.redrives])
      env[ENV.queueUrl(queue)] = this.queues[queue].queueUrl;
    for (const queue of [...access.inspects, ...access.redrives]) env[ENV.dlqUrl(queue)] = this.dlqs[queue].queueUrl;
    if (access.kcp) {
      env[ENV.kcpKubeconfigSecretArn] = values.kcpKubeconfig;
      env[ENV.workspaces] = values.workspaces;
    }
    if (access.webhookTokens) env[ENV.webhookTokensSecretArn] = values.webhookTokens;
    if (access.contentKey) env[ENV.contentKeySecretArn] = values.contentKey;
    if (access.remoteWrite && values.remoteWrite !== undefined) Object.assign(env, values.remoteWrite);
    if (access.feedConnections && this.syncerFeed !== undefined)
      env[SYNCER_FEED.env.endpoint] = this.syncerFeed.endpoint;
    return env;
  }

  /** A grant's resource (lib/runtime/grants.ts) as this stack's ARN; undefined when the stack has no such resource. */
  private arnOf(
    resource: GrantResource,
    fn: TmcFunction,
    secrets: Record<'kcp-kubeconfig' | 'webhook-tokens' | 'content-key', string>,
    ampWorkspaceArn: string | undefined,
  ): string | undefined {
    switch (resource.kind) {
      case 'table':
        return this.table.tableArn;
      case 'index':
        return `${this.table.tableArn}/index/${resource.index}`;
      case 'queue':
        return this.queues[resource.queue].queueArn;
      case 'dlq':
        return this.dlqs[resource.queue].queueArn;
      case 'secret':
        return secrets[resource.secret];
      case 'cluster-secrets':
        // Pseudo parameters rather than the stack's region and account, so the ARN (and its acknowledgement) reads the
        // same whether the stack is environment-agnostic or pinned.
        return `arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:${clusterSecretPrefix(this.stage)}*`;
      case 'prometheus-workspace':
        return ampWorkspaceArn;
      case 'log-group':
        return fn.logGroup.logGroupArn;
      case 'schedule-failures':
        return this.scheduleFailures.queueArn;
      case 'feed-connections':
        return this.syncerFeed?.connectionsArn;
      case 'any':
        return '*';
    }
  }

  private createHttpApi(
    prefix: string,
    logRetention: logs.RetentionDays,
    removalPolicy: RemovalPolicy,
  ): apigwv2.HttpApi {
    const api = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: prefix,
      createDefaultStage: false,
      description: 'tmc webhooks and read APIs',
    });
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      logGroupName: `/aws/http-api/${prefix}`,
      retention: logRetention,
      removalPolicy,
    });
    new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      // Bounds what a flood (or a misbehaving kcp) can cost; kcp's admission traffic is far below it.
      throttle: { rateLimit: 500, burstLimit: 1000 },
      // No headers and no path are logged: the Authorization header and the cluster credential in a status webhook's
      // path must never reach a log (routeKey is the route's template, `/webhooks/status/{cluster}/{credential}`).
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            sourceIp: '$context.identity.sourceIp',
          }),
        ),
      },
    });

    const authorizerFn = this.functions[AUTHORIZER.function];
    const authorizer =
      authorizerFn === undefined
        ? undefined
        : new HttpLambdaAuthorizer('WebhookToken', authorizerFn.fn, {
            authorizerName: `${prefix}-webhook-token`,
            identitySource: ['$request.header.Authorization'],
            responseTypes: [HttpLambdaResponseType.SIMPLE],
            resultsCacheTtl: Duration.seconds(AUTHORIZER.resultsCacheTtlSeconds),
          });
    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    for (const route of ROUTES) {
      const target = this.functions[route.target];
      if (target === undefined) continue;
      let integration = integrations.get(route.target);
      if (integration === undefined) {
        integration = new HttpLambdaIntegration(`${route.target}-integration`, target.fn);
        integrations.set(route.target, integration);
      }
      if (route.authenticated && authorizer === undefined) {
        throw new Error(
          `Route ${route.method} ${route.path} needs authentication but functions/${AUTHORIZER.function} is missing`,
        );
      }
      const [created] = api.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration,
        authorizer: route.authenticated ? authorizer : new apigwv2.HttpNoneAuthorizer(),
      });
      if (!route.authenticated) {
        Validations.of(created).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: route.pathCredential
            ? `${route.method} ${route.path} is authenticated by ingress itself, by the per-cluster credential in the path (managed clusters send no Authorization header)`
            : route.syncerCredential
              ? `${route.method} ${route.path} is authenticated by the virtual-workspace function itself, by the SyncTarget's own syncer credential`
              : `${route.method} ${route.path} is the liveness probe: it answers "ok" without reading any state`,
        });
      }
    }
    return api;
  }
}

interface RemoteWriteSettings {
  variables: Record<string, string>;
  /** Set for Amazon Managed Prometheus: the workspace metrics-rollup may write to. */
  ampWorkspaceArn?: string;
}

const AMP_URL = /^https:\/\/aps-workspaces\.([a-z0-9-]+)\.amazonaws\.com\/workspaces\/(ws-[A-Za-z0-9-]+)\//;

/** Remote-write variables for metrics-rollup (REMOTE_WRITE_ENV), or undefined when remote-write is off. */
function remoteWriteSettings(
  config: TmcConfig,
  amp: aps.CfnWorkspace | undefined,
  stack: Stack,
): RemoteWriteSettings | undefined {
  if (config.prometheusRemoteWrite === 'none') return undefined;
  if (amp !== undefined) {
    return {
      variables: {
        [REMOTE_WRITE_ENV.url]: `${amp.attrPrometheusEndpoint}api/v1/remote_write`,
        [REMOTE_WRITE_ENV.auth]: 'sigv4',
        [REMOTE_WRITE_ENV.region]: stack.region,
      },
      ampWorkspaceArn: amp.attrArn,
    };
  }
  const url = config.prometheusRemoteWrite;
  const existingAmp = AMP_URL.exec(url);
  if (existingAmp === null) return { variables: { [REMOTE_WRITE_ENV.url]: url, [REMOTE_WRITE_ENV.auth]: 'none' } };
  const [, region, workspaceId] = existingAmp;
  return {
    variables: { [REMOTE_WRITE_ENV.url]: url, [REMOTE_WRITE_ENV.auth]: 'sigv4', [REMOTE_WRITE_ENV.region]: region },
    ampWorkspaceArn: stack.formatArn({ service: 'aps', region, resource: 'workspace', resourceName: workspaceId }),
  };
}
