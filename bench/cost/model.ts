import { FUNCTIONS, QUEUES, SCHEDULES, type FunctionName } from '../../lib/runtime/resources';
import { dynamoReadOps, dynamoWriteOps, type AwsOpCounts } from '../support/aws-op-counter';
import type { LambdaUsage } from '../support/tmc-metrics';
import { PRICES, type Prices } from './prices';

/**
 * Dollars from measured counts and the price table. Assumptions, each stated in the result:
 * - Lambda GB-seconds = measured handler duration × the function's configured memory (lib/runtime/resources.ts).
 *   Locally every function shares two cores with the emulators and the simulator, so durations are high: an upper
 *   bound.
 * - DynamoDB: one write unit per KiB of the write request (at least one), one read unit per read or query request
 *   (strongly consistent, items under 4 KiB: what tmc's items are).
 * - SQS: every request counts (the harness's own GetQueueAttributes excluded). Locally pollers wait 1 s per receive;
 *   Lambda's pollers wait 20 s, so busy-time receives are about the same and idle receives are modelled below.
 * - API Gateway: one request per ingress invocation (each webhook call is one).
 */

export interface Usage {
  lambda: Record<string, LambdaUsage>;
  dynamodb: AwsOpCounts;
  sqs: AwsOpCounts;
}

export interface CostBreakdown {
  lambdaRequests: number;
  lambdaCompute: number;
  dynamodb: number;
  sqs: number;
  apiGateway: number;
  total: number;
}

const perMillion = (count: number, price: number): number => (count / 1e6) * price;

function memoryMb(fn: string): number {
  return fn in FUNCTIONS ? FUNCTIONS[fn as FunctionName].memoryMb : 1024;
}

/** The bill of one measured piece of work. */
export function costOf(usage: Usage, prices: Prices = PRICES): CostBreakdown {
  let invocations = 0;
  let gbSeconds = 0;
  for (const [fn, u] of Object.entries(usage.lambda)) {
    invocations += u.invocations;
    gbSeconds += u.durationSeconds * (memoryMb(fn) / 1024);
  }
  const writes = dynamoWriteOps(usage.dynamodb);
  const writeUnits = writes === 0 ? 0 : writes * Math.max(1, Math.ceil(usage.dynamodb.writeBytes / writes / 1024));
  const readUnits = dynamoReadOps(usage.dynamodb);
  const sqsRequests = Object.entries(usage.sqs.requests).reduce((n, [op, v]) => (op === 'GetQueueAttributes' ? n : n + v), 0);
  const apiRequests = usage.lambda.ingress?.invocations ?? 0;
  const parts = {
    lambdaRequests: perMillion(invocations, prices.lambda.perMillionRequests),
    lambdaCompute: gbSeconds * prices.lambda.perGbSecond,
    dynamodb: perMillion(writeUnits, prices.dynamodb.perMillionWriteUnits) + perMillion(readUnits, prices.dynamodb.perMillionReadUnits),
    sqs: perMillion(sqsRequests, prices.sqs.perMillionRequests),
    apiGateway: perMillion(apiRequests, prices.apiGateway.perMillionRequests),
  };
  return { ...parts, total: Object.values(parts).reduce((a, b) => a + b, 0) };
}

export function scale(cost: CostBreakdown, factor: number): CostBreakdown {
  const out = { ...cost };
  for (const k of Object.keys(out) as Array<keyof CostBreakdown>) out[k] = Math.round(cost[k] * factor * 10_000) / 10_000;
  return out;
}

/** Lambda's SQS event source keeps five long-polling pollers per queue while idle, each a receive every 20 s. */
export const IDLE_POLLERS_PER_QUEUE = 5;
const SECONDS_PER_MONTH = 30 * 24 * 3600;

export interface IdleMonth {
  schedules: Record<string, { runsPerMonth: number; perRun: CostBreakdown }>;
  sqsPolling: { requestsPerMonth: number; dollars: number };
  total: number;
  assumptions: string[];
}

/** One idle month: every schedule at its rate (each run measured once on the idle stack) plus idle queue polling. */
export function idleMonth(perRun: Record<string, Usage>, prices: Prices = PRICES): IdleMonth {
  const schedules: IdleMonth['schedules'] = {};
  let total = 0;
  for (const schedule of SCHEDULES) {
    const usage = perRun[schedule.name];
    if (usage === undefined) continue;
    const runsPerMonth = SECONDS_PER_MONTH / schedule.rateSeconds;
    const cost = costOf(usage, prices);
    schedules[schedule.name] = { runsPerMonth, perRun: cost };
    total += cost.total * runsPerMonth + perMillion(runsPerMonth, prices.eventBridge.perMillionScheduledInvocations);
  }
  const requestsPerMonth = Object.keys(QUEUES).length * IDLE_POLLERS_PER_QUEUE * (SECONDS_PER_MONTH / 20);
  const polling = perMillion(requestsPerMonth, prices.sqs.perMillionRequests);
  total += polling;
  return {
    schedules,
    sqsPolling: { requestsPerMonth, dollars: Math.round(polling * 100) / 100 },
    total: Math.round(total * 100) / 100,
    assumptions: [
      `${Object.keys(QUEUES).length} queues × ${IDLE_POLLERS_PER_QUEUE} idle Lambda pollers × one 20 s long poll each`,
      'each schedule run measured once on the benchmark stack after the phases (its clusters and objects present)',
      'DynamoDB storage, CloudWatch logs/metrics, Secrets Manager and data transfer are not included',
    ],
  };
}
