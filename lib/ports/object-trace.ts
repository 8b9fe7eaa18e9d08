import { z } from 'zod';
import type { ObjectRef } from '../api/object-ref';

/**
 * The path of an object's last change, for `tmc trace` (docs/observability.md). Nothing writes it on its own: it is
 * read from what the change's work stores anyway (the seen record ingress writes, placement's decision, each cluster's
 * sync and status items), each stamped with the change's trace id.
 */

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
  /**
   * The decision item's own stamp, whichever change wrote it (`at` its decidedAt, `detail` the sync work it sent): a
   * decision recorded after this change began under another trace (a redelivery, the recovery sweep) placed it too.
   */
  decided?: TraceStep;
}

/** Reads an object's {@link ObjectTrace}; undefined when no change of it reached ingress (or its record expired). */
export interface ObjectTraceReader {
  read(ref: ObjectRef): Promise<ObjectTrace | undefined>;
}
