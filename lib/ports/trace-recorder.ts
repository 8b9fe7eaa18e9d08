import { z } from 'zod';
import type { ObjectRef } from '../api/object-ref';

/** The path of an object's last change, for `tmc trace` (docs/observability.md): its steps and who records them. */

export const TraceStepSchema = z.object({
  at: z.string(),
  traceId: z.string(),
  cluster: z.string().optional(),
  result: z.string().optional(),
  detail: z.string().optional(),
});
export type TraceStep = z.infer<typeof TraceStepSchema>;

export interface ObjectTrace {
  traceId: string;
  startedAt: string;
  /** Step name (`received`, `placed`, `applied:east`, `status:east`) → step. */
  steps: Record<string, TraceStep>;
}

/** Records trace steps; `noTrace` records nothing. */
export interface TraceRecorder {
  begin(ref: ObjectRef, step: TraceStep): Promise<void>;
  /** A step of the change `step.traceId`; dropped when a newer change has replaced it. */
  step(ref: ObjectRef, name: string, step: TraceStep): Promise<void>;
  /** Several steps of the change `traceId` in one write (step name → step); dropped like {@link step}. */
  steps(ref: ObjectRef, traceId: string, steps: Record<string, TraceStep>): Promise<void>;
  /**
   * A step that belongs to whatever change is current (status comes back on its own trace id). Resolves with the
   * current change's trace id, so the caller can log both ids and a search for either finds the status leg.
   */
  stepOnCurrent(ref: ObjectRef, name: string, step: TraceStep): Promise<string | undefined>;
  /** Several steps on whatever change is current, in one write; resolves like {@link stepOnCurrent}. */
  stepsOnCurrent(ref: ObjectRef, steps: Record<string, TraceStep>): Promise<string | undefined>;
}

export const noTrace: TraceRecorder = {
  begin: async () => undefined,
  step: async () => undefined,
  steps: async () => undefined,
  stepOnCurrent: async () => undefined,
  stepsOnCurrent: async () => undefined,
};
