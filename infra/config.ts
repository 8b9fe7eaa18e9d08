import { z } from 'zod';
import { QUEUES, SCHEDULES, type QueueName } from '../lib/runtime/resources';

/**
 * The stack's typed configuration, read from CDK context (`cdk deploy -c stage=prod -c syncLagAlarmSeconds=600`, or
 * the `context` of cdk.json). Context values given on the command line arrive as strings, so numbers are coerced and
 * objects may be JSON text. Every key is documented in docs/deploy.md.
 */

// CloudWatch Logs accepts only these retention periods.
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const jsonObject = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value; // left for the schema to reject with the key's name
  }
};

const queueNames = Object.keys(QUEUES) as [QueueName, ...QueueName[]];
const scheduleNames = SCHEDULES.map((s) => s.name) as [string, ...string[]];

export const TmcContextSchema = z.object({
  /** Prefix of every resource name (`tmc-<stage>-…`) and of the secrets (`tmc/<stage>/…`). */
  stage: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,15}$/, 'lower-case letters, digits and dashes, at most 16, starting with a letter')
    .default('dev'),
  /** kcp workspaces whose SyncTargets tmc serves, comma-separated (health-probe and recovery-sweep list them). */
  workspaces: z
    .string()
    .regex(/^root(:[a-z0-9-]+)*(,root(:[a-z0-9-]+)*)*$/, 'comma-separated kcp workspace paths such as root:org:ws')
    .default('root:default'),
  logRetentionDays: z.coerce
    .number()
    .refine(
      (days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days),
      `one of ${LOG_RETENTION_DAYS.join(', ')}`,
    )
    .default(30),
  /** Schedule rates in seconds by schedule name (SCHEDULES); EventBridge needs whole minutes. */
  scheduleRates: z
    .preprocess(
      jsonObject,
      z.partialRecord(
        z.enum(scheduleNames),
        z.coerce.number().int().min(60).multipleOf(60, 'whole minutes (EventBridge rates)'),
      ),
    )
    .default({}),
  /** Event source mapping maximum concurrency by queue (QUEUES); Lambda allows 2..1000. */
  maxConcurrency: z
    .preprocess(jsonObject, z.partialRecord(z.enum(queueNames), z.coerce.number().int().min(2).max(1000)))
    .default({}),
  /** Alarm when the oldest object not yet applied on its cluster is older than this. */
  syncLagAlarmSeconds: z.coerce.number().int().positive().default(300),
  /** Alarm when a function's errors exceed this share of its invocations over 5 minutes. */
  errorRateAlarmPercent: z.coerce.number().positive().max(100).default(5),
  /** Alarm notifications by e-mail (an SNS subscription the address must confirm). */
  alarmEmail: z.email().optional(),
  /**
   * Prometheus remote-write: `none`; `amp` creates an Amazon Managed Prometheus workspace and writes to it with SigV4;
   * or the remote-write URL of an existing workspace or of any endpoint that takes unauthenticated writes.
   */
  prometheusRemoteWrite: z.union([z.enum(['none', 'amp']), z.url({ protocol: /^https$/ })]).default('none'),
  /** Metrics namespace in CloudWatch; one per stage so two stages in one account do not mix. */
  metricsNamespace: z.string().min(1).optional(),
  /**
   * What a stack delete does with the stage's state table, log groups and secrets: `destroy` (the default for the
   * `dev` stage, so it can be deployed, destroyed and deployed again) or `retain` (every other stage's default: kept on
   * delete and on replacement, removed only when the stack's first deploy rolls back, which would otherwise leave
   * names behind that block the next deploy).
   */
  removalPolicy: z.enum(['retain', 'destroy']).optional(),
  /**
   * Private clusters: the functions that call clusters (placement, sync-apply, status-up, health-probe,
   * recovery-sweep) run in these private subnets, with interface endpoints for SQS and Secrets Manager (and the
   * Prometheus workspace when remote-write goes to AMP) and a gateway endpoint for DynamoDB, so AWS is reached without
   * NAT. kcp and the clusters' API servers must be reachable from the subnets (docs/deploy.md, Private clusters).
   */
  vpc: z
    .preprocess(
      jsonObject,
      z.object({
        vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, 'a VPC id such as vpc-0abc…'),
        /** Private subnets, with their availability zone and route table (the DynamoDB gateway endpoint's route goes there). */
        subnets: z
          .array(
            z.object({
              subnetId: z.string().regex(/^subnet-[0-9a-f]+$/, 'a subnet id such as subnet-0abc…'),
              availabilityZone: z
                .string()
                .regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'an availability zone such as eu-west-1a'),
              routeTableId: z.string().regex(/^rtb-[0-9a-f]+$/, 'a route table id such as rtb-0abc…'),
            }),
          )
          .min(1),
        /** Security groups added to the functions' own (e.g. one the clusters' API servers admit). */
        securityGroupIds: z
          .array(z.string().regex(/^sg-[0-9a-f]+$/, 'a security group id such as sg-0abc…'))
          .default([]),
        /** false when the VPC already has these endpoints (or a NAT gateway): endpoints are then not created. */
        endpoints: z.boolean().default(true),
      }),
    )
    .optional(),
});

export type TmcContext = z.infer<typeof TmcContextSchema>;

export interface TmcConfig extends TmcContext {
  metricsNamespace: string;
  removalPolicy: 'retain' | 'destroy';
}

/** The stage that may be destroyed with its data unless told otherwise: the default one, for trying tmc out. */
export const DISPOSABLE_STAGE = 'dev';

/** Context keys the schema reads; anything else in the context belongs to CDK itself. */
export const CONTEXT_KEYS = Object.keys(TmcContextSchema.shape) as Array<keyof TmcContext>;

/** Parses the context; throws one error listing every invalid key and what it must be. */
export function parseTmcContext(read: (key: string) => unknown): TmcConfig {
  const raw: Record<string, unknown> = {};
  for (const key of CONTEXT_KEYS) {
    const value = read(key);
    if (value !== undefined) raw[key] = value;
  }
  const parsed = TmcContextSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || '(context)'}: ${issue.message}`)
      .join('; ');
    throw new Error(`Invalid tmc CDK context (see docs/deploy.md): ${problems}`);
  }
  return {
    ...parsed.data,
    metricsNamespace: parsed.data.metricsNamespace ?? `tmc/${parsed.data.stage}`,
    removalPolicy: parsed.data.removalPolicy ?? (parsed.data.stage === DISPOSABLE_STAGE ? 'destroy' : 'retain'),
  };
}
