import { z } from 'zod';
import { objectKey, type ObjectRef } from '../api/object-ref';
import { ConfigurationError, InternalError, StaleGenerationError } from '../errors/tmc-error';
import {
  DecisionViewSchema,
  SyncRecordSchema,
  syncRecordKey,
  type DecisionView,
  type SyncRecord,
  type SyncStateReads,
  type SyncStateStore,
} from '../ports/sync-state-store';
import { WorkPageSchema } from '../vw/syncer-view';
import type { VwClient } from './vw-client';

const ReadsSchema = z.object({
  decisions: z.array(z.tuple([z.string(), DecisionViewSchema.nullable()])),
  records: z.array(z.tuple([z.string(), SyncRecordSchema.nullable()])),
});

/**
 * The sync-state port in pull mode: the same records sync-apply keeps in DynamoDB, read and written through the
 * virtual workspace, which stores them exactly as push mode does (conditional on decision version and generation).
 * It sees only its own SyncTarget's records: the view refuses anything else.
 */
export class VwSyncStateStore implements SyncStateStore {
  constructor(
    private readonly client: VwClient,
    private readonly cluster: string,
  ) {}

  async get(ref: ObjectRef, cluster: string): Promise<SyncRecord | undefined> {
    const reads = await this.readMany({ decisions: [], records: [{ ref, cluster }] });
    return reads.records.get(syncRecordKey(ref, cluster));
  }

  /** Only this SyncTarget's record: the finalizer release that needs every cluster's is decided by the view. */
  async listForObject(ref: ObjectRef): Promise<SyncRecord[]> {
    const own = await this.get(ref, this.cluster);
    return own === undefined ? [] : [own];
  }

  async listForCluster(
    cluster: string,
    options: { downstreamNamespace?: string; limit?: number; after?: string } = {},
  ): Promise<SyncRecord[]> {
    this.own(cluster);
    const out: SyncRecord[] = [];
    let after = options.after;
    for (;;) {
      const page = WorkPageSchema.parse(
        await this.client.request('GET', 'work', undefined, {
          ...(after !== undefined ? { after } : {}),
          limit: String(Math.min(options.limit ?? 500, 500)),
        }),
      );
      out.push(
        ...page.items.filter(
          (r) => options.downstreamNamespace === undefined || r.downstreamNamespace === options.downstreamNamespace,
        ),
      );
      if (page.next === undefined || (options.limit !== undefined && out.length >= options.limit))
        return options.limit === undefined ? out : out.slice(0, options.limit);
      after = page.next;
    }
  }

  async put(record: SyncRecord): Promise<void> {
    this.own(record.cluster);
    try {
      await this.client.request('POST', 'records', record);
    } catch (err) {
      // The view answers 409 exactly when the store's conditional put refused an older record.
      if (err instanceof Error && 'statusCode' in err && err.statusCode === 409)
        throw new StaleGenerationError(`A newer record of ${objectKey(record.ref)} on ${record.cluster} is stored`, {
          cause: err,
        });
      throw err;
    }
  }

  async knownClusters(): Promise<string[]> {
    // Only asked when deciding whether a SyncTarget is gone; the syncer's own exists while it is served.
    return [this.cluster];
  }

  async decision(ref: ObjectRef): Promise<DecisionView | undefined> {
    const reads = await this.readMany({ decisions: [ref], records: [] });
    return reads.decisions.get(objectKey(ref));
  }

  async readMany(keys: {
    decisions: readonly ObjectRef[];
    records: ReadonlyArray<{ ref: ObjectRef; cluster: string }>;
  }): Promise<SyncStateReads> {
    for (const key of keys.records) this.own(key.cluster);
    const body = await this.client.request('POST', 'read', {
      decisions: keys.decisions,
      records: keys.records.map((k) => k.ref),
    });
    if (body === undefined) throw new InternalError('The virtual workspace has no read operation');
    const reads = ReadsSchema.parse(body);
    return {
      decisions: new Map(reads.decisions.map(([key, value]) => [key, value ?? undefined])),
      records: new Map(reads.records.map(([key, value]) => [key, value ?? undefined])),
    };
  }

  private own(cluster: string): void {
    if (cluster !== this.cluster)
      throw new ConfigurationError(`The syncer of ${this.cluster} cannot read or write records of ${cluster}`);
  }
}
