import { DynamoDBClient, paginateScan, type AttributeValue } from '@aws-sdk/client-dynamodb';
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
  /** Each attribute, name and value: mean bytes per item of the kind, largest first. */
  attributes: Record<string, number>;
}

/** Per-kind size statistics of the items given. */
export function sizesByKind(items: ReadonlyArray<Record<string, AttributeValue>>): Record<string, KindSizes> {
  const groups = new Map<string, Array<Record<string, AttributeValue>>>();
  for (const item of items) {
    const kind = itemKind(item.sk?.S);
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
