import { Aws, Stack, Validations, type CfnResource, type RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SYNCER_FEED, type FunctionName } from '../lib/runtime/resources';
import type { TmcFunction } from './tmc-function';

export interface SyncerFeedApiProps {
  /** `tmc-<stage>`. */
  prefix: string;
  logRetention: logs.RetentionDays;
  removalPolicy: RemovalPolicy;
}

/**
 * The pull-mode change feed in the cloud (SYNCER_FEED, docs/virtual-workspace.md): an API Gateway WebSocket API whose
 * `$connect` goes through the `syncer-feed-authorizer` (the SyncTarget's syncer credential, with the Authorization
 * header and the SyncTarget's query parameters as identity sources) and whose `$connect`, `$disconnect` and `$default`
 * run `syncer-feed`. sync-apply posts to the stage's @connections endpoint (grant `feed-connections` in
 * lib/runtime/grants.ts). Built in two steps: the API exists before the functions (their grants and environment name
 * it), its routes are added once the functions exist.
 */
export class SyncerFeedApi extends Construct {
  readonly api: apigwv2.WebSocketApi;
  readonly stage: apigwv2.WebSocketStage;

  constructor(scope: Construct, id: string, props: SyncerFeedApiProps) {
    super(scope, id);
    this.api = new apigwv2.WebSocketApi(this, 'Api', {
      apiName: `${props.prefix}-syncer-feed`,
      description: "tmc's change feed: pull-mode syncers hold a connection, tmc posts them the work placed on them",
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      logGroupName: `/aws/websocket-api/${props.prefix}-syncer-feed`,
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: SYNCER_FEED.stageName,
      autoDeploy: true,
      // One connection per syncer and a keepalive every few minutes: far below this, which bounds what a flood costs.
      throttle: { rateLimit: 50, burstLimit: 100 },
      // No headers and no query: the Authorization header carries the syncer's credential.
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            routeKey: '$context.routeKey',
            eventType: '$context.eventType',
            status: '$context.status',
            connectionId: '$context.connectionId',
            authorizerError: '$context.authorizer.error',
            integrationError: '$context.integrationErrorMessage',
            sourceIp: '$context.identity.sourceIp',
          }),
        ),
      },
    });
  }

  /** Where syncers connect (`wss://<api>.execute-api.<region>.amazonaws.com/feed`): the view answers it. */
  get url(): string {
    return this.stage.url;
  }

  /** The @connections endpoint (`https://…/feed`) sync-apply posts to. */
  get endpoint(): string {
    return this.stage.callbackUrl;
  }

  /** What `execute-api:ManageConnections` is granted on: posting to any connection of the feed's stage. */
  get connectionsArn(): string {
    return `arn:${Aws.PARTITION}:execute-api:${Aws.REGION}:${Aws.ACCOUNT_ID}:${this.api.apiId}/${SYNCER_FEED.stageName}/POST/@connections/*`;
  }

  /** The role may post to every connection of the stage: connections come and go, their ids are not known in advance. */
  acknowledgeConnectionsGrant(role: iam.IRole): void {
    const apiId = Stack.of(this).getLogicalId(this.api.node.defaultChild as CfnResource);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiId}>/${SYNCER_FEED.stageName}/POST/@connections/*]`,
      reason:
        "Syncers' connection ids are made by API Gateway as they connect; the grant is limited to posting on this API's stage",
    });
  }

  /** Adds the routes, once the feed's functions exist. */
  addRoutes(functions: Partial<Record<FunctionName, TmcFunction>>, prefix: string): void {
    const routes = functions[SYNCER_FEED.function];
    const authorizerFn = functions[SYNCER_FEED.authorizer];
    if (routes === undefined || authorizerFn === undefined)
      throw new Error(
        `The change feed needs functions/${SYNCER_FEED.function} and functions/${SYNCER_FEED.authorizer}`,
      );
    const integration = new WebSocketLambdaIntegration('syncer-feed-integration', routes.fn);
    const authorizer = new WebSocketLambdaAuthorizer('SyncerCredential', authorizerFn.fn, {
      authorizerName: `${prefix}-syncer-credential`,
      identitySource: [
        'route.request.header.Authorization',
        `route.request.querystring.${SYNCER_FEED.query.workspace}`,
        `route.request.querystring.${SYNCER_FEED.query.syncTarget}`,
      ],
    });
    for (const routeKey of SYNCER_FEED.routes) {
      const route = this.api.addRoute(routeKey, {
        integration,
        ...(routeKey === '$connect' ? { authorizer } : {}),
      });
      if (routeKey !== '$connect')
        Validations.of(route).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${routeKey} belongs to a connection its $connect authorizer already admitted (WebSocket APIs authorize $connect only)`,
        });
    }
  }
}
