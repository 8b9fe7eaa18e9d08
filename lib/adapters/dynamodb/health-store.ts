import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { z } from 'zod';
import { InternalError } from '../../errors/tmc-error';
import {
  ClusterHealthSchema,
  ComponentHealthRecordSchema,
  type ClusterHealth,
  type ComponentHealthRecord,
} from '../../health/cluster-health';
import { invocationCounts, windowStartOf, type HealthStore, type InvocationOutcome } from '../../ports/health-store';
import { deleteIfVersion, putIfVersion } from './circuit-store';
import { batchGetItems, isConditionalCheckFailed, keyOf, queryPages } from './table';
import { clusterPk } from './keys';

/**
 * Cluster health items are listed through gsi1 (`HEALTH` / `CLUSTER#<name>`) so /health never scans. Component items
 * are not on gsi1: their names are the functions tmc deploys, so they are read by key, and each of the recorders'
 * writes (per container per window, and every scheduled run) is billed on the table only, not again on the index.
 */
const HEALTH_INDEX_PK = 'HEALTH';

export function clusterHealthKey(cluster: string): { pk: string; sk: string } {
  return { pk: clusterPk(cluster), sk: 'HEALTH' };
}

export function componentHealthKey(component: string): { pk: string; sk: string } {
  return { pk: `COMPONENT#${component}`, sk: 'HEALTH' };
}

const KEY_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk'];

function parseItem<T>(schema: z.ZodType<T>, item: Record<string, unknown>, what: string): T {
  const data = Object.fromEntries(Object.entries(item).filter(([k]) => !KEY_ATTRIBUTES.includes(k)));
  const parsed = schema.safeParse(data);
  if (!parsed.success)
    throw new InternalError(
      `${what} item is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/**
 * Cluster and component health in the state table.
 *
 * Cluster items are whole-item Puts conditional on `version` (two writers: health-probe and sync-apply's
 * reportClusterFailure). Component counters are UpdateItem with ADD — one call per invocation; once per five-minute
 * window per function a second call rolls the window (the first call's condition `windowStart = :current` fails).
 */
export class DynamoHealthStore implements HealthStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getCluster(cluster: string): Promise<ClusterHealth | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: clusterHealthKey(cluster), ConsistentRead: true }),
    );
    return out.Item === undefined
      ? undefined
      : parseItem(ClusterHealthSchema, out.Item, `Cluster health of ${cluster}`);
  }

  async listClusters(): Promise<ClusterHealth[]> {
    return (await this.listIndex('CLUSTER#')).map((item) => parseItem(ClusterHealthSchema, item, 'Cluster health'));
  }

  async putCluster(next: ClusterHealth, expectedVersion: number): Promise<boolean> {
    const record = ClusterHealthSchema.parse(next);
    const item = {
      ...record,
      ...clusterHealthKey(record.cluster),
      gsi1pk: HEALTH_INDEX_PK,
      gsi1sk: clusterPk(record.cluster),
    };
    return putIfVersion(this.doc, this.tableName, item, expectedVersion);
  }

  async deleteCluster(cluster: string, expectedVersion: number): Promise<boolean> {
    return deleteIfVersion(this.doc, this.tableName, clusterHealthKey(cluster), expectedVersion);
  }

  async recordInvocation(component: string, outcome: InvocationOutcome): Promise<void> {
    const start = windowStartOf(outcome.at);
    const at = new Date(outcome.at).toISOString();
    const sets = [
      '#component = :component',
      'lastInvocationAt = :at',
      outcome.ok ? 'lastSuccessAt = :at' : 'lastErrorAt = :at',
    ];
    // An item written when components were listed through gsi1 leaves it (its next write pays the index's delete once;
    // removing attributes that are not there costs nothing).
    const leaveIndex = 'REMOVE gsi1pk, gsi1sk';
    const values: Record<string, unknown> = {
      ':component': component,
      ':at': at,
      ':one': invocationCounts(outcome).invocations,
      ':err': invocationCounts(outcome).errors,
      ':start': start,
    };
    if (outcome.backlogAgeSeconds !== undefined) {
      sets.push('backlogAgeSeconds = :backlog', 'backlogObservedAt = :at');
      values[':backlog'] = outcome.backlogAgeSeconds;
    }
    const names = { '#component': 'component', '#errors': 'errors' };
    const key = componentHealthKey(component);
    const totals = 'invocations :one, #errors :err';
    const attempts = [
      // The common case: the current window is stored; add to it.
      {
        expr: `SET ${sets.join(', ')} ADD ${totals}, windowInvocations :one, windowErrors :err ${leaveIndex}`,
        cond: 'windowStart = :start',
      },
      // A new window: the stored one becomes the previous one.
      {
        expr:
          `SET ${sets.join(', ')}, prevWindowStart = if_not_exists(windowStart, :start), ` +
          'prevWindowInvocations = if_not_exists(windowInvocations, :zero), prevWindowErrors = if_not_exists(windowErrors, :zero), ' +
          `windowStart = :start, windowInvocations = :one, windowErrors = :err ADD ${totals} ${leaveIndex}`,
        cond: 'attribute_not_exists(windowStart) OR windowStart < :start',
        extra: { ':zero': 0 },
      },
      // Another container rolled the window between our two calls: add to it after all.
      {
        expr: `SET ${sets.join(', ')} ADD ${totals}, windowInvocations :one, windowErrors :err ${leaveIndex}`,
        cond: 'windowStart = :start',
      },
    ];
    for (const attempt of attempts) {
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: attempt.expr,
            ConditionExpression: attempt.cond,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ...values, ...(attempt.extra ?? {}) },
          }),
        );
        return;
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
      }
    }
    // A clock behind the stored window (skew between containers): count the totals, leave the windows alone.
    const { ':start': _start, ...rest } = values;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: `SET ${sets.join(', ')} ADD ${totals} ${leaveIndex}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: rest,
      }),
    );
  }

  async getComponent(component: string): Promise<ComponentHealthRecord | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: componentHealthKey(component) }));
    return out.Item === undefined
      ? undefined
      : parseItem(ComponentHealthRecordSchema, out.Item, `Component health of ${component}`);
  }

  async listComponents(names: readonly string[]): Promise<ComponentHealthRecord[]> {
    const keys = names.map(componentHealthKey);
    const items = await batchGetItems(this.doc, this.tableName, keys);
    const records: ComponentHealthRecord[] = [];
    for (const key of keys) {
      // A key DynamoDB left unprocessed after its retries is read on its own: a component is never dropped for it.
      const item = items.has(keyOf(key))
        ? items.get(keyOf(key))
        : (await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key }))).Item;
      if (item !== undefined)
        records.push(parseItem(ComponentHealthRecordSchema, item, `Component health of ${key.pk}`));
    }
    return records.sort((a, b) => a.component.localeCompare(b.component));
  }

  private async listIndex(prefix: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for await (const out of queryPages(this.doc, {
      TableName: this.tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk AND begins_with(gsi1sk, :prefix)',
      ExpressionAttributeValues: { ':pk': HEALTH_INDEX_PK, ':prefix': prefix },
    })) {
      items.push(...(out.Items ?? []));
    }
    return items;
  }
}
