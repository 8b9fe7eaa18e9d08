/** The chaos suite's fault kinds (bench/chaos/faults.ts injects them); apart so that `tmc --help` loads no SDK. */
export const FAULT_KINDS = [
  // tmc's functions' process SIGKILLed (a Lambda crash: SQS keeps messages, kcp and clusters keep objects), restarted.
  'crash',
  // The environment's process SIGKILLed (kcp, the clusters, DynamoDB and SQS gone at once; SQS's messages lost), then
  // restarted on the same state dir and ports while tmc's functions keep running.
  'environment-restart',
  // Server-wide on kcp: 30% of requests 503; or 429 with Retry-After.
  'kcp-errors',
  'kcp-throttle',
  // One cluster's requests hang; or its listener closes, for longer than evictAfter.
  'cluster-partition',
  'cluster-outage',
  // SQS: messages received and sent again (a duplicate delivery); or held invisible for seconds (delayed, reordered).
  'sqs-duplicate',
  'sqs-delay',
  // Per-request rules on kcp (PUT /_sim/faults `rules`), for tmc's requests only: an empty list of one type in one
  // workspace, 404 on GETs of one type and of Secrets, 503/429/hang on Placement and Location lists, 429 with
  // Retry-After on one type.
  'empty-list',
  'get-404',
  'placement-list-503',
  'resource-429',
  // kcp's (or a cluster's) calls to tmc's webhooks refused: the admissions and status reports are lost (fail open).
  'webhook-loss',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Faults written as simulator rules: they need a simulator with per-request fault rules. */
export const RULE_FAULTS: readonly FaultKind[] = ['empty-list', 'get-404', 'placement-list-503', 'resource-429'];

/** A `--faults` value: kinds comma-separated, or `none` (a fault-free churn run); undefined when a kind is unknown. */
export function parseFaultKinds(value: string): FaultKind[] | undefined {
  const kinds = value
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  if (kinds.length === 1 && kinds[0] === 'none') return [];
  const parsed: FaultKind[] = [];
  for (const kind of kinds) {
    const found = FAULT_KINDS.find((k) => k === kind);
    if (found === undefined) return undefined;
    parsed.push(found);
  }
  return parsed;
}
