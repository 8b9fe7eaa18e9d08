import { AsyncLocalStorage } from 'node:async_hooks';
import type {
  DeserializeHandler,
  DeserializeHandlerArguments,
  DeserializeHandlerOutput,
  MetadataBearer,
} from '@smithy/types';
import { z } from 'zod';
import { useAwsClientHook, type AwsService } from '../runtime/aws-client-hook';
import {
  grantsFor,
  isAllowed,
  resolveGrants,
  type Grant,
  type GrantResource,
  type ResolvedGrant,
} from '../runtime/grants';
import {
  ENV,
  FUNCTION_ACCESS,
  SCHEDULES,
  SYNCER_FEED,
  TABLE,
  type FunctionAccess,
  type FunctionName,
} from '../runtime/resources';

/**
 * IAM on the local stack: dynalite and fauxqs accept any signature, so without this a call the code makes and the
 * function's role lacks would first fail in AWS. Every DynamoDB, SQS and Secrets Manager client a function builds
 * (lib/runtime/aws.ts) gets a middleware that checks the call's action and resource against the function's grants
 * (lib/runtime/grants.ts, the definition the CDK stack builds its roles from) and answers an ungranted call as AWS
 * does: HTTP 400 AccessDeniedException, turned into the SDK's own error by the SDK's deserializer, never retried.
 *
 * The function is the one whose invocation makes the call (`runAs`, set by the function runtime around each
 * invocation, and by each function thread). A call outside any invocation is the stack's own (event source pollers,
 * idle checks) and is not checked, as Lambda's service calls are not made with the function's role.
 */

/** The account the emulators' ARNs use (fauxqs's queues are in it). */
export const LOCAL_ACCOUNT = '000000000000';

const invoking = new AsyncLocalStorage<FunctionName>();

/** Runs `fn` as an invocation of `name`: the AWS calls it makes are checked against that function's grants. */
export function runAs<T>(name: FunctionName, fn: () => T): T {
  return invoking.run(name, fn);
}

/** The function whose invocation is running here, if any. */
export function invokingFunction(): FunctionName | undefined {
  return invoking.getStore();
}

export interface LocalIamOptions {
  /** The functions' environment (table name, queue URLs, stage, region), as the local stack sets it. */
  env: Record<string, string | undefined>;
  /** Access by function instead of FUNCTION_ACCESS (tests remove a grant). */
  access?: Partial<Record<FunctionName, FunctionAccess>>;
  /** Changes a function's grants after they are derived (tests remove one action). */
  adjust?: (name: FunctionName, grants: Grant[]) => Grant[];
}

function queueArnOfUrl(url: string, region: string): string {
  // https://sqs.<region>.amazonaws.com/<account>/<name>, and fauxqs's http://host:port/<account>/<name>
  const [account, name] = new URL(url).pathname
    .split('/')
    .filter((part) => part !== '')
    .slice(-2);
  return `arn:aws:sqs:${region}:${account ?? LOCAL_ACCOUNT}:${name ?? ''}`;
}

/** A grant's resource as the local stack's ARN; undefined for what the local stack does not have. */
function localArnOf(
  env: LocalIamOptions['env'],
  region: string,
  name: FunctionName,
): (resource: GrantResource) => string | undefined {
  const stage = env[ENV.stage] ?? 'local';
  const table = `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT}:table/${env[ENV.tableName] ?? ''}`;
  const queue = (url: string | undefined): string | undefined =>
    url === undefined ? undefined : queueArnOfUrl(url, region);
  const secret = (secretName: string): string =>
    `arn:aws:secretsmanager:${region}:${LOCAL_ACCOUNT}:secret:${secretName}`;
  return (resource) => {
    switch (resource.kind) {
      case 'table':
        return table;
      case 'index':
        return `${table}/index/${resource.index}`;
      case 'queue':
        return queue(env[ENV.queueUrl(resource.queue)]);
      case 'dlq':
        return queue(env[ENV.dlqUrl(resource.queue)]);
      case 'secret':
        // Secrets Manager appends six random characters to a secret's name in its ARN.
        return secret(`tmc/${stage}/${resource.secret}-??????`);
      case 'cluster-secrets':
        return secret(`tmc/${stage}/clusters/*`);
      case 'log-group':
        return `arn:aws:logs:${region}:${LOCAL_ACCOUNT}:log-group:/aws/lambda/tmc-${stage}-${name}:*`;
      case 'feed-connections':
        return `arn:aws:execute-api:${region}:${LOCAL_ACCOUNT}:${LOCAL_FEED_API_ID}/${SYNCER_FEED.stageName}/POST/@connections/*`;
      case 'prometheus-workspace':
      case 'schedule-failures':
        return undefined;
      case 'any':
        return '*';
    }
  };
}

/** Each function's grants as the local stack's ARN patterns. */
export function localGrants(options: LocalIamOptions): Record<FunctionName, ResolvedGrant[]> {
  const region = options.env.AWS_REGION ?? 'us-east-1';
  const scheduled = new Set(SCHEDULES.map((schedule) => schedule.target));
  const grants = {} as Record<FunctionName, ResolvedGrant[]>;
  for (const name of Object.keys(FUNCTION_ACCESS) as FunctionName[]) {
    const access = options.access?.[name] ?? FUNCTION_ACCESS[name];
    const derived = grantsFor(name, { scheduled: scheduled.has(name) }, access);
    grants[name] = resolveGrants(options.adjust?.(name, derived) ?? derived, localArnOf(options.env, region, name));
  }
  return grants;
}

/** An AWS call as IAM sees it: one action on one or more resources (BatchGetItem names every table it reads). */
export interface AwsCall {
  action: string;
  resources: string[];
  /** DynamoDB single-item calls: the item's partition key (what `dynamodb:LeadingKeys` conditions test). */
  leadingKeys?: string[];
}

const KeyAttribute = z.object({ [TABLE.partitionKey]: z.object({ S: z.string() }) });
const DynamoBody = z.object({
  TableName: z.string().optional(),
  IndexName: z.string().optional(),
  RequestItems: z.record(z.string(), z.unknown()).optional(),
  Key: KeyAttribute.optional(),
  Item: KeyAttribute.optional(),
});
const SqsBody = z.object({ QueueUrl: z.string() });
const SecretsBody = z.object({ SecretId: z.string() });
/** IAM authorizes SQS's batch calls as their single-message action. */
const SQS_BATCH_ACTIONS: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

/** The change feed's @connections calls: `/<stage>/@connections/<id>` on the local feed server. */
const CONNECTIONS_PATH = /^\/([^/]+)\/@connections\/([^/]+)$/;

/** The WebSocket API's id in the local stack's execute-api ARNs (the cloud's is API Gateway's). */
export const LOCAL_FEED_API_ID = 'local';

/**
 * The IAM action and resources of a serialized AWS request: a JSON-protocol one by its `x-amz-target` and body, an
 * @connections one (REST) by its method and path.
 */
export function describeCall(
  service: AwsService,
  target: string,
  body: unknown,
  region: string,
  http: { method: string; path: string } = { method: 'POST', path: '/' },
): AwsCall {
  const operation = target.slice(target.lastIndexOf('.') + 1);
  switch (service) {
    case 'execute-api': {
      const [, stage, connectionId] = CONNECTIONS_PATH.exec(http.path) ?? [];
      return {
        action: 'execute-api:ManageConnections',
        resources: [
          `arn:aws:execute-api:${region}:${LOCAL_ACCOUNT}:${LOCAL_FEED_API_ID}/${stage ?? ''}/${http.method}/@connections/${connectionId ?? ''}`,
        ],
      };
    }
    case 'dynamodb': {
      const input = DynamoBody.parse(body);
      const tableArn = (table: string): string =>
        table.startsWith('arn:') ? table : `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT}:table/${table}`;
      const tables =
        input.RequestItems !== undefined
          ? Object.keys(input.RequestItems)
          : input.TableName !== undefined
            ? [input.TableName]
            : [];
      const resources = tables.map((table) =>
        input.IndexName === undefined ? tableArn(table) : `${tableArn(table)}/index/${input.IndexName}`,
      );
      const item = input.Key ?? input.Item;
      return {
        action: `dynamodb:${operation}`,
        resources,
        ...(item ? { leadingKeys: [item[TABLE.partitionKey]!.S] } : {}),
      };
    }
    case 'sqs':
      return {
        action: `sqs:${SQS_BATCH_ACTIONS[operation] ?? operation}`,
        resources: [queueArnOfUrl(SqsBody.parse(body).QueueUrl, region)],
      };
    case 'secretsmanager': {
      const id = SecretsBody.parse(body).SecretId;
      // A name stands for the secret's ARN, which ends in six random characters.
      return {
        action: `secretsmanager:${operation}`,
        resources: [
          id.startsWith('arn:') ? id : `arn:aws:secretsmanager:${region}:${LOCAL_ACCOUNT}:secret:${id}-xxxxxx`,
        ],
      };
    }
  }
}

/** The message AWS gives for a call no identity-based policy allows. */
export function accessDeniedMessage(name: FunctionName, stage: string, action: string, resource: string): string {
  const role = `tmc-${stage}-${name}`;
  return `User: arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/${role}/${role} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;
}

/**
 * What the gate reads of the signed request; built once (a zod schema is compiled on its first parse, so one built
 * per request costs that compilation on every call). The headers as an object with the one header read: a record
 * schema would check, and copy, every header.
 */
const SignedRequest = z.object({
  headers: z.looseObject({ 'x-amz-target': z.string().optional() }),
  body: z.unknown(),
  method: z.string(),
  path: z.string(),
});
const utf8 = new TextDecoder();

/** A middleware at the innermost place of the SDK's stack (after the deserializer): it sees the signed request. */
function gate(service: AwsService, grants: Record<FunctionName, ResolvedGrant[]>, region: string, stage: string) {
  return (next: DeserializeHandler<object, MetadataBearer>) =>
    async (args: DeserializeHandlerArguments<object>): Promise<DeserializeHandlerOutput<MetadataBearer>> => {
      const name = invokingFunction();
      if (name === undefined) return next(args);
      const request = SignedRequest.parse(args.request);
      const target = request.headers['x-amz-target'] ?? '';
      const text =
        typeof request.body === 'string'
          ? request.body
          : request.body instanceof Uint8Array
            ? utf8.decode(request.body)
            : '{}';
      // An @connections post's body is the frame itself, not a request document.
      const call = describeCall(service, target, service === 'execute-api' ? {} : JSON.parse(text), region, request);
      const denied = call.resources.find(
        (resource) => !isAllowed(grants[name], call.action, resource, call.leadingKeys),
      );
      if (denied === undefined) return next(args);
      const message = accessDeniedMessage(name, stage, call.action, denied);
      const body = new TextEncoder().encode(
        JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message }),
      );
      const headers: Record<string, string> = {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-errortype': 'AccessDeniedException',
        'x-amzn-requestid': 'local-iam',
      };
      // SQS's JSON protocol also names the error its query API used, which the SDK reports; API Gateway's REST
      // @connections API answers 403 with the error type in the header.
      if (service === 'execute-api')
        return {
          response: {
            statusCode: 403,
            headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' },
            body: new TextEncoder().encode(JSON.stringify({ message })),
          },
        };
      if (service === 'sqs') headers['x-amzn-query-error'] = 'AccessDenied;Sender';
      return { response: { statusCode: 400, headers, body } };
    };
}

/**
 * Makes every AWS client built from now on (lib/runtime/aws.ts) check its calls against the invoking function's
 * grants. Returns the function that removes the hook again.
 */
export function enforceLocalIam(options: LocalIamOptions): () => void {
  const grants = localGrants(options);
  const region = options.env.AWS_REGION ?? 'us-east-1';
  const stage = options.env[ENV.stage] ?? 'local';
  useAwsClientHook((client, service) => {
    client.middlewareStack.addRelativeTo(gate(service, grants, region, stage), {
      relation: 'after',
      toMiddleware: 'deserializerMiddleware',
      name: 'tmcLocalIam',
    });
  });
  return () => useAwsClientHook(undefined);
}
