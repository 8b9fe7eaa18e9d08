/** The chaos suite's fault kinds (bench/chaos/faults.ts injects them); apart so that `tmc --help` loads no SDK. */
export const FAULT_KINDS = [
  // tmc's functions' process SIGKILLed (a Lambda crash: SQS keeps messages, kcp and clusters keep objects), restarted.
  'crash',
  // Server-wide on kcp: 30% of requests 503; or 429 with Retry-After.
  'kcp-errors',
  'kcp-throttle',
  // One cluster's requests hang; or its listener closes, for longer than evictAfter.
  'cluster-partition',
  'cluster-outage',
  // SQS: messages received and sent again (a duplicate delivery); or held invisible for seconds (delayed, reordered).
  'sqs-duplicate',
  'sqs-delay',
  // Per-request rules on kcp (PUT /_sim/faults `rules`), for tmc's requests only: an empty list of one type, 404 on
  // GETs of one type, 503 on Placement/Location lists, 429 on one type.
  'empty-list',
  'get-404',
  'placement-list-503',
  'resource-429',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Faults written as simulator rules: they need a simulator with per-request fault rules. */
export const RULE_FAULTS: readonly FaultKind[] = ['empty-list', 'get-404', 'placement-list-503', 'resource-429'];
