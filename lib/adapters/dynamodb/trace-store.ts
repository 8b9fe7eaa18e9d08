import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { objectKey, type ObjectRef } from '../../api/object-ref';
import { noTrace, TraceStepSchema, type ObjectTrace, type TraceRecorder, type TraceStep } from '../../ports/trace-recorder';
import { isConditionalCheckFailed } from './table';
import { TABLE } from '../../runtime/resources';

/**
 * The path of an object's last change, for `tmc trace`: item `OBJ#<obj>` / `TRACE` (docs/observability.md). Ingress
 * starts it when it enqueues a change (a newer change replaces it); placement, sync-apply and status-up add one
 * attribute per step. Steps are written only when something changed (a decision, an apply, a status write), so a no-op
 * resync still writes nothing; the item expires after `TRACE_TTL_SECONDS`. Recording is best effort: a failed write is
 * reported to `onError` and never fails the message.
 */

export const TRACE_TTL_SECONDS = 7 * 24 * 3600;
const STEP_PREFIX = 'step:';

const key = (ref: ObjectRef): Record<string, string> => ({
  [TABLE.partitionKey]: `OBJ#${objectKey(ref)}`,
  [TABLE.sortKey]: 'TRACE',
});

export class DynamoTraceStore implements TraceRecorder {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly onError: (err: unknown) => void = (): void => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async begin(ref: ObjectRef, step: TraceStep): Promise<void> {
    await this.guard(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...key(ref),
            traceId: step.traceId,
            startedAt: step.at,
            [TABLE.ttlAttribute]: this.expiresAt(),
            [`${STEP_PREFIX}received`]: step,
          },
          // A late webhook for an older change must not replace the trace of a newer one.
          ConditionExpression: 'attribute_not_exists(#pk) OR #startedAt <= :at',
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#startedAt': 'startedAt' },
          ExpressionAttributeValues: { ':at': step.at },
        }),
      ),
    );
  }

  async step(ref: ObjectRef, name: string, step: TraceStep): Promise<void> {
    await this.steps(ref, step.traceId, { [name]: step });
  }

  async steps(ref: ObjectRef, traceId: string, steps: Record<string, TraceStep>): Promise<void> {
    if (Object.keys(steps).length === 0) return;
    await this.update(ref, steps, '#traceId = :traceId', { ':traceId': traceId });
  }

  async stepOnCurrent(ref: ObjectRef, name: string, step: TraceStep): Promise<string | undefined> {
    return this.stepsOnCurrent(ref, { [name]: step });
  }

  async stepsOnCurrent(ref: ObjectRef, steps: Record<string, TraceStep>): Promise<string | undefined> {
    if (Object.keys(steps).length === 0) return undefined;
    const updated = await this.update(ref, steps, 'attribute_exists(#traceId)', {});
    const traceId: unknown = updated?.traceId;
    return typeof traceId === 'string' ? traceId : undefined;
  }

  async read(ref: ObjectRef): Promise<ObjectTrace | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key(ref), ConsistentRead: true }));
    const item = out.Item;
    if (item === undefined || typeof item.traceId !== 'string' || typeof item.startedAt !== 'string') return undefined;
    const steps: Record<string, TraceStep> = {};
    for (const [attr, value] of Object.entries(item)) {
      if (!attr.startsWith(STEP_PREFIX)) continue;
      const parsed = TraceStepSchema.safeParse(value);
      if (parsed.success) steps[attr.slice(STEP_PREFIX.length)] = parsed.data;
    }
    return { traceId: item.traceId, startedAt: item.startedAt, steps };
  }

  private async update(
    ref: ObjectRef,
    steps: Record<string, TraceStep>,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<Record<string, unknown> | undefined> {
    const entries = Object.entries(steps);
    const names = Object.fromEntries(entries.map(([name], i) => [`#step${i}`, `${STEP_PREFIX}${name}`]));
    const stepValues = Object.fromEntries(entries.map(([, step], i) => [`:step${i}`, step]));
    const out = await this.guard(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(ref),
          UpdateExpression: `SET ${entries.map((_, i) => `#step${i} = :step${i}`).join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: { ...names, '#traceId': 'traceId' },
          ExpressionAttributeValues: { ...stepValues, ...values },
          // The item is a handful of small attributes: returning it costs nothing and names the current change.
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return out?.Attributes;
  }

  private expiresAt(): number {
    return Math.floor(this.now() / 1000) + TRACE_TTL_SECONDS;
  }

  private async guard<T>(write: () => Promise<T>): Promise<T | undefined> {
    try {
      return await write();
    } catch (err) {
      if (!isConditionalCheckFailed(err)) this.onError(err);
      return undefined;
    }
  }
}

/** Called with the change a buffered on-current step landed on (undefined: no trace item, or the write failed). */
export type OnCurrentChange = (change: string | undefined) => void;

interface OnCurrentEntry {
  ref: ObjectRef;
  steps: Record<string, TraceStep>;
  callbacks: OnCurrentChange[];
}

/**
 * Steps gathered over one invocation and written when it ends, one update per object and change: a sync-apply batch
 * that applies an object to three clusters writes its three `applied:<cluster>` steps in one UpdateItem, not three,
 * and a status-up batch with three clusters' status for one object writes its `status:<cluster>` steps in one.
 * A step is recorded after its work is done, so deferring the write to the end of the batch loses nothing `tmc trace`
 * shows; the caller must `flush()` before the invocation returns (a frozen Lambda container writes nothing).
 */
export class TraceStepBuffer {
  private readonly pending = new Map<string, { ref: ObjectRef; traceId: string; steps: Record<string, TraceStep> }>();
  private readonly onCurrent = new Map<string, OnCurrentEntry>();

  constructor(private readonly recorder: TraceRecorder) {}

  step(ref: ObjectRef, name: string, step: TraceStep): void {
    const id = `${objectKey(ref)}|${step.traceId}`;
    const entry = this.pending.get(id) ?? { ref, traceId: step.traceId, steps: {} };
    entry.steps[name] = step;
    this.pending.set(id, entry);
  }

  /**
   * A step on whatever change is current when the buffer is flushed ({@link TraceRecorder.stepOnCurrent}). The
   * change's id is handed to `then` during `flush()`, not returned: a message of the batch that awaited it would wait
   * for the batch's end, which waits for that message. A later step of the same name replaces an earlier one.
   */
  stepOnCurrent(ref: ObjectRef, name: string, step: TraceStep, then?: OnCurrentChange): void {
    const id = objectKey(ref);
    const entry = this.onCurrent.get(id) ?? { ref, steps: {}, callbacks: [] };
    entry.steps[name] = step;
    if (then !== undefined) entry.callbacks.push(then);
    this.onCurrent.set(id, entry);
  }

  async flush(): Promise<void> {
    const entries = [...this.pending.values()];
    const current = [...this.onCurrent.values()];
    this.pending.clear();
    this.onCurrent.clear();
    await Promise.all([
      ...entries.map((e) => this.recorder.steps(e.ref, e.traceId, e.steps)),
      ...current.map(async (e) => {
        const change = await this.recorder.stepsOnCurrent(e.ref, e.steps);
        for (const then of e.callbacks) then(change);
      }),
    ]);
  }
}

/** Trace recording is on unless `TMC_TRACE=off` (it costs one small write per step of a real change). */
export function traceEnabled(env: Record<string, string | undefined>): boolean {
  return (env.TMC_TRACE ?? 'on').trim().toLowerCase() !== 'off';
}

/** The recorder a composition root uses: the table's, or nothing when tracing is off. */
export function traceRecorderFor(
  env: Record<string, string | undefined>,
  doc: DynamoDBDocumentClient,
  tableName: string,
  warn: (message: string, extra: Record<string, unknown>) => void,
): TraceRecorder {
  if (!traceEnabled(env)) return noTrace;
  return new DynamoTraceStore(doc, tableName, (err) =>
    warn('Could not record a trace step', { error: err instanceof Error ? err.message : String(err) }),
  );
}
