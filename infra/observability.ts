import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { HealthState } from '../lib/health/cluster-health';
import { metricDefinition, type MetricName } from '../lib/metrics/catalog';
import type { FunctionName, QueueName } from '../lib/runtime/resources';

export interface ObservabilityProps {
  stage: string;
  /** CloudWatch namespace the functions' EMF metrics land in (TMC_METRICS_NAMESPACE). */
  namespace: string;
  functions: Partial<Record<FunctionName, lambda.IFunction>>;
  dlqs: Record<QueueName, sqs.IQueue>;
  syncLagAlarmSeconds: number;
  errorRateAlarmPercent: number;
  alarmEmail?: string;
  /** Targets of schedules: one failed run must not page (their error alarms need two bad periods of three). */
  scheduled: readonly FunctionName[];
  /** The HTTP API the webhooks call: its 4xx and 5xx are alarmed on. */
  httpApi: apigwv2.IHttpApi;
  /** The state table and its GSI names: throttled requests are alarmed on. */
  table: dynamodb.ITable;
  tableIndexes: readonly string[];
}

/** CloudWatch's limit on the metrics one alarm's math expression reads. */
/** Any throttle in two 5-minute periods of three: one blip does not page, a sustained shortage does. */
const ANY_IN_TWO_OF_THREE = {
  threshold: 1,
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
};

const MAX_ALARM_METRICS = 10;
const FIVE_MINUTES = Duration.minutes(5);
const HEALTH_STATES: readonly HealthState[] = ['Healthy', 'Degraded', 'Unhealthy', 'Unknown'];

/**
 * The CloudWatch dashboard and alarms. Metric names are typed against lib/metrics/catalog.ts and their dimensions are
 * the ones Powertools EMF writes: `service` (the emitting function, as lib/runtime/metrics.ts names it) plus the
 * metric's labels. Series whose label values are only known at run time (clusters, resources) are queried with
 * Metrics Insights `SELECT … GROUP BY`; alarms use only series with fixed dimensions, which CloudWatch can alarm on.
 */
export class Observability extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(
    scope: Construct,
    id: string,
    private readonly props: ObservabilityProps,
  ) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Alarms', { topicName: `tmc-${props.stage}-alarms`, enforceSSL: true });
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names and states only, no tmc data; CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key',
    });
    // enforceSSL gives the topic a policy of its own, which replaces SNS's default one that lets the account's services
    // publish: without this statement CloudWatch could not deliver a single alarm. Only alarms of this account.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    if (props.alarmEmail !== undefined)
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    this.createAlarms();
    this.createPlatformAlarms();
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `tmc-${props.stage}`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(...this.widgets());
  }

  /** One series of a catalog metric, with the dimensions EMF gives it: `service` plus every label of the metric. */
  metric(
    name: MetricName,
    service: FunctionName,
    labels: Record<string, string>,
    statistic: string,
    label?: string,
  ): cloudwatch.Metric {
    const def = metricDefinition(name);
    // CloudWatch matches a metric by its whole dimension set: a label left out names a series that never exists.
    const given = Object.keys(labels).sort().join(',');
    const expected = [...def.labels].sort().join(',');
    if (given !== expected)
      throw new Error(
        `Metric ${name} has labels [${expected}], the dashboard gave [${given}] (lib/metrics/catalog.ts)`,
      );
    return new cloudwatch.Metric({
      namespace: this.props.namespace,
      metricName: name,
      dimensionsMap: { service, ...labels },
      statistic,
      period: FIVE_MINUTES,
      label,
    });
  }

  /**
   * A Metrics Insights query over every series of a metric, summed or maxed by one label. The schema lists exactly the
   * metric's dimensions (service + its labels): Metrics Insights matches dimension sets exactly.
   */
  insights(
    name: MetricName,
    aggregate: 'SUM' | 'MAX' | 'AVG',
    groupBy: string,
    label: string,
    where?: string,
  ): cloudwatch.MathExpression {
    const def = metricDefinition(name);
    // `service` is the emitting function, a dimension every EMF metric has: the only grouping a label-less metric has.
    if (groupBy !== 'service' && !def.labels.includes(groupBy))
      throw new Error(`Metric ${name} has no label ${groupBy} to group by (lib/metrics/catalog.ts)`);
    const schema = [`"${this.props.namespace}"`, ...[...def.labels, 'service'].sort()].join(', ');
    const filter = where === undefined ? '' : ` WHERE ${where}`;
    return new cloudwatch.MathExpression({
      expression: `SELECT ${aggregate}(${name}) FROM SCHEMA(${schema})${filter} GROUP BY ${groupBy}`,
      label,
      period: FIVE_MINUTES,
    });
  }

  private alarm(
    id: string,
    props: Omit<cloudwatch.AlarmProps, 'alarmName' | 'actionsEnabled'> & { name: string },
  ): cloudwatch.Alarm {
    const { name, ...rest } = props;
    const alarm = new cloudwatch.Alarm(this, id, { ...rest, alarmName: `tmc-${this.props.stage}-${name}` });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }

  private createAlarms(): void {
    const { props } = this;
    // SQS's own metric, not tmc_dlq_messages: it still works when the metrics rollup itself is what broke.
    for (const [queue, dlq] of Object.entries(props.dlqs)) {
      this.alarm(`Dlq-${queue}`, {
        name: `${queue}-dlq-not-empty`,
        alarmDescription: `Messages reached the ${queue} DLQ: tmc gave up on them after every retry. Read them (aws sqs receive-message), fix the cause, let recovery-sweep redrive them (docs/deploy.md)`,
        metric: dlq.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    // The oldest object not yet applied, rather than the lag of applies that completed: when syncs stall entirely
    // nothing completes, and a completed-lag alarm would go quiet exactly then.
    this.alarm('SyncLag', {
      name: 'sync-lag',
      alarmDescription: `An object has waited more than ${props.syncLagAlarmSeconds} s to be applied on its cluster. Check the dashboard's sync and cluster-health panels and the sync-apply logs`,
      metric: this.metric('tmc_oldest_pending_sync_seconds', 'metrics-rollup', {}, 'Maximum'),
      threshold: props.syncLagAlarmSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm('ClusterUnhealthy', {
      name: 'cluster-unhealthy',
      alarmDescription:
        'At least one registered cluster is Unhealthy. `tmc` health API: GET /health; the dashboard shows which cluster',
      metric: this.metric('tmc_clusters', 'metrics-rollup', { state: 'Unhealthy' }, 'Maximum'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // Lambda's own Errors and Invocations: they include timeouts and crashes, which a function cannot report itself.
    for (const [name, fn] of Object.entries(props.functions)) {
      const rate = new cloudwatch.MathExpression({
        expression: '100 * errors / MAX([errors, invocations])',
        usingMetrics: {
          errors: fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
          invocations: fn.metricInvocations({ period: FIVE_MINUTES, statistic: 'Sum' }),
        },
        label: `${name} error rate (%)`,
        period: FIVE_MINUTES,
      });
      // A schedule runs five times in 5 minutes, so one failed run alone is 20% of them. For schedule targets the rate
      // must be over the threshold in two 5-minute periods of three: a single failure lands in one period only.
      const scheduled = props.scheduled.includes(name as FunctionName);
      this.alarm(`ErrorRate-${name}`, {
        name: `${name}-error-rate`,
        alarmDescription: `More than ${props.errorRateAlarmPercent}% of ${name} invocations failed in ${scheduled ? 'two of three 5-minute periods' : '5 minutes'}. Read its log group (/aws/lambda/tmc-${props.stage}-${name})`,
        metric: rate,
        threshold: props.errorRateAlarmPercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: scheduled ? 3 : 1,
        datapointsToAlarm: scheduled ? 2 : 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
  }

  /**
   * What no tmc metric shows: the webhooks answered with errors (a wrong token makes every admission 401, which kcp
   * ignores with failurePolicy Ignore, so objects silently pass tmc by), functions throttled by the account's
   * concurrency, and the table throttling requests.
   */
  private createPlatformAlarms(): void {
    const { props } = this;
    const requests = props.httpApi.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' });
    const share = (errors: cloudwatch.IMetric, label: string): cloudwatch.MathExpression =>
      // At least 5 requests, so one rejected probe on an idle stack is not 100 %.
      new cloudwatch.MathExpression({
        expression: 'IF(requests >= 5, 100 * errors / requests, 0)',
        usingMetrics: { errors, requests },
        label,
        period: FIVE_MINUTES,
      });
    this.alarm('Api4xx', {
      name: 'api-4xx',
      alarmDescription:
        'More than 10% of webhook and API requests were refused (4xx) in two 5-minute periods running. Usually a token kcp or a cluster presents is not in the webhook token secret: admissions then pass tmc by (failurePolicy Ignore). Read the API access log group (/aws/http-api/tmc-<stage>) for the status and route, and docs/webhooks.md for the token',
      metric: share(props.httpApi.metricClientError({ period: FIVE_MINUTES, statistic: 'Sum' }), 'API 4xx (%)'),
      threshold: 10,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm('Api5xx', {
      name: 'api-5xx',
      alarmDescription: `More than ${props.errorRateAlarmPercent}% of webhook and API requests failed (5xx) in 5 minutes: a function failed or timed out behind the HTTP API. Read the API access log's integrationError and the ingress and api log groups`,
      metric: share(props.httpApi.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }), 'API 5xx (%)'),
      threshold: props.errorRateAlarmPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // Every function's throttles, summed; CloudWatch allows 10 metrics in an alarm, so in as few alarms as that takes
    // (billed per metric either way, and any throttle means the same fix: more account concurrency).
    const throttles = Object.entries(props.functions).map(
      ([name, fn]) => [name, fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum', label: name })] as const,
    );
    for (let start = 0, n = 1; start < throttles.length; start += MAX_ALARM_METRICS, n++) {
      const chunk = throttles.slice(start, start + MAX_ALARM_METRICS);
      const metrics = Object.fromEntries(chunk.map(([, metric], i) => [`t${i}`, metric]));
      this.alarm(n === 1 ? 'LambdaThrottles' : `LambdaThrottles${n}`, {
        name: n === 1 ? 'lambda-throttles' : `lambda-throttles-${n}`,
        alarmDescription: `tmc's functions (${chunk.map(([name]) => name).join(', ')}) were throttled in two 5-minute periods of three: the account's Lambda concurrency is exhausted (Service Quotas: Lambda concurrent executions). Throttled queue batches return to their queue; throttled schedule runs are lost until the next tick`,
        metric: new cloudwatch.MathExpression({
          expression: `SUM([${Object.keys(metrics).join(', ')}])`,
          usingMetrics: metrics,
          label: 'throttled invocations',
          period: FIVE_MINUTES,
        }),
        ...ANY_IN_TWO_OF_THREE,
      });
    }
    // On demand, DynamoDB throttles a burst above twice the previous peak, or a hot partition (table and GSI alike).
    const tableName = props.table.tableName;
    const events = (metricName: string, index?: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap:
          index === undefined ? { TableName: tableName } : { TableName: tableName, GlobalSecondaryIndexName: index },
        statistic: 'Sum',
        period: FIVE_MINUTES,
      });
    const tableEvents: Record<string, cloudwatch.IMetric> = {
      r: events('ReadThrottleEvents'),
      w: events('WriteThrottleEvents'),
    };
    props.tableIndexes.forEach((index, i) => {
      tableEvents[`gr${i}`] = events('ReadThrottleEvents', index);
      tableEvents[`gw${i}`] = events('WriteThrottleEvents', index);
    });
    this.alarm('DynamoThrottles', {
      name: 'dynamodb-throttles',
      alarmDescription:
        'The state table (or its GSI) throttled requests in two 5-minute periods of three. The SDK retries them, but syncs slow down; look for a hot key in CloudWatch Contributor Insights or a burst far above the previous peak',
      metric: new cloudwatch.MathExpression({
        expression: `SUM([${Object.keys(tableEvents).join(', ')}])`,
        usingMetrics: tableEvents,
        label: 'throttle events',
        period: FIVE_MINUTES,
      }),
      ...ANY_IN_TWO_OF_THREE,
    });
  }

  private graph(
    title: string,
    left: cloudwatch.IMetric[],
    right: cloudwatch.IMetric[] = [],
    width = 8,
  ): cloudwatch.GraphWidget {
    return new cloudwatch.GraphWidget({ title, left, right, width, height: 6 });
  }

  private widgets(): cloudwatch.IWidget[] {
    const { props } = this;
    const queues = Object.keys(props.dlqs) as QueueName[];
    const lambdaErrors = Object.entries(props.functions).map(([name, fn]) =>
      fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum', label: name }),
    );
    return [
      new cloudwatch.TextWidget({
        markdown: `# tmc ${props.stage}\nSync, placement, cluster health, errors and dead-letter queues. Metrics: docs/metrics.md`,
        width: 24,
        height: 2,
      }),
      this.graph('Sync throughput by result', [
        this.insights('tmc_sync_operations_total', 'SUM', 'result', 'sync operations'),
      ]),
      this.graph(
        'Sync lag (s)',
        [this.insights('tmc_sync_lag_seconds', 'MAX', 'cluster', 'max lag by cluster')],
        [this.metric('tmc_oldest_pending_sync_seconds', 'metrics-rollup', {}, 'Maximum', 'oldest pending sync')],
      ),
      this.graph(
        'Status back into kcp',
        [
          this.metric('tmc_status_lag_seconds', 'status-up', {}, 'p90', 'status lag p90 (s)'),
          this.metric('tmc_status_lag_seconds', 'status-up', {}, 'Maximum', 'status lag max (s)'),
        ],
        [
          this.insights('tmc_status_updates_total', 'SUM', 'result', 'status updates'),
          this.insights('tmc_status_backstop_repairs_total', 'SUM', 'found', 'backstop repairs'),
        ],
      ),
      this.graph(
        'Placement',
        [this.insights('tmc_placement_decisions_total', 'SUM', 'result', 'decisions')],
        [this.metric('tmc_placement_duration_seconds', 'placement', { result: 'placed' }, 'p99', 'placed p99 (s)')],
      ),
      this.graph(
        'Clusters by health',
        HEALTH_STATES.map((state) => this.metric('tmc_clusters', 'metrics-rollup', { state }, 'Maximum', state)),
      ),
      this.graph(
        'Cluster health and circuits (0 best)',
        [this.insights('tmc_cluster_health_state', 'MAX', 'cluster', 'health state')],
        [this.insights('tmc_circuit_state', 'MAX', 'cluster', 'circuit state')],
      ),
      this.graph(
        'Errors',
        [
          this.insights('tmc_function_invocations_total', 'SUM', 'function', 'failed invocations', "result = 'error'"),
          ...lambdaErrors,
        ],
        [this.insights('tmc_retries_total', 'SUM', 'category', 'retries by category')],
      ),
      this.graph(
        'Dead-letter queues',
        [
          ...queues.map((queue) => this.metric('tmc_dlq_messages', 'metrics-rollup', { queue }, 'Maximum', queue)),
          this.insights('tmc_dlq_arrivals_total', 'SUM', 'queue', 'arrivals'),
        ],
        queues.map((queue) =>
          props.dlqs[queue].metricApproximateNumberOfMessagesVisible({
            period: FIVE_MINUTES,
            statistic: 'Maximum',
            label: `${queue} (SQS)`,
          }),
        ),
      ),
      this.graph(
        'Queues',
        queues.map((queue) =>
          this.metric('tmc_queue_backlog_messages', 'metrics-rollup', { queue }, 'Maximum', `${queue} backlog`),
        ),
        // Set by each consumer from the batch it receives (the rollup cannot read it without receiving).
        [this.insights('tmc_queue_oldest_message_age_seconds', 'MAX', 'queue', 'oldest (s)')],
      ),
      this.graph(
        'Webhooks and enqueues',
        [
          this.insights('tmc_webhook_requests_total', 'SUM', 'code', 'webhook requests by code'),
          this.insights('tmc_admission_enqueue_timeouts_total', 'SUM', 'service', 'admissions allowed without enqueue'),
          this.insights('tmc_admission_enqueue_late_total', 'SUM', 'outcome', 'enqueues after the answer'),
        ],
        [this.insights('tmc_messages_enqueued_total', 'SUM', 'queue', 'enqueued')],
      ),
      this.graph('Objects by sync state', [this.insights('tmc_objects', 'MAX', 'state', 'object-cluster pairs')]),
      // Lambda's own Duration: tmc does not send it again as a custom metric (lib/metrics/emf-policy.ts).
      this.graph(
        'Function duration (ms)',
        Object.entries(props.functions).map(([name, fn]) =>
          fn.metricDuration({ period: FIVE_MINUTES, statistic: 'Maximum', label: `${name} max (ms)` }),
        ),
        Object.entries(props.functions).map(([name, fn]) =>
          fn.metricDuration({ period: FIVE_MINUTES, statistic: 'Average', label: `${name} mean (ms)` }),
        ),
      ),
      this.graph(
        'Recovery',
        [
          this.insights('tmc_recovery_actions_total', 'SUM', 'action', 'actions'),
          this.insights('tmc_recovery_orphan_deletions_total', 'SUM', 'cluster', 'orphans deleted'),
        ],
        [this.insights('tmc_recovery_deletion_holds', 'MAX', 'scope', 'deletion holds waiting')],
      ),
      this.graph('Prometheus remote-write', [
        this.insights('tmc_remote_write_pushes_total', 'SUM', 'result', 'pushes'),
      ]),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    ];
  }
}
