import { z } from 'zod';

/**
 * Messages between `tmc chaos` and its two child processes over Node's IPC channel (outside data: parsed, never cast).
 * The environment process (emulators, simulated kcp and clusters) takes fault settings and reports every deletion of
 * a copy on a cluster together with what kcp held at that instant; the functions process only says it is ready.
 */

export const SourceRefSchema = z.object({
  group: z.string(),
  version: z.string(),
  resource: z.string(),
  namespace: z.string().optional(),
  name: z.string(),
});
export type SourceRef = z.infer<typeof SourceRefSchema>;

/** The `tmc.kcp.io/source` annotation of a copy, or undefined when it is missing or not what tmc writes. */
export function parseSourceAnnotation(value: string | undefined): SourceRef | undefined {
  if (value === undefined) return undefined;
  try {
    return SourceRefSchema.safeParse(JSON.parse(value)).data;
  } catch {
    return undefined; // not JSON
  }
}

/** What kcp held for a copy's source when the copy was deleted, read in the same tick as the delete. */
export const SourceStateSchema = z.enum(['exists', 'deleting', 'absent', 'replaced', 'namespace-deleting']);
export type SourceState = z.infer<typeof SourceStateSchema>;

export const CopyDeletedSchema = z.object({
  type: z.literal('copy-deleted'),
  at: z.number(),
  cluster: z.string(),
  workspace: z.string(),
  source: SourceRefSchema,
  sourceState: SourceStateSchema,
});
export type CopyDeleted = z.infer<typeof CopyDeletedSchema>;

export const ChildMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  // `fired`: how many requests the replaced rules answered.
  z.object({
    type: z.literal('faults-set'),
    id: z.number(),
    error: z.string().optional(),
    fired: z.number().optional(),
  }),
  CopyDeletedSchema,
]);
export type ChildMessage = z.infer<typeof ChildMessageSchema>;

/**
 * `set-faults`: `server` is `kcp` or a cluster's name, `settings` the body `PUT /_sim/faults` takes (`{}` clears);
 * `lose-webhooks`: that server's calls to tmc's webhooks are refused (`lost: true`) or go through again; `crash`: the
 * environment saves kcp's and the clusters' objects and SIGKILLs itself in the same tick (an outage that loses no
 * kcp write, and every SQS message).
 */
export const ParentMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('set-faults'), id: z.number(), server: z.string(), settings: z.unknown() }),
  z.object({ type: z.literal('lose-webhooks'), id: z.number(), server: z.string(), lost: z.boolean() }),
  z.object({ type: z.literal('crash') }),
  z.object({ type: z.literal('stop') }),
]);
export type ParentMessage = z.infer<typeof ParentMessageSchema>;
