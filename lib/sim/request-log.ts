/** One request the simulator answered. */
export interface RequestRecord {
  verb: string; // get list watch create update patch apply delete deletecollection (Kubernetes' names)
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  logicalCluster: string;
  code: number;
  userAgent: string;
  /** The username the request authenticated as (lib/sim/authentication.ts). */
  user: string;
  at: number;
}

export type RequestFilter = Partial<
  Pick<
    RequestRecord,
    'verb' | 'group' | 'resource' | 'subresource' | 'namespace' | 'name' | 'logicalCluster' | 'code' | 'user'
  >
> & {
  verbs?: string[];
  /** Only writes: create, update, patch, apply, delete, deletecollection. */
  writes?: boolean;
};

const WRITES = new Set(['create', 'update', 'patch', 'apply', 'delete', 'deletecollection']);

/** Records a request log keeps by default: the benchmark's largest phase, reset between phases, fits. */
export const DEFAULT_REQUEST_LOG_LIMIT = 500_000;

/**
 * Records a server left running keeps (`tmc dev`, the benchmark's churn phase): nothing resets its log, so only the
 * newest (≈100 bytes each).
 */
export const LONG_RUNNING_REQUEST_LOG_LIMIT = 20_000;

/**
 * Counts every API request, so tests and benchmarks can assert how many calls tmc made. Keeps the newest `limit`
 * records: past it the oldest fifth goes at once (not one splice per request).
 */
export class RequestLog {
  private records: RequestRecord[] = [];

  constructor(private limit: number = DEFAULT_REQUEST_LOG_LIMIT) {}

  add(record: RequestRecord): void {
    this.records.push(record);
    if (this.records.length > this.limit) this.records.splice(0, Math.ceil(this.limit / 5));
  }

  /** From now on keeps the newest `limit` records (and drops the older ones it holds). */
  keepNewest(limit: number): void {
    this.limit = limit;
    if (this.records.length > limit) this.records.splice(0, this.records.length - limit);
  }

  entries(filter: RequestFilter = {}): RequestRecord[] {
    return this.records.filter((r) => matches(r, filter));
  }

  count(filter: RequestFilter = {}): number {
    let n = 0;
    for (const r of this.records) if (matches(r, filter)) n++;
    return n;
  }

  /** Records held. */
  get size(): number {
    return this.records.length;
  }

  reset(): void {
    this.records = [];
  }
}

function matches(r: RequestRecord, f: RequestFilter): boolean {
  if (f.writes && !WRITES.has(r.verb)) return false;
  if (f.verbs && !f.verbs.includes(r.verb)) return false;
  for (const k of [
    'verb',
    'group',
    'resource',
    'subresource',
    'namespace',
    'name',
    'logicalCluster',
    'code',
    'user',
  ] as const) {
    if (f[k] !== undefined && r[k] !== f[k]) return false;
  }
  return true;
}
