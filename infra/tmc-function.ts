import { Aws, Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV, TABLE, TABLE_ACTIONS, type FunctionDefinition, type QueueName } from '../lib/runtime/resources';
import { BUNDLING, bundlingAliasArgs, functionEntry } from './bundling';

export interface TmcFunctionProps {
  definition: FunctionDefinition;
  projectRoot: string;
  stage: string;
  logRetention: logs.RetentionDays;
  /** Variables every function gets (stage, metrics namespace). */
  environment: Record<string, string>;
}


/**
 * One tmc function: the project's defaults (Node.js 22, arm64, esbuild-minified with source maps, X-Ray, its own log
 * group with a retention) and a role that starts with nothing but writing its own log group. Each `bind…` adds the
 * environment variable and the narrowest permission together, so a function can never be told about a resource it may
 * not use, or be allowed one it is not told about.
 */
export class TmcFunction extends Construct {
  readonly fn: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: TmcFunctionProps) {
    super(scope, id);
    const { definition } = props;
    const functionName = `tmc-${props.stage}-${definition.name}`;
    this.logGroup = new logs.LogGroup(this, 'Logs', { logGroupName: `/aws/lambda/${functionName}`, retention: props.logRetention });
    // A role of our own instead of AWSLambdaBasicExecutionRole: that managed policy may write to every log group.
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: `Role of ${functionName}` });
    this.fn = new nodejs.NodejsFunction(this, 'Function', {
      functionName,
      description: definition.description,
      entry: functionEntry(props.projectRoot, definition.name),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: definition.memoryMb,
      timeout: Duration.seconds(definition.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      projectRoot: props.projectRoot,
      depsLockFilePath: `${props.projectRoot}/package-lock.json`,
      environment: {
        ...props.environment,
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: definition.name,
        // Lambda runs Node.js 22; the SDK's Node-version notice only adds noise to every cold start's log.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      bundling: {
        target: BUNDLING.target,
        minify: BUNDLING.minify,
        sourceMap: BUNDLING.sourceMap,
        sourcesContent: BUNDLING.sourcesContent,
        mainFields: [...BUNDLING.mainFields],
        externalModules: [...BUNDLING.externalModules],
        esbuildArgs: bundlingAliasArgs(props.projectRoot),
      },
    });
    this.logGroup.grantWrite(this.role);
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions (added by Tracing.ACTIVE)',
    });
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 is the runtime tmc is built and tested for (middy 6, undici 7); moving to 24 is a deliberate upgrade',
    });
  }

  get functionName(): string {
    return this.fn.functionName;
  }

  /** The state table, read-only or read-write: item operations on the table and its GSI, nothing else. */
  bindTable(table: dynamodb.ITable, access: 'read' | 'read-write'): void {
    this.fn.addEnvironment(ENV.tableName, table.tableName);
    const resources = [table.tableArn, ...TABLE.indexes.map((index) => `${table.tableArn}/index/${index.name}`)];
    const actions = access === 'read' ? [...TABLE_ACTIONS.read] : [...TABLE_ACTIONS.read, ...TABLE_ACTIONS.write];
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
  }

  /** A queue this function sends to. */
  bindQueueSend(name: QueueName, queue: sqs.IQueue): void {
    this.fn.addEnvironment(ENV.queueUrl(name), queue.queueUrl);
    queue.grantSendMessages(this.role);
  }

  /** The queue this function consumes (its event source mapping): its URL, for deferring a message's visibility. */
  bindQueueConsume(name: QueueName, queue: sqs.IQueue): void {
    this.fn.addEnvironment(ENV.queueUrl(name), queue.queueUrl);
    queue.grantConsumeMessages(this.role);
  }

  /** A queue and its DLQ whose depth this function reads (GetQueueAttributes only). */
  bindQueueInspect(name: QueueName, queue: sqs.IQueue, dlq: sqs.IQueue): void {
    this.fn.addEnvironment(ENV.queueUrl(name), queue.queueUrl);
    this.fn.addEnvironment(ENV.dlqUrl(name), dlq.queueUrl);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sqs:GetQueueAttributes'], resources: [queue.queueArn, dlq.queueArn] }));
  }

  /** A DLQ this function drains back into its queue: receive and delete there, send to the queue. */
  bindRedrive(name: QueueName, queue: sqs.IQueue, dlq: sqs.IQueue): void {
    this.bindQueueSend(name, queue);
    this.fn.addEnvironment(ENV.dlqUrl(name), dlq.queueUrl);
    dlq.grantConsumeMessages(this.role);
  }

  /** A secret named by an environment variable (kcp's kubeconfig, the webhook tokens): read it, nothing more. */
  bindSecret(variable: string, secret: secretsmanager.ISecret): void {
    this.fn.addEnvironment(variable, secret.secretArn);
    secret.grantRead(this.role);
  }

  /**
   * Read access to every secret under a name prefix: SyncTargets name their credentials by ARN
   * (`credentials.secretsManagerArn`), and clusters are registered after the stack is deployed.
   */
  bindSecretPrefix(prefix: string): void {
    // Pseudo parameters rather than the stack's region and account, so the ARN (and its acknowledgement) reads the
    // same whether the stack is environment-agnostic or pinned.
    const arn = `arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:${prefix}*`;
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [arn] }));
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}*]`,
      reason: 'Cluster credential secrets are created per cluster after the deploy and named by SyncTargets; read-only access to the tmc name prefix is the narrowest grant that allows that',
    });
  }

  /** Prometheus remote-write: the URL, and for Amazon Managed Prometheus the right to write to that workspace. */
  bindRemoteWrite(variables: Record<string, string>, ampWorkspaceArn?: string): void {
    for (const [name, value] of Object.entries(variables)) this.fn.addEnvironment(name, value);
    if (ampWorkspaceArn !== undefined) {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['aps:RemoteWrite'], resources: [ampWorkspaceArn] }));
    }
  }
}
