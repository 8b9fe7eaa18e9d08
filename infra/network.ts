import { Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { TmcContext } from './config';

export type VpcConfig = NonNullable<TmcContext['vpc']>;

/** What a function needs to run in the VPC. */
export interface FunctionNetwork {
  vpc: ec2.IVpc;
  subnets: ec2.ISubnet[];
  securityGroups: ec2.ISecurityGroup[];
}

/**
 * The private network the functions that call clusters run in: the operator's VPC and private subnets, one security
 * group of tmc's (all egress, no ingress: Lambda needs none) plus the operator's, and the endpoints that reach AWS
 * without NAT: SQS, Secrets Manager and X-Ray as interface endpoints (only tmc's group may connect to them), DynamoDB
 * as a gateway endpoint on the subnets' route tables.
 */
export class PrivateNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.ISubnet[];
  readonly functionsGroup: ec2.SecurityGroup;
  readonly endpoints: ec2.IVpcEndpoint[] = [];
  private readonly extraGroups: ec2.ISecurityGroup[];

  constructor(scope: Construct, id: string, props: { stage: string; config: VpcConfig }) {
    super(scope, id);
    const { config } = props;
    this.subnets = config.subnets.map((s, i) => ec2.Subnet.fromSubnetAttributes(this, `Subnet${i}`, s));
    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: config.vpcId,
      availabilityZones: [...new Set(config.subnets.map((s) => s.availabilityZone))],
      privateSubnetIds: config.subnets.map((s) => s.subnetId),
      privateSubnetRouteTableIds: config.subnets.map((s) => s.routeTableId),
    });
    this.functionsGroup = new ec2.SecurityGroup(this, 'Functions', {
      vpc: this.vpc,
      description: `tmc ${props.stage} functions that call clusters: outbound only`,
      allowAllOutbound: true,
    });
    this.extraGroups = config.securityGroupIds.map((groupId, i) =>
      ec2.SecurityGroup.fromSecurityGroupId(this, `Extra${i}`, groupId, { mutable: false }),
    );
    if (!config.endpoints) return;
    const endpointGroup = new ec2.SecurityGroup(this, 'Endpoints', {
      vpc: this.vpc,
      description: `tmc ${props.stage} interface endpoints: HTTPS from tmc's functions only`,
      allowAllOutbound: false,
    });
    endpointGroup.addIngressRule(this.functionsGroup, ec2.Port.tcp(443), "HTTPS from tmc's functions");
    const interfaces = {
      Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
      SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      XRay: ec2.InterfaceVpcEndpointAwsService.XRAY,
    };
    for (const [name, service] of Object.entries(interfaces)) {
      this.endpoints.push(
        new ec2.InterfaceVpcEndpoint(this, name, {
          vpc: this.vpc,
          service,
          subnets: { subnets: this.subnets, onePerAz: true },
          securityGroups: [endpointGroup],
          privateDnsEnabled: true,
          open: false,
        }),
      );
    }
    this.endpoints.push(
      new ec2.GatewayVpcEndpoint(this, 'DynamoDb', {
        vpc: this.vpc,
        service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
        subnets: [{ subnets: this.subnets }],
      }),
    );
  }

  /** The VPC settings of every function that runs in it: tmc's security group and the operator's. */
  get functionNetwork(): FunctionNetwork {
    return { vpc: this.vpc, subnets: this.subnets, securityGroups: [this.functionsGroup, ...this.extraGroups] };
  }
}

/** The EC2 actions Lambda performs with a function's role to attach it to its subnets (AWSLambdaVPCAccessExecutionRole's). */
export const VPC_ACCESS_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
] as const;

/** Lets Lambda attach a function with this role to the VPC (inline, not the managed policy cdk-nag flags). */
export function grantVpcAccess(role: iam.Role): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...VPC_ACCESS_ACTIONS], resources: ['*'] }));
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions (added by Tracing.ACTIVE); ec2 Describe* and the network-interface actions Lambda uses to attach the function to its VPC are granted on * as in AWSLambdaVPCAccessExecutionRole',
  });
}
