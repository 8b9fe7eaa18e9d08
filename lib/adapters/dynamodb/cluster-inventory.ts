import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { TaintSchema } from '../../api/crds/sync-target';
import { ObjectRefSchema, type ObjectRef } from '../../api/object-ref';
import { ClusterHealthSchema } from '../../health/cluster-health';
import type { ClusterInventory, SyncTargetMirror } from '../../ports/cluster-inventory';
import type { ClusterInfo } from '../../placement/types';
import { clusterPk } from './keys';
import { TABLE } from '../../runtime/resources';
import { queryPages } from './table';

const ResourcesSchema = z.object({
  cpu: z.number().optional(),
  memory: z.number().optional(),
  pods: z.number().optional(),
});

export const SyncTargetMirrorSchema = z.object({
  workspace: z.string().min(1),
  name: z.string().min(1),
  uid: z.string().optional(),
  endpoint: z.string(),
  credentialsRef: z.string(),
  labels: z.record(z.string(), z.string()),
  taints: z.array(TaintSchema),
  unschedulable: z.boolean(),
  evictAfterSeconds: z.number().optional(),
  allowedRiskyKinds: z.array(z.string()).optional(),
  capacity: ResourcesSchema.optional(),
  allocatable: ResourcesSchema.optional(),
  hash: z.string(),
  updatedAt: z.string(),
});

const metaSk = (workspace: string): string => `META#${workspace}`;
const MIRROR_INDEX_PK = 'CLUSTERS';
const HEALTH_INDEX_PK = 'HEALTH';

/** Total minus free: what the cluster reports in use, when it reports both. */
function allocatedOf(m: SyncTargetMirror): ClusterInfo['allocated'] {
  if (!m.capacity || !m.allocatable) return undefined;
  const used = (total?: number, free?: number): number | undefined =>
    total === undefined || free === undefined ? undefined : Math.max(0, total - free);
  return {
    cpu: used(m.capacity.cpu, m.allocatable.cpu),
    memory: used(m.capacity.memory, m.allocatable.memory),
    pods: used(m.capacity.pods, m.allocatable.pods),
  };
}

/**
 * SyncTargets mirrored in the state table, merged with health (`CLUSTER#<name>` / `HEALTH`, written by the health
 * system). Two Queries per workspace listing, both on gsi1; no scans.
 */
export class DynamoClusterInventory implements ClusterInventory {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private async queryAll(pk: string, skPrefix?: string): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    for await (const out of queryPages(this.doc, {
      TableName: this.tableName,
      IndexName: TABLE.indexes[0].name,
      KeyConditionExpression: skPrefix ? 'gsi1pk = :pk AND begins_with(gsi1sk, :sk)' : 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': pk, ...(skPrefix ? { ':sk': skPrefix } : {}) },
    })) {
      items.push(...(out.Items ?? []));
    }
    return items;
  }

  async list(workspace: string): Promise<ClusterInfo[]> {
    const [mirrors, health] = await Promise.all([
      this.queryAll(MIRROR_INDEX_PK, `${workspace}|`),
      this.queryAll(HEALTH_INDEX_PK, 'CLUSTER#'),
    ]);
    const byName = new Map<string, z.infer<typeof ClusterHealthSchema>>();
    for (const item of health) {
      const parsed = ClusterHealthSchema.safeParse(item);
      if (parsed.success) byName.set(parsed.data.cluster, parsed.data);
    }
    return mirrors
      .map((item) => SyncTargetMirrorSchema.parse(item))
      .map((m) => {
        const h = byName.get(m.name);
        const since = h?.state === 'Unhealthy' ? Date.parse(h.since) : undefined;
        const available = h !== undefined && h.state !== 'Unhealthy' ? Date.parse(h.since) : undefined;
        return {
          name: m.name,
          labels: m.labels,
          taints: m.taints,
          unschedulable: m.unschedulable,
          health: h?.state ?? 'Unknown',
          ...(since !== undefined && Number.isFinite(since) ? { unhealthySince: since } : {}),
          ...(available !== undefined && Number.isFinite(available) ? { availableSince: available } : {}),
          ...(m.evictAfterSeconds !== undefined ? { evictAfterSeconds: m.evictAfterSeconds } : {}),
          ...(m.allowedRiskyKinds ? { allowedRiskyKinds: m.allowedRiskyKinds } : {}),
          ...(m.capacity ? { capacity: m.capacity } : {}),
          ...(m.allocatable ? { allocatable: m.allocatable } : {}),
          ...(allocatedOf(m) ? { allocated: allocatedOf(m) } : {}),
        };
      })
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async getMirror(workspace: string, name: string): Promise<SyncTargetMirror | undefined> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk AND #sk = :sk',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey },
        ExpressionAttributeValues: { ':pk': clusterPk(name), ':sk': metaSk(workspace) },
        ConsistentRead: true,
      }),
    );
    const item = out.Items?.[0];
    return item ? SyncTargetMirrorSchema.parse(item) : undefined;
  }

  async putMirror(mirror: SyncTargetMirror): Promise<void> {
    const item = {
      ...SyncTargetMirrorSchema.parse(mirror),
      [TABLE.partitionKey]: clusterPk(mirror.name),
      [TABLE.sortKey]: metaSk(mirror.workspace),
      gsi1pk: MIRROR_INDEX_PK,
      gsi1sk: `${mirror.workspace}|${mirror.name}`,
    };
    // Last writer wins: the mirror is recomputed from the SyncTarget as read from kcp at that moment.
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  async deleteMirror(workspace: string, name: string): Promise<void> {
    await this.doc.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { [TABLE.partitionKey]: clusterPk(name), [TABLE.sortKey]: metaSk(workspace) },
      }),
    );
  }

  async objectsOn(cluster: string, limit: number): Promise<ObjectRef[]> {
    const refs: ObjectRef[] = [];
    for await (const out of queryPages(this.doc, {
      TableName: this.tableName,
      IndexName: TABLE.indexes[0].name,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': clusterPk(cluster) },
      Limit: Math.min(1000, limit),
    })) {
      for (const item of out.Items ?? []) {
        // sync items carry `ref`; other items under CLUSTER# (if any) do not and are skipped.
        const parsed = ObjectRefSchema.safeParse(item.ref);
        if (parsed.success && item.state !== 'deleted') refs.push(parsed.data);
      }
      if (refs.length >= limit) break;
    }
    return refs.slice(0, limit);
  }
}
