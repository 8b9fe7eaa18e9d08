import {
  FUNCTION_ACCESS,
  QUEUES,
  TABLE,
  TABLE_ACTIONS,
  type FunctionAccess,
  type FunctionName,
  type QueueName,
} from './resources';

/**
 * The one definition of what each function's role may do: which IAM actions on which of tmc's resources, derived from
 * FUNCTION_ACCESS and TABLE_ACTIONS. The CDK stack (infra/) turns it into the role's policy statements; the local
 * stack (lib/local/iam.ts) checks every AWS call a function makes against it, so a call the code makes and the grants
 * lack fails locally with AccessDenied, not after a production deploy.
 *
 * Resources are named symbolically here; each side resolves them to ARNs (CloudFormation tokens in infra/, the
 * emulators' ARNs locally).
 */
export type GrantResource =
  | { kind: 'table' }
  | { kind: 'index'; index: string }
  | { kind: 'queue'; queue: QueueName }
  | { kind: 'dlq'; queue: QueueName }
  | { kind: 'secret'; secret: 'kcp-kubeconfig' | 'webhook-tokens' | 'content-key' }
  /** Every secret under the stage's cluster-credential prefix (clusters are registered after the deploy). */
  | { kind: 'cluster-secrets' }
  /** The Amazon Managed Prometheus workspace, when remote-write uses one. */
  | { kind: 'prometheus-workspace' }
  /** The function's own log group. */
  | { kind: 'log-group' }
  /** Where Lambda puts a scheduled invocation that failed (infra/tmc-stack.ts `ScheduleFailures`). */
  | { kind: 'schedule-failures' }
  /** The change feed's connections (SYNCER_FEED): `@connections/*` of its WebSocket API's stage. */
  | { kind: 'feed-connections' }
  /** No resource-level permissions exist for the action (X-Ray). */
  | { kind: 'any' };

export interface Grant {
  /** Why the function has it, for policy reviewers and the local AccessDenied message. */
  purpose: string;
  actions: readonly string[];
  resources: readonly GrantResource[];
  /** DynamoDB only: the partition keys it is limited to (the `dynamodb:LeadingKeys` condition). */
  leadingKeys?: readonly string[];
}

/**
 * SQS actions by use. IAM authorizes SendMessageBatch as sqs:SendMessage (and the other batch calls likewise).
 * `consume` is what Lambda's event source mapping needs (and what CDK's SqsEventSource grants on its own) plus
 * ChangeMessageVisibility, which the consumers use to defer a message.
 */
export const QUEUE_ACTIONS = {
  send: ['sqs:SendMessage'],
  consume: [
    'sqs:ReceiveMessage',
    'sqs:ChangeMessageVisibility',
    'sqs:GetQueueUrl',
    'sqs:DeleteMessage',
    'sqs:GetQueueAttributes',
  ],
  inspect: ['sqs:GetQueueAttributes'],
} as const satisfies Record<string, readonly string[]>;

/** What PostToConnection (and a GoneException's cleanup) needs on the change feed's WebSocket API. */
export const FEED_ACTIONS = ['execute-api:ManageConnections'] as const;
export const SECRET_ACTIONS = { read: ['secretsmanager:GetSecretValue'] } as const;
export const LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;
/** What Lambda's active tracing adds; X-Ray has no resource-level permissions. */
export const XRAY_ACTIONS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'] as const;
/** A Lambda asynchronous-invocation failure destination on SQS: what CDK's SqsDestination grants the role. */
export const FAILURE_DESTINATION_ACTIONS = ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'] as const;

export interface GrantOptions {
  /** Whether the function is the target of a schedule (it then may write to the failure destination). */
  scheduled: boolean;
}

/** The grants of `name` given its access (FUNCTION_ACCESS unless a test passes a reduced one). */
export function grantsFor(
  name: FunctionName,
  options: GrantOptions,
  access: FunctionAccess = FUNCTION_ACCESS[name],
): Grant[] {
  const grants: Grant[] = [
    { purpose: 'its own log group', actions: LOG_ACTIONS, resources: [{ kind: 'log-group' }] },
    { purpose: 'X-Ray active tracing', actions: XRAY_ACTIONS, resources: [{ kind: 'any' }] },
  ];
  if (access.table !== 'none') {
    grants.push({
      purpose: `the state table, ${access.table}`,
      actions: access.table === 'read' ? [...TABLE_ACTIONS.read] : [...TABLE_ACTIONS.read, ...TABLE_ACTIONS.write],
      resources: [{ kind: 'table' }, ...TABLE.indexes.map((index) => ({ kind: 'index' as const, index: index.name }))],
    });
  }
  if (access.recordsOwnHealth && access.table !== 'read-write') {
    grants.push({
      purpose: 'its own component-health item',
      actions: ['dynamodb:UpdateItem'],
      resources: [{ kind: 'table' }],
      leadingKeys: [`COMPONENT#${name}`],
    });
  }
  const consumed = Object.values(QUEUES).filter((queue) => queue.consumer === name);
  const consumes = [
    ...consumed.map((q): GrantResource => ({ kind: 'queue', queue: q.name })),
    ...access.redrives.map((queue): GrantResource => ({ kind: 'dlq', queue })),
  ];
  if (consumes.length > 0)
    grants.push({
      purpose: 'consuming its queue (event source mapping) and draining DLQs',
      actions: QUEUE_ACTIONS.consume,
      resources: consumes,
    });
  const sends = [...new Set([...access.sends, ...access.redrives])];
  if (sends.length > 0)
    grants.push({
      purpose: 'sending to queues',
      actions: QUEUE_ACTIONS.send,
      resources: sends.map((queue) => ({ kind: 'queue', queue })),
    });
  if (access.inspects.length > 0) {
    grants.push({
      purpose: 'reading queue depths',
      actions: QUEUE_ACTIONS.inspect,
      resources: access.inspects.flatMap((queue): GrantResource[] => [
        { kind: 'queue', queue },
        { kind: 'dlq', queue },
      ]),
    });
  }
  const secrets: GrantResource[] = [];
  if (access.kcp) secrets.push({ kind: 'secret', secret: 'kcp-kubeconfig' });
  if (access.webhookTokens) secrets.push({ kind: 'secret', secret: 'webhook-tokens' });
  if (access.contentKey) secrets.push({ kind: 'secret', secret: 'content-key' });
  if (access.clusterCredentials) secrets.push({ kind: 'cluster-secrets' });
  if (secrets.length > 0)
    grants.push({ purpose: 'reading its secrets', actions: SECRET_ACTIONS.read, resources: secrets });
  if (access.remoteWrite)
    grants.push({
      purpose: 'Prometheus remote-write',
      actions: ['aps:RemoteWrite'],
      resources: [{ kind: 'prometheus-workspace' }],
    });
  if (access.feedConnections)
    grants.push({
      purpose: "posting to syncers' change-feed connections",
      actions: FEED_ACTIONS,
      resources: [{ kind: 'feed-connections' }],
    });
  if (options.scheduled)
    grants.push({
      purpose: 'reporting a failed scheduled run',
      actions: FAILURE_DESTINATION_ACTIONS,
      resources: [{ kind: 'schedule-failures' }],
    });
  return grants;
}

/** A grant with its resources as ARN patterns (IAM wildcards `*` and `?`). */
export interface ResolvedGrant {
  purpose: string;
  actions: readonly string[];
  resources: readonly string[];
  leadingKeys?: readonly string[];
}

/**
 * Resolves each grant's resources with `arnOf`; a resource that does not exist in this deployment (no AMP workspace)
 * resolves to undefined and is left out, and a grant left without resources is dropped.
 */
export function resolveGrants<T>(
  grants: readonly Grant[],
  arnOf: (resource: GrantResource) => T | undefined,
): Array<{ purpose: string; actions: readonly string[]; resources: T[]; leadingKeys?: readonly string[] }> {
  return grants
    .map((grant) => ({ ...grant, resources: grant.resources.map(arnOf).filter((arn): arn is T => arn !== undefined) }))
    .filter((grant) => grant.resources.length > 0);
}

/** Compiled patterns by pattern: the patterns are the grants' own actions and ARNs, a fixed set per deployment. */
const compiledPatterns = new Map<string, RegExp>();

function wildcardPattern(pattern: string): RegExp {
  const known = compiledPatterns.get(pattern);
  if (known !== undefined) return known;
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  const compiled = new RegExp(`^${escaped}$`);
  compiledPatterns.set(pattern, compiled);
  return compiled;
}

/**
 * Whether IAM would allow `action` on `arn` under these (allow-only) grants: action and resource matched as IAM does,
 * and a grant limited to leading keys only when every partition key the call names (`leadingKeys`) is one of them.
 */
export function isAllowed(
  grants: readonly ResolvedGrant[],
  action: string,
  arn: string,
  leadingKeys?: readonly string[],
): boolean {
  const lowerAction = action.toLowerCase();
  return grants.some(
    (grant) =>
      grant.actions.some((granted) => wildcardPattern(granted.toLowerCase()).test(lowerAction)) &&
      grant.resources.some((resource) => wildcardPattern(resource).test(arn)) &&
      (grant.leadingKeys === undefined ||
        (leadingKeys !== undefined &&
          leadingKeys.length > 0 &&
          leadingKeys.every((key) => grant.leadingKeys!.includes(key)))),
  );
}
