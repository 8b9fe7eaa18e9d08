import { z } from 'zod';
import { ApiError } from '../kube-api/api-error';
import type { RequestRecord } from './request-log';
import { seededRandom } from './seeded-random';

/**
 * Verbs a rule can match, in Kubernetes' terms. `patch` matches every PATCH, server-side apply included (its verb in
 * kube's authorization and audit); `apply` matches server-side apply only.
 */
export const FAULT_VERBS = [
  'get',
  'list',
  'watch',
  'create',
  'update',
  'patch',
  'apply',
  'delete',
  'deletecollection',
] as const;
/** Status codes a rule can answer with, each as a Kubernetes `Status` with the reason kube-apiserver gives. */
export const FAULT_CODES = [404, 409, 410, 429, 500, 503] as const;

/** Which requests a rule hits: every field is optional and every given field must match. */
export const FaultMatchSchema = z.strictObject({
  verb: z.enum(FAULT_VERBS).optional(),
  /** "" for the core group. */
  group: z.string().optional(),
  resource: z.string().min(1).optional(),
  /** Absent: any; "" only the main resource; "status", "scale"… only that subresource. */
  subresource: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  /** kcp's logical cluster path (`root:default`); a plain cluster's is the server's name. */
  logicalCluster: z.string().optional(),
  /** A substring of the User-Agent header. */
  userAgent: z.string().min(1).optional(),
  /** The authenticated username (a registered token's user, `system:anonymous` without a token). */
  username: z.string().min(1).optional(),
});
export type FaultMatch = z.infer<typeof FaultMatchSchema>;

const FaultResponseSchema = z.union(
  [z.enum(['empty', 'hang', 'reset']), ...FAULT_CODES.map((code) => z.literal(code))],
  {
    error: `must be "empty", "hang", "reset" or one of ${FAULT_CODES.join(', ')}`,
  },
);
export type FaultResponse = z.infer<typeof FaultResponseSchema>;

/** One per-request fault: the first rule (in order) that matches a request, and passes its probability, answers it. */
export const FaultRuleSchema = z
  .strictObject({
    match: FaultMatchSchema.optional(),
    /**
     * `empty`: a successful, well-formed empty list (list), a stream that stays open and sends nothing (watch); a
     * status code: that error; `hang`: no answer until the client gives up or the server stops; `reset`: the
     * connection is destroyed (the client sees ECONNRESET).
     */
    respond: FaultResponseSchema,
    /** Retry-After of a 429 (default 1) or 503 (none by default). */
    retryAfterSeconds: z.number().int().nonnegative().optional(),
    /** Share (0..1) of matching requests the rule answers; the others go on to the next rules. */
    probability: z.number().min(0).max(1).optional(),
    /** Answers the next `count` matching requests, then expires (it stays listed with `remaining: 0`). */
    count: z.number().int().positive().optional(),
  })
  .superRefine((rule, ctx) => {
    const verb = rule.match?.verb;
    if (rule.respond === 'empty' && verb !== undefined && verb !== 'list' && verb !== 'watch') {
      ctx.addIssue({ code: 'custom', path: ['respond'], message: `"empty" answers lists and watches, not ${verb}` });
    }
    if (rule.retryAfterSeconds !== undefined && rule.respond !== 429 && rule.respond !== 503) {
      ctx.addIssue({ code: 'custom', path: ['retryAfterSeconds'], message: 'only a 429 or 503 carries Retry-After' });
    }
  });
export type FaultRule = z.infer<typeof FaultRuleSchema>;

/** Everything `PUT /_sim/faults` and {@link FaultController.set} take (outside data: parsed, never cast). */
export const FaultSettingsSchema = z.strictObject({
  /** Added to every request. */
  latencyMs: z.number().int().nonnegative().optional(),
  /** Share of requests (0..1) answered with `errorCode`. */
  errorRate: z.number().min(0).max(1).optional(),
  errorCode: z.union([z.literal(500), z.literal(503)]).optional(),
  /** Share of requests answered 429 with Retry-After. */
  throttle: z
    .strictObject({ rate: z.number().min(0).max(1), retryAfterSeconds: z.number().int().nonnegative() })
    .optional(),
  /** Connection refused: the API listener and every open connection are closed until cleared (the admin port stays). */
  down: z.boolean().optional(),
  /** Requests hang (a network partition) until cleared. */
  partition: z.boolean().optional(),
  /** Per-request rules, matched in order against each resource request. */
  rules: z.array(FaultRuleSchema).optional(),
  /** Seeds the generator behind every probability and rate, so a run can be replayed; absent: Math.random. */
  seed: z.number().int().optional(),
});
/** Faults a test or benchmark injects into one simulated API server at run time. */
export type FaultSettings = z.infer<typeof FaultSettingsSchema>;

/** A rule as `GET /_sim/faults` shows it: how often it fired and, with a count, how many answers it has left. */
export type FaultRuleState = FaultRule & { fired: number; remaining?: number };
export type FaultState = Omit<FaultSettings, 'rules'> & { rules?: FaultRuleState[] };

/** A resource request as the rules see it: the request log's record of it. */
export type FaultRequest = Pick<
  RequestRecord,
  'verb' | 'group' | 'resource' | 'subresource' | 'namespace' | 'name' | 'logicalCluster' | 'userAgent' | 'user'
>;

/** The rule that answers a request: its position in the list and what it answers. */
export interface FiredRule {
  index: number;
  respond: FaultResponse;
  retryAfterSeconds?: number;
}

interface ActiveRule {
  rule: FaultRule;
  fired: number;
  remaining?: number;
}

function verbMatches(wanted: FaultMatch['verb'], verb: string): boolean {
  if (wanted === undefined) return true;
  return wanted === verb || (wanted === 'patch' && verb === 'apply');
}

function ruleMatches(rule: FaultRule, request: FaultRequest): boolean {
  // "empty" only has a meaning for a collection read; other verbs pass on to later rules.
  if (rule.respond === 'empty' && request.verb !== 'list' && request.verb !== 'watch') return false;
  const m = rule.match ?? {};
  if (!verbMatches(m.verb, request.verb)) return false;
  if (m.group !== undefined && m.group !== request.group) return false;
  if (m.resource !== undefined && m.resource !== request.resource) return false;
  if (m.subresource !== undefined && m.subresource !== (request.subresource ?? '')) return false;
  if (m.namespace !== undefined && m.namespace !== request.namespace) return false;
  if (m.name !== undefined && m.name !== request.name) return false;
  if (m.logicalCluster !== undefined && m.logicalCluster !== request.logicalCluster) return false;
  if (m.userAgent !== undefined && !request.userAgent.includes(m.userAgent)) return false;
  if (m.username !== undefined && m.username !== request.user) return false;
  return true;
}

/**
 * The fault state of one simulated API server: server-wide settings plus per-request rules. A `set` replaces all of
 * it (and resets the rules' counters); `clear` removes every fault.
 */
export class FaultController {
  private settings: FaultSettings = {};
  private rules: ActiveRule[] = [];
  private random: () => number = Math.random;
  private readonly listeners = new Set<(s: FaultSettings) => void>();

  /** The settings as last set. */
  get current(): FaultSettings {
    return this.settings;
  }

  /** The settings with each rule's counters, as `GET /_sim/faults` answers. */
  state(): FaultState {
    const { rules: _rules, ...rest } = this.settings;
    if (this.rules.length === 0) return rest;
    return {
      ...rest,
      rules: this.rules.map((r) => ({
        ...r.rule,
        fired: r.fired,
        ...(r.remaining !== undefined ? { remaining: r.remaining } : {}),
      })),
    };
  }

  /** Replaces the whole fault state; throws a ZodError for settings `PUT /_sim/faults` would refuse. */
  set(settings: FaultSettings): void {
    const parsed = FaultSettingsSchema.parse(settings);
    this.settings = parsed;
    this.rules = (parsed.rules ?? []).map((rule) => ({ rule, fired: 0, remaining: rule.count }));
    this.random = parsed.seed === undefined ? Math.random : seededRandom(parsed.seed);
    for (const l of this.listeners) l(this.settings);
  }

  clear(): void {
    this.set({});
  }

  onChange(listener: (s: FaultSettings) => void): void {
    this.listeners.add(listener);
  }

  /** The server-wide error this request should get, if any (decided by chance with the configured rates). */
  pickError(random: () => number = this.random): { code: number; retryAfterSeconds?: number } | undefined {
    const s = this.settings;
    if (s.throttle && random() < s.throttle.rate) return { code: 429, retryAfterSeconds: s.throttle.retryAfterSeconds };
    if (s.errorRate && random() < s.errorRate) return { code: s.errorCode ?? 500 };
    return undefined;
  }

  /** The first live rule that matches the request and passes its probability; counts it as fired. */
  ruleFor(request: FaultRequest): FiredRule | undefined {
    for (const [index, active] of this.rules.entries()) {
      if (active.remaining === 0 || !ruleMatches(active.rule, request)) continue;
      const probability = active.rule.probability;
      if (probability !== undefined && !(this.random() < probability)) continue;
      active.fired++;
      if (active.remaining !== undefined) active.remaining--;
      const retryAfterSeconds = active.rule.retryAfterSeconds ?? (active.rule.respond === 429 ? 1 : undefined);
      return { index, respond: active.rule.respond, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) };
    }
    return undefined;
  }
}

/** The request a fault answers, as far as the answer names it. */
export interface FaultedRequest {
  verb: string;
  group: string;
  resource: string;
  name?: string;
  /** The resourceVersion the request asked for (a 410 names it) and the server's current one. */
  resourceVersion?: string;
  currentResourceVersion: number;
}

/** An injected error as kube-apiserver would word it: the Status reason, message and details a client reads. */
export function faultError(code: number, request: FaultedRequest | undefined, retryAfterSeconds?: number): ApiError {
  const info = { group: request?.group ?? '', resource: request?.resource ?? '' };
  const retry = retryAfterSeconds ? { retryAfterSeconds } : undefined;
  switch (code) {
    case 404:
      return request?.name
        ? ApiError.notFound(info, request.name)
        : ApiError.notFoundResource({ ...info, version: '' });
    case 409: {
      if (request?.name) return ApiError.conflict(info, request.name);
      const qualified = info.group ? `${info.resource}.${info.group}` : info.resource;
      return new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified}: the object has been modified; please apply your changes to the latest version and try again`,
        { group: info.group || undefined, kind: info.resource },
      );
    }
    case 410: {
      const reason = request?.verb === 'list' || request?.verb === 'watch' ? 'Expired' : 'Gone';
      return new ApiError(
        410,
        reason,
        `too old resource version: ${request?.resourceVersion ?? '0'} (${request?.currentResourceVersion ?? 0})`,
      );
    }
    case 429:
      return new ApiError(429, 'TooManyRequests', 'Too many requests, please try again later.', retry);
    case 503:
      return new ApiError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request', retry);
    default:
      return new ApiError(
        code,
        'InternalError',
        'an error on the server ("simulated fault") has prevented the request from succeeding',
        retry,
      );
  }
}
