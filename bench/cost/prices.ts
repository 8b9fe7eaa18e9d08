/**
 * AWS list prices the cost figures use: region us-east-1, on-demand, no free tier, USD. Taken from AWS's public
 * pricing pages as of 2025-06 (Lambda, SQS, DynamoDB after the November 2024 on-demand price cut, API Gateway,
 * CloudWatch, Secrets Manager, X-Ray, EventBridge). This machine has no network to re-check them: update this one file (and `asOf`) when they change.
 */
export const PRICES = {
  asOf: '2025-06',
  region: 'us-east-1',
  lambda: {
    /** arm64, first 6 billion GB-seconds a month. */
    perGbSecond: 0.0000133334,
    perMillionRequests: 0.2,
  },
  sqs: {
    /** Standard queues, per million requests (each 64 KiB of payload is one request). */
    perMillionRequests: 0.4,
  },
  dynamodb: {
    /** On-demand (pay per request). */
    perMillionWriteUnits: 0.625,
    perMillionReadUnits: 0.125,
  },
  apiGateway: {
    /** HTTP API, first 300 million requests a month, per 512 KiB. */
    perMillionRequests: 1.0,
  },
  cloudWatch: {
    /** Standard-resolution alarms are billed per metric they evaluate: a metric-math alarm over 5 metrics is 5. */
    perAlarmMetricMonth: 0.1,
    /** Custom dashboards beyond the free tier's three. */
    perDashboardMonth: 3.0,
    /** Custom metrics (each name + dimension set, EMF included), first 10,000, prorated by the hour they are sent. */
    perCustomMetricMonth: 0.3,
    /** Logs: standard class ingestion and storage. */
    perGbLogsIngested: 0.5,
    perGbLogsStoredMonth: 0.03,
  },
  secretsManager: {
    perSecretMonth: 0.4,
    perTenThousandApiCalls: 0.05,
  },
  xRay: {
    /** Traces recorded (Lambda's active tracing samples the first request each second and 5% of the rest). */
    perMillionTracesRecorded: 5.0,
  },
  eventBridge: {
    /** Scheduled rules (what infra/ deploys) carry no charge; EventBridge Scheduler would be $1.00 per million. */
    perMillionScheduledInvocations: 0,
  },
} as const;

export type Prices = typeof PRICES;
