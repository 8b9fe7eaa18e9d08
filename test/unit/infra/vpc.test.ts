import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FUNCTION_ACCESS, type FunctionName } from '../../../lib/runtime/resources';
import { parseTmcContext } from '../../../infra/config';
import { VPC_ACCESS_ACTIONS } from '../../../infra/network';
import { buildTmcApp } from '../../../infra/tmc-app';
import type { TmcStack } from '../../../infra/tmc-stack';

/** The VPC option (docs/deploy.md, Private clusters): both forms of the stack, synthesized with bundling skipped. */

const projectRoot = resolve(__dirname, '../../..');
const VPC = {
  vpcId: 'vpc-0a1b2c3d',
  subnets: [
    { subnetId: 'subnet-0aa1', availabilityZone: 'eu-west-1a', routeTableId: 'rtb-0aa1' },
    { subnetId: 'subnet-0bb2', availabilityZone: 'eu-west-1b', routeTableId: 'rtb-0bb2' },
  ],
  securityGroupIds: ['sg-0c1d'],
};

function synth(context: Record<string, unknown>): { stack: TmcStack; template: Template } {
  const stack = buildTmcApp(
    new App({ context: { 'aws:cdk:bundling-stacks': [], stage: 'priv', ...context } }),
    projectRoot,
  );
  return { stack, template: Template.fromStack(stack) };
}

type Json = Record<string, unknown>;
const functionsOf = (template: Template): Array<{ name: string; props: Json }> =>
  (Object.values(template.findResources('AWS::Lambda::Function')) as Array<{ Properties: Json }>).map((f) => ({
    name: String(f.Properties.FunctionName).replace('tmc-priv-', ''),
    props: f.Properties,
  }));

describe('with a VPC in the context', () => {
  // As `cdk deploy -c vpc='{…}'` passes it: JSON text.
  const { stack, template } = synth({ vpc: JSON.stringify(VPC) });
  const functions = functionsOf(template);
  const functionsGroup = stack.resolve(stack.network!.functionsGroup.securityGroupId) as unknown;

  it("runs exactly the functions that call clusters in the private subnets, with tmc's and the given security groups", () => {
    const callers = functions.filter((f) => FUNCTION_ACCESS[f.name as FunctionName].clusterCredentials);
    expect(callers.map((f) => f.name).sort()).toEqual(
      expect.arrayContaining(['health-probe', 'placement', 'recovery-sweep', 'status-up', 'sync-apply']),
    );
    for (const f of callers)
      expect(f.props.VpcConfig).toEqual({
        SubnetIds: ['subnet-0aa1', 'subnet-0bb2'],
        SecurityGroupIds: [functionsGroup, 'sg-0c1d'],
      });
    for (const f of functions.filter((f) => !FUNCTION_ACCESS[f.name as FunctionName].clusterCredentials))
      expect(f.props.VpcConfig).toBeUndefined();
  });

  it('lets Lambda attach those functions (their roles hold the network-interface actions), and no other', () => {
    for (const [name, fn] of Object.entries(stack.functions)) {
      const policies = Object.values(
        template.findResources('AWS::IAM::Policy', {
          Properties: { Roles: [stack.resolve(fn!.role.roleName) as unknown] },
        }),
      ) as Array<{ Properties: { PolicyDocument: { Statement: Json[] } } }>;
      const actions = policies
        .flatMap((p) => p.Properties.PolicyDocument.Statement)
        .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
      const expected = FUNCTION_ACCESS[name as FunctionName].clusterCredentials;
      for (const action of VPC_ACCESS_ACTIONS)
        expect({ name, action, granted: actions.includes(action) }).toEqual({ name, action, granted: expected });
    }
  });

  it("reaches SQS, Secrets Manager and X-Ray by interface endpoints only tmc's functions may connect to, DynamoDB by a gateway endpoint", () => {
    const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint')) as Array<{ Properties: Json }>;
    const services = endpoints.map((e) => JSON.stringify(e.Properties.ServiceName));
    for (const service of ['sqs', 'secretsmanager', 'xray']) {
      const endpoint = endpoints.find((e) => JSON.stringify(e.Properties.ServiceName).includes(`.${service}`));
      expect(endpoint?.Properties).toMatchObject({
        VpcEndpointType: 'Interface',
        VpcId: 'vpc-0a1b2c3d',
        PrivateDnsEnabled: true,
        SubnetIds: ['subnet-0aa1', 'subnet-0bb2'],
      });
    }
    const gateway = endpoints.find((e) => JSON.stringify(e.Properties.ServiceName).includes('.dynamodb'));
    expect(gateway?.Properties).toMatchObject({
      VpcEndpointType: 'Gateway',
      VpcId: 'vpc-0a1b2c3d',
      RouteTableIds: ['rtb-0aa1', 'rtb-0bb2'],
    });
    expect(services).toHaveLength(4);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      SourceSecurityGroupId: functionsGroup,
    });
    // Nothing admits the functions themselves, and the endpoints admit nothing from a CIDR.
    template.resourcePropertiesCountIs('AWS::EC2::SecurityGroup', { SecurityGroupIngress: Match.anyValue() }, 0);
  });

  it('creates no endpoints when the VPC has its own (endpoints: false)', () => {
    const own = synth({ vpc: { ...VPC, endpoints: false } }).template;
    own.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    expect(functionsOf(own).filter((f) => f.props.VpcConfig !== undefined).length).toBeGreaterThanOrEqual(5);
  });

  it('finds nothing unacknowledged in the AwsSolutions pack', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(
      report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`),
    ).toEqual([]);
  });
});

describe('without a VPC', () => {
  it("runs every function on Lambda's own network and creates no network resources", () => {
    const { template } = synth({});
    for (const f of functionsOf(template)) expect(f.props.VpcConfig).toBeUndefined();
    for (const type of ['AWS::EC2::VPCEndpoint', 'AWS::EC2::SecurityGroup']) template.resourceCountIs(type, 0);
  });
});

describe('vpc context', () => {
  it.each([
    [{ ...VPC, vpcId: 'my-vpc' }, /vpc.vpcId: a VPC id/],
    [{ ...VPC, subnets: [] }, /vpc.subnets/],
    [{ ...VPC, subnets: [{ subnetId: 'subnet-0aa1', availabilityZone: 'eu-west-1a' }] }, /vpc.subnets.0.routeTableId/],
    [{ ...VPC, securityGroupIds: ['default'] }, /vpc.securityGroupIds.0: a security group id/],
  ])('refuses %j', (vpc, message) => {
    expect(() => parseTmcContext((key) => (key === 'vpc' ? JSON.stringify(vpc) : undefined))).toThrow(message);
  });
});
