import { DynamoDBClient, paginateScan, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { TABLE } from '../../lib/runtime/resources';
import { itemKind } from './item-kind';
import { percentile } from './stats';

/**
 * An item's size as DynamoDB bills it (the developer guide's "DynamoDB item sizes and formats"): each attribute's
 * UTF-8 name plus its value, where a string is its UTF-8 bytes, a binary its raw bytes, a number about one byte per two
 * significant digits plus one, a boolean or null one byte, and a list or map 3 bytes plus one per element plus its
 * elements (a map's elements counted with their names); a set is its members.
 */
export function itemSize(item: Record<string, AttributeValue>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) bytes += Buffer.byteLength(name) + valueSize(value);
  return bytes;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((n, s) => n + numberSize(s), 0);
  if (value.BS !== undefined) return value.BS.reduce((n, b) => n + b.byteLength, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((n, v) => n + 1 + valueSize(v), 0);
  if (value.M !== undefined) return 3 + Object.keys(value.M).length + itemSize(value.M);
  throw new Error(`Unknown DynamoDB attribute value type: ${Object.keys(value).join(',')}`);
}

/** One byte per two significant digits (leading and trailing zeros trimmed) plus one. */
function numberSize(n: string): number {
  const digits = n
    .replace(/^[-+]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(digits.length / 2) + 1;
}

/** Write units of one item of `bytes`: 1 per KiB started, at least 1. */
export const writeUnitsOf = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));

type Item = Record<string, AttributeValue>;

/** A global secondary index as its writes are billed: its key attributes, the table's, and what it projects. */
export interface IndexShape {
  keys: readonly string[];
  tableKeys: readonly string[];
  /** `ALL`, or the non-key attributes it includes (none: KEYS_ONLY). */
  projection: 'ALL' | readonly string[];
}

/** The state table's gsi1 as lib/runtime/resources.ts defines it (infra and the local stack create it from there). */
export const GSI1: IndexShape = {
  keys: [TABLE.indexes[0].partitionKey, TABLE.indexes[0].sortKey],
  tableKeys: [TABLE.partitionKey, TABLE.sortKey],
  projection: TABLE.indexes[0].projection,
};

/** The item's entry in the index (undefined when it lacks an index key attribute: a sparse index leaves it out). */
function indexEntry(item: Item | undefined, index: IndexShape): Item | undefined {
  if (item === undefined || index.keys.some((k) => item[k] === undefined)) return undefined;
  if (index.projection === 'ALL') return item;
  const names = [...index.keys, ...index.tableKeys, ...index.projection];
  return Object.fromEntries(Object.entries(item).filter(([name]) => names.includes(name)));
}

const sameValue = (a: AttributeValue | undefined, b: AttributeValue | undefined): boolean =>
  JSON.stringify(a) === JSON.stringify(b);

// DynamoDB's rules, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.Writes
/**
 * Write units a table write adds on an index, from the item before and after it (undefined: no item): 0 when the item
 * is in the index neither before nor after, or no projected attribute changed; a put of the new entry when it enters,
 * a delete of the old one when it leaves, both when an index key changes; else one write of the larger entry.
 */
export function indexWriteUnits(before: Item | undefined, after: Item | undefined, index: IndexShape): number {
  const old = indexEntry(before, index);
  const next = indexEntry(after, index);
  if (old === undefined && next === undefined) return 0;
  if (old === undefined) return writeUnitsOf(itemSize(next ?? {}));
  if (next === undefined) return writeUnitsOf(itemSize(old));
  if (index.keys.some((k) => !sameValue(old[k], next[k])))
    return writeUnitsOf(itemSize(old)) + writeUnitsOf(itemSize(next));
  const names = new Set([...Object.keys(old), ...Object.keys(next)]);
  if ([...names].every((name) => sameValue(old[name], next[name]))) return 0;
  return writeUnitsOf(Math.max(itemSize(old), itemSize(next)));
}

/** The sizes of the items of one kind (the sort key's prefix, as the request counter groups them). */
export interface KindSizes {
  count: number;
  meanBytes: number;
  p95Bytes: number;
  maxBytes: number;
  /** Share of the items over 1 KiB (billed 2 write units or more). */
  overOneKiB: number;
  /** Mean write units of a write of one of these items (each item's own units, averaged). */
  unitsPerWrite: number;
  /**
   * Mean write units a write of one of these items adds on gsi1: its entry's units when it carries gsi1's keys (a put,
   * a delete, or an update of a projected attribute), 0 when not. A write that moves an item into or out of the index
   * or changes its index key is billed by the item's state at the end (an understatement of a key change's second write).
   */
  gsi1UnitsPerWrite: number;
  /** Share of the items that carry gsi1's keys. */
  onGsi1: number;
  /** Each attribute, name and value: mean bytes per item of the kind, largest first. */
  attributes: Record<string, number>;
}

/** {@link KindSizes} as a results file holds it (bench/results/*.json: `itemBytes`), for reading one back. */
export const KindSizesSchema: z.ZodType<KindSizes> = z.object({
  count: z.number(),
  meanBytes: z.number(),
  p95Bytes: z.number(),
  maxBytes: z.number(),
  overOneKiB: z.number(),
  unitsPerWrite: z.number(),
  gsi1UnitsPerWrite: z.number(),
  onGsi1: z.number(),
  attributes: z.record(z.string(), z.number()),
});

/** Per-kind size statistics of the items given. */
export function sizesByKind(items: readonly Item[]): Record<string, KindSizes> {
  const groups = new Map<string, Array<Record<string, AttributeValue>>>();
  for (const item of items) {
    const kind = itemKind(item.sk?.S, item.pk?.S);
    const group = groups.get(kind) ?? [];
    group.push(item);
    groups.set(kind, group);
  }
  const out: Record<string, KindSizes> = {};
  for (const [kind, group] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const sizes = group.map(itemSize).sort((a, b) => a - b);
    const attributes = new Map<string, number>();
    for (const item of group)
      for (const [name, value] of Object.entries(item))
        attributes.set(name, (attributes.get(name) ?? 0) + itemSize({ [name]: value }));
    const weights = [...attributes]
      .sort((a, b) => b[1] - a[1])
      .map(([name, total]) => [name, Math.round(total / group.length)] as const);
    out[kind] = {
      count: group.length,
      meanBytes: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length),
      p95Bytes: percentile(sizes, 0.95),
      maxBytes: sizes[sizes.length - 1],
      overOneKiB: sizes.filter((s) => s > 1024).length / sizes.length,
      unitsPerWrite: sizes.reduce((n, s) => n + writeUnitsOf(s), 0) / sizes.length,
      gsi1UnitsPerWrite: group.reduce((n, item) => n + indexWriteUnits(undefined, item, GSI1), 0) / group.length,
      onGsi1: group.filter((item) => indexEntry(item, GSI1) !== undefined).length / group.length,
      attributes: Object.fromEntries(weights),
    };
  }
  return out;
}

/** Scans the table through the stack's DynamoDB endpoint and sizes every item by kind. */
export async function scanItemSizes(endpoint: string, tableName: string): Promise<Record<string, KindSizes>> {
  const client = new DynamoDBClient({
    region: process.env.AWS_REGION ?? 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const items: Array<Record<string, AttributeValue>> = [];
  try {
    for await (const page of paginateScan({ client }, { TableName: tableName })) items.push(...(page.Items ?? []));
  } finally {
    client.destroy();
  }
  return sizesByKind(items);
}
