import { Duration, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionDefinition } from '../lib/runtime/resources';
import { BUNDLING, bundlingAliasArgs, functionEntry } from './bundling';

export interface TmcFunctionProps {
  definition: FunctionDefinition;
  projectRoot: string;
  stage: string;
  logRetention: logs.RetentionDays;
  /** Variables every function gets (stage, metrics namespace). */
  environment: Record<string, string>;
  /** What a stack delete does with its log group (a retained one blocks the next deploy of the stage). */
  removalPolicy: RemovalPolicy;
}


/**
 * One tmc function: the project's defaults (Node.js 22, arm64, esbuild-minified with source maps, X-Ray, its own log
 * group with a retention) and a role that starts with nothing. The stack gives it the environment and, from the same
 * FUNCTION_ACCESS entry, the grants of lib/runtime/grants.ts (`applyGrants`), so a function is never told about a
 * resource it may not use, or allowed one it is not told about.
 */
export class TmcFunction extends Construct {
  readonly fn: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: TmcFunctionProps) {
    super(scope, id);
    const { definition } = props;
    const functionName = `tmc-${props.stage}-${definition.name}`;
    this.logGroup = new logs.LogGroup(this, 'Logs', { logGroupName: `/aws/lambda/${functionName}`, retention: props.logRetention, removalPolicy: props.removalPolicy });
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

  /**
   * The role's permissions: exactly the grants lib/runtime/grants.ts defines for this function, resolved to this
   * stack's ARNs. The local stack enforces the same grants, so what works there is what the role allows.
   */
  applyGrants(grants: ReadonlyArray<{ actions: readonly string[]; resources: string[] }>): void {
    for (const grant of grants) this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...grant.actions], resources: grant.resources }));
  }

  /**
   * Acknowledges the one wildcard resource a role may hold besides X-Ray's: the cluster-credential secret prefix.
   * SyncTargets name their credentials by ARN (`credentials.secretsManagerArn`), and clusters are registered after
   * the stack is deployed.
   */
  acknowledgeSecretPrefix(prefix: string): void {
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}*]`,
      reason: 'Cluster credential secrets are created per cluster after the deploy and named by SyncTargets; read-only access to the tmc name prefix is the narrowest grant that allows that',
    });
  }

  /** Sets an environment variable naming a resource the function's grants cover. */
  setEnvironment(variables: Record<string, string>): void {
    for (const [name, value] of Object.entries(variables)) this.fn.addEnvironment(name, value);
  }
}
