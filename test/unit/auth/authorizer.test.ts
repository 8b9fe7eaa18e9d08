import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { StaticTokenSource, type TokenSource } from '../../../lib/auth/token-source';
import { WebhookAuthenticator } from '../../../lib/auth/webhook-authenticator';
import { buildAuthorizerDeps, makeAuthorizerHandler } from '../../../lib/runtime/authorizer';
import { loadEvent } from '../../support/events';
import { memoryLog, silentLog } from '../../../lib/observability/log';

function event(headers: Record<string, string>): APIGatewayRequestAuthorizerEventV2 {
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: 'arn:aws:execute-api:eu-west-1:123456789012:api/$default/POST/webhooks/events',
    identitySource: [headers.authorization ?? ''],
    routeKey: 'POST /webhooks/events',
    rawPath: '/webhooks/events',
    rawQueryString: '',
    cookies: [],
    headers,
    queryStringParameters: {},
    requestContext: {} as APIGatewayRequestAuthorizerEventV2['requestContext'],
    pathParameters: {},
    stageVariables: {},
  };
}

describe('HTTP API authorizer', () => {
  const lines: Array<{ level: string; message: string; attributes: Record<string, unknown> }> = [];
  const handler = makeAuthorizerHandler({
    authenticator: new WebhookAuthenticator(new StaticTokenSource(['new-token', 'old-token'])),
    logger: memoryLog(lines),
  });

  it.each<{ name: string; headers: Record<string, string>; authorized: boolean }>([
    { name: 'the current token', headers: { authorization: 'Bearer new-token' }, authorized: true },
    { name: 'the previous token during a rotation', headers: { authorization: 'Bearer old-token' }, authorized: true },
    { name: 'a wrong token', headers: { authorization: 'Bearer nope' }, authorized: false },
    { name: 'a non-bearer scheme', headers: { authorization: 'Basic bmV3LXRva2Vu' }, authorized: false },
    { name: 'no header', headers: {}, authorized: false },
  ])('$name → authorized: $authorized', async ({ headers, authorized }) => {
    await expect(handler(event(headers))).resolves.toEqual({ isAuthorized: authorized });
  });

  it('logs a rejection with the route and reason, never the presented token', async () => {
    lines.length = 0;
    await handler(event({ authorization: 'Bearer secret-guess' }));
    expect(lines.map((l) => l.attributes)).toEqual([{ route: 'POST /webhooks/events', reason: 'invalid-token' }]);
    expect(JSON.stringify(lines)).not.toContain('secret-guess');
  });

  it('fails (500 at the API) instead of denying when the tokens cannot be read', async () => {
    const broken: TokenSource = {
      tokens: () => Promise.reject(new Error('AccessDenied on secret tmc/prod/webhook-tokens')),
    };
    const failing = makeAuthorizerHandler({
      authenticator: new WebhookAuthenticator(broken),
      logger: silentLog,
    });
    await expect(failing(event({ authorization: 'Bearer new-token' }))).rejects.toThrow(/tmc\/prod\/webhook-tokens/);
  });

  it('needs the token secret (or local tokens) in its environment', () => {
    expect(() => buildAuthorizerDeps({})).toThrow(/TMC_WEBHOOK_TOKENS/);
    expect(() =>
      buildAuthorizerDeps({
        TMC_WEBHOOK_TOKENS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:t',
        AWS_REGION: 'eu-west-1',
      }),
    ).not.toThrow();
  });

  it('decides the events/authorizer samples: a bearer token API Gateway forwards, and none', async () => {
    const sampled = makeAuthorizerHandler({
      authenticator: new WebhookAuthenticator(new StaticTokenSource(['sample-webhook-token'])),
      logger: silentLog,
    });
    await expect(
      sampled(loadEvent<APIGatewayRequestAuthorizerEventV2>('authorizer', 'bearer-token.json')),
    ).resolves.toEqual({ isAuthorized: true });
    await expect(
      sampled(loadEvent<APIGatewayRequestAuthorizerEventV2>('authorizer', 'no-token.json')),
    ).resolves.toEqual({ isAuthorized: false });
  });
});
