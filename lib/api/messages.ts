import { z } from 'zod';
import { ObjectRefSchema } from './object-ref';

/**
 * Queue messages. They are level-triggered: a message names what to reconcile and the version it saw; the handler
 * reconciles toward the newest state it can read. Duplicates, late and out-of-order deliveries are normal on SQS.
 *
 * A message may carry the object it saw (`object`) so the consumer can skip a read when it is current, but only when
 * it fits the queue's size budget, and never for Secrets: Secret data must not reach a queue message.
 */

const TraceSchema = z.object({
  traceId: z.string().min(1), // correlation id carried from webhook to sync to status
  enqueuedAt: z.string().datetime(), // when the first message of this chain was enqueued (for lag metrics)
});

export const KubeObjectSchema = z
  .object({
    apiVersion: z.string(),
    kind: z.string(),
    metadata: z.looseObject({ name: z.string().optional(), namespace: z.string().optional() }),
  })
  .loose();
export type KubeObjectShape = z.infer<typeof KubeObjectSchema>;

export const PlacementMessageSchema = z.object({
  type: z.literal('placement'),
  ref: ObjectRefSchema,
  /** metadata.generation and resourceVersion as the producer saw them ('' when unknown, e.g. on admission CREATE). */
  generation: z.number().int().nonnegative().optional(),
  resourceVersion: z.string().optional(),
  /** Why this reconcile was asked for; for explanations and metrics, never for control flow that skips work. */
  reason: z.enum([
    'admission',
    'event',
    'resync',
    'cluster-change',
    'placement-change',
    'failover',
    'rebalance',
    'delete',
  ]),
  object: KubeObjectSchema.optional(),
  trace: TraceSchema,
});
export type PlacementMessage = z.infer<typeof PlacementMessageSchema>;

export const SyncMessageSchema = z.object({
  type: z.literal('sync'),
  ref: ObjectRefSchema,
  cluster: z.string().min(1),
  action: z.enum(['apply', 'delete']),
  /** The decision this message came from; sync-apply ignores a message older than the recorded decision. */
  decisionVersion: z.number().int().nonnegative(),
  generation: z.number().int().nonnegative().optional(),
  object: KubeObjectSchema.optional(),
  trace: TraceSchema,
});
export type SyncMessage = z.infer<typeof SyncMessageSchema>;

export const StatusMessageSchema = z.object({
  type: z.literal('status'),
  /** The upstream (kcp) object, recovered from the downstream object's ownership labels and annotations. */
  ref: ObjectRefSchema,
  cluster: z.string().min(1),
  /** The downstream object's resourceVersion on the cluster, for ordering. */
  resourceVersion: z.string().optional(),
  /**
   * Which version `resourceVersion` is. Absent: an admission report's, the version the status write is applied onto
   * (kube-apiserver's admission request carries the object before the write's new version); 'read': the version of
   * the object as read or watched, after its write. The status store orders the two kinds against each other.
   */
  resourceVersionOf: z.literal('read').optional(),
  status: z.record(z.string(), z.unknown()).optional(),
  /**
   * Sent by status-up itself: a refresh of the kcp object that held its write back for reports on their way
   * (lib/sync/status/batch-refresh.ts) comes back as this, delayed. Nothing to store; the refresh never holds back.
   */
  rerun: z.literal(true).optional(),
  trace: TraceSchema,
});
export type StatusMessage = z.infer<typeof StatusMessageSchema>;

export const QueueMessageSchema = z.discriminatedUnion('type', [
  PlacementMessageSchema,
  SyncMessageSchema,
  StatusMessageSchema,
]);
export type QueueMessage = z.infer<typeof QueueMessageSchema>;

/** SQS allows 256 KiB per message; leave room for attributes and JSON escaping. */
export const MAX_CARRIED_MESSAGE_BYTES = 200 * 1024;
