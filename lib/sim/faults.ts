import { z } from 'zod';

/** Faults a test or benchmark injects into one simulated API server at run time. */
export interface FaultSettings {
  /** Added to every request. */
  latencyMs?: number;
  /** Share of requests (0..1) answered with `errorCode`. */
  errorRate?: number;
  errorCode?: 500 | 503;
  /** Share of requests answered 429 with Retry-After. */
  throttle?: { rate: number; retryAfterSeconds: number };
  /** Connection refused: the listener and every open connection are closed until cleared. */
  down?: boolean;
  /** Requests hang (a network partition) until cleared. */
  partition?: boolean;
}

/** FaultSettings as `PUT /_sim/faults` accepts them (outside data: parsed, never cast). */
export const FaultSettingsSchema = z.strictObject({
  latencyMs: z.number().int().nonnegative().optional(),
  errorRate: z.number().min(0).max(1).optional(),
  errorCode: z.union([z.literal(500), z.literal(503)]).optional(),
  throttle: z.strictObject({ rate: z.number().min(0).max(1), retryAfterSeconds: z.number().int().nonnegative() }).optional(),
  down: z.boolean().optional(),
  partition: z.boolean().optional(),
});

export class FaultController {
  private settings: FaultSettings = {};
  private readonly listeners = new Set<(s: FaultSettings) => void>();

  get current(): FaultSettings {
    return this.settings;
  }

  set(settings: FaultSettings): void {
    this.settings = { ...settings };
    for (const l of this.listeners) l(this.settings);
  }

  clear(): void {
    this.set({});
  }

  onChange(listener: (s: FaultSettings) => void): void {
    this.listeners.add(listener);
  }

  /** The error this request should get, if any (decided by chance with the configured rates). */
  pickError(random: () => number = Math.random): { code: number; retryAfterSeconds?: number } | undefined {
    const s = this.settings;
    if (s.throttle && random() < s.throttle.rate) return { code: 429, retryAfterSeconds: s.throttle.retryAfterSeconds };
    if (s.errorRate && random() < s.errorRate) return { code: s.errorCode ?? 500 };
    return undefined;
  }
}
