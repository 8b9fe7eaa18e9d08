import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { AssetHashType, DockerImage, Duration, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { activelyTraced, type FunctionDefinition } from '../lib/runtime/resources';
import { grantVpcAccess, type FunctionNetwork } from './network';

export interface TmcFunctionProps {
  definition: FunctionDefinition;
  projectRoot: string;
  stage: string;
  logRetention: logs.RetentionDays;
  /** Variables every function gets (stage, metrics namespace). */
  environment: Record<string, string>;
  /** What a stack delete does with its log group (a retained one blocks the next deploy of the stage). */
  removalPolicy: RemovalPolicy;
  /** Runs the function in these private subnets (infra/network.ts); absent: Lambda's own network. */
  network?: FunctionNetwork;
}

/**
 * The function's code: bundled by esbuild on this machine with infra/bundling.ts's options and plugins
 * (infra/bundle-function.ts), which NodejsFunction cannot run (it passes only command-line flags to esbuild). The
 * asset is hashed from the bundle, so a change anywhere the function imports is a new version.
 */
function functionCode(projectRoot: string, name: FunctionDefinition['name']): lambda.Code {
  return lambda.Code.fromAsset(join(projectRoot, 'functions', name), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22'),
      command: [
        'sh',
        '-c',
        'echo "tmc bundles its functions locally (infra/bundle-function.ts); run cdk from the project with its npm dependencies installed" >&2; exit 1',
      ],
      local: {
        tryBundle(outputDir: string): boolean {
          execFileSync(
            process.execPath,
            ['--import', 'tsx', join(projectRoot, 'infra', 'bundle-function-cli.ts'), name, outputDir],
            { cwd: projectRoot, stdio: 'inherit' },
          );
          return true;
        },
      },
    },
  });
}

/**
 * One tmc function: the project's defaults (Node.js 22, arm64, esbuild-minified with source maps, X-Ray, its own log
 * group with a retention) and a role that starts with nothing. The stack gives it the environment and, from the same
 * FUNCTION_ACCESS entry, the grants of lib/runtime/grants.ts (`applyGrants`), so a function is never told about a
 * resource it may not use, or allowed one it is not told about.
 */
export class TmcFunction extends Construct {
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: TmcFunctionProps) {
    super(scope, id);
    const { definition } = props;
    const functionName = `tmc-${props.stage}-${definition.name}`;
    const untraced = !activelyTraced(definition.name);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    // A role of our own instead of AWSLambdaBasicExecutionRole: that managed policy may write to every log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Role of ${functionName}`,
    });
    this.fn = new lambda.Function(this, 'Function', {
      functionName,
      description: definition.description,
      code: functionCode(props.projectRoot, definition.name),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: definition.memoryMb,
      timeout: Duration.seconds(definition.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: untraced ? lambda.Tracing.PASS_THROUGH : lambda.Tracing.ACTIVE,
      ...(props.network === undefined
        ? {}
        : {
            vpc: props.network.vpc,
            vpcSubnets: { subnets: props.network.subnets },
            securityGroups: props.network.securityGroups,
          }),
      environment: {
        ...props.environment,
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: definition.name,
        // Lambda runs Node.js 22; the SDK's Node-version notice only adds noise to every cold start's log.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        // No segment to add to: Powertools then loads no X-Ray SDK (lib/observability/tracing.ts).
        ...(untraced ? { POWERTOOLS_TRACE_ENABLED: 'false' } : {}),
      },
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions (added by Tracing.ACTIVE)',
    });
    if (props.network !== undefined) grantVpcAccess(this.role);
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the runtime tmc is built and tested for (middy 6, undici 7); moving to 24 is a deliberate upgrade',
    });
  }

  get functionName(): string {
    return this.fn.functionName;
  }

  /**
   * The role's permissions: exactly the grants lib/runtime/grants.ts defines for this function, resolved to this
   * stack's ARNs. The local stack enforces the same grants, so what works there is what the role allows.
   */
  applyGrants(
    grants: ReadonlyArray<{ actions: readonly string[]; resources: string[]; leadingKeys?: readonly string[] }>,
  ): void {
    for (const grant of grants) {
      const conditions = grant.leadingKeys
        ? { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [...grant.leadingKeys] } }
        : undefined;
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [...grant.actions],
          resources: grant.resources,
          ...(conditions ? { conditions } : {}),
        }),
      );
    }
  }

  /**
   * Acknowledges the one wildcard resource a role may hold besides X-Ray's: the cluster-credential secret prefix.
   * SyncTargets name their credentials by ARN (`credentials.secretsManagerArn`), and clusters are registered after
   * the stack is deployed.
   */
  acknowledgeSecretPrefix(prefix: string): void {
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}*]`,
      reason:
        'Cluster credential secrets are created per cluster after the deploy and named by SyncTargets; read-only access to the tmc name prefix is the narrowest grant that allows that',
    });
  }

  /** Sets an environment variable naming a resource the function's grants cover. */
  setEnvironment(variables: Record<string, string>): void {
    for (const [name, value] of Object.entries(variables)) this.fn.addEnvironment(name, value);
  }
}
