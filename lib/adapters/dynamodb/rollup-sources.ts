import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { HealthState } from '../../health/cluster-health';
import { clusterVerdictAt } from '../../health/rules';
import type { CircuitStore } from '../../ports/circuit-store';
import type { HealthStore } from '../../ports/health-store';
import { clusterPk } from './keys';
import { TABLE } from '../../runtime/resources';
import { queryPages } from './table';
import type { QueueDepth, RollupSources, SyncStateSample } from '../../metrics/rollup';

const SyncSampleSchema = z.object({ state: z.string(), updatedAt: z.string() });

export interface DynamoRollupSourcesOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  health: Pick<HealthStore, 'listClusters'>;
  circuits: Pick<CircuitStore, 'get'>;
  /** The SyncTarget mirror's cluster names (DynamoSyncStateStore.knownClusters: one Query on gsi1 `CLUSTERS`). */
  mirror: { knownClusters(): Promise<string[]> };
  queues: { queueDepths(): Promise<QueueDepth[]> };
}

/**
 * The rollup's reads, all indexed: health items through gsi1 `HEALTH`, the mirror through gsi1 `CLUSTERS`, sync items
 * per cluster through gsi1 `CLUSTER#<name>` projected to two attributes, circuits by key. Nothing scans the table.
 */
export class DynamoRollupSources implements RollupSources {
  constructor(private readonly options: DynamoRollupSourcesOptions) {}

  async clusterHealth(now: number): Promise<Array<{ cluster: string; state: HealthState }>> {
    // A stored verdict the probe stopped refreshing describes the past: the gauge says Unknown, as /health does.
    return (await this.options.health.listClusters()).map((h) => ({
      cluster: h.cluster,
      state: clusterVerdictAt(h, now).state,
    }));
  }

  knownClusters(): Promise<string[]> {
    return this.options.mirror.knownClusters();
  }

  async syncStates(cluster: string): Promise<SyncStateSample[]> {
    const index = TABLE.indexes[0];
    const out: SyncStateSample[] = [];
    for await (const page of queryPages(this.options.doc, {
      TableName: this.options.tableName,
      IndexName: index.name,
      KeyConditionExpression: '#g = :g',
      ProjectionExpression: '#state, #updatedAt',
      ExpressionAttributeNames: { '#g': index.partitionKey, '#state': 'state', '#updatedAt': 'updatedAt' },
      ExpressionAttributeValues: { ':g': clusterPk(cluster) },
    })) {
      for (const item of page.Items ?? []) {
        // Other item kinds may share the partition later; only sync items have both attributes.
        const parsed = SyncSampleSchema.safeParse(item);
        if (parsed.success) out.push(parsed.data);
      }
    }
    return out;
  }

  async circuit(cluster: string): Promise<'closed' | 'half-open' | 'open' | undefined> {
    return (await this.options.circuits.get(cluster))?.state;
  }

  queueDepths(): Promise<QueueDepth[]> {
    return this.options.queues.queueDepths();
  }
}
