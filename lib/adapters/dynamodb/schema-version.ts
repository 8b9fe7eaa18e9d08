import type { MetadataBearer, MiddlewareStack } from '@smithy/types';
import { ConfigurationError } from '../../errors/tmc-error';

/**
 * The state table's schema version, carried by every item tmc writes as `schemaVersion` (docs/state.md, "Schema
 * versions"). Version 1 is every item written before the attribute existed: it has none. Version 2 stamps the
 * attribute and adds `retireAt` to status credentials (a rotated-out credential's grace period). Version 3 stores
 * decisions compactly (lib/adapters/dynamodb/decision-item.ts): a release before it cannot read them. A reader meets items
 * of every version up to its own, since items are rewritten only when their state changes: each change of format
 * keeps reading the versions before it, and test/integration/state/upgrade.test.ts loads a stored v1 state.
 */
export const STATE_SCHEMA_VERSION = 3;
export const SCHEMA_VERSION_ATTRIBUTE = 'schemaVersion';

/** The version an item was written with: 1 when it carries none. */
export function schemaVersionOf(item: Record<string, unknown>): number {
  const value = item[SCHEMA_VERSION_ATTRIBUTE];
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 1;
}

/** Refuses an item a newer tmc wrote (a rollback): its meaning may have changed in ways this code cannot know. */
export function assertReadableSchema(item: Record<string, unknown>, what: string): void {
  const version = schemaVersionOf(item);
  if (version > STATE_SCHEMA_VERSION) {
    throw new ConfigurationError(
      `${what} was written with state schema ${version}, newer than this tmc's ${STATE_SCHEMA_VERSION}: deploy the newer release again`,
    );
  }
}

type Input = Record<string, unknown>;
const isRecord = (value: unknown): value is Input =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const NAME = '#tmcSchemaVersion';
const VALUE = ':tmcSchemaVersion';

function stampItem(item: unknown): unknown {
  return isRecord(item) ? { ...item, [SCHEMA_VERSION_ATTRIBUTE]: STATE_SCHEMA_VERSION } : item;
}

/** Adds `SET schemaVersion = <version>` to an update: into its SET clause, or as one of its own. */
function stampUpdate(update: Input): Input {
  const expression = typeof update.UpdateExpression === 'string' ? update.UpdateExpression : undefined;
  if (expression === undefined) return update;
  const assignment = `${NAME} = ${VALUE}`;
  return {
    ...update,
    UpdateExpression: /\bSET\s/i.test(expression)
      ? expression.replace(/\bSET\s+/i, `SET ${assignment}, `)
      : `SET ${assignment} ${expression}`,
    ExpressionAttributeNames: {
      ...(isRecord(update.ExpressionAttributeNames) ? update.ExpressionAttributeNames : {}),
      [NAME]: SCHEMA_VERSION_ATTRIBUTE,
    },
    ExpressionAttributeValues: {
      ...(isRecord(update.ExpressionAttributeValues) ? update.ExpressionAttributeValues : {}),
      [VALUE]: STATE_SCHEMA_VERSION,
    },
  };
}

const mapValues = (record: Input, f: (value: unknown) => unknown): Input =>
  Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v)]));

/** The input with the version stamped on what it writes; the caller's objects are not changed. */
function stamp(command: string | undefined, input: Input): Input {
  switch (command) {
    case 'PutItemCommand':
      return { ...input, Item: stampItem(input.Item) };
    case 'UpdateItemCommand':
      return stampUpdate(input);
    case 'BatchWriteItemCommand':
      if (!isRecord(input.RequestItems)) return input;
      return {
        ...input,
        RequestItems: mapValues(input.RequestItems, (requests) =>
          Array.isArray(requests)
            ? requests.map((r: unknown) =>
                isRecord(r) && isRecord(r.PutRequest)
                  ? { ...r, PutRequest: { ...r.PutRequest, Item: stampItem(r.PutRequest.Item) } }
                  : r,
              )
            : requests,
        ),
      };
    case 'TransactWriteItemsCommand':
      if (!Array.isArray(input.TransactItems)) return input;
      return {
        ...input,
        TransactItems: input.TransactItems.map((entry: unknown) => {
          if (!isRecord(entry)) return entry;
          if (isRecord(entry.Put)) return { ...entry, Put: { ...entry.Put, Item: stampItem(entry.Put.Item) } };
          if (isRecord(entry.Update)) return { ...entry, Update: stampUpdate(entry.Update) };
          return entry;
        }),
      };
    default:
      return input;
  }
}

/**
 * Stamps `schemaVersion` on every item a document client writes (Put, Update, BatchWrite, TransactWrite), in one
 * place rather than in each store. It runs before the document client marshals the input (native values), so it is
 * for document clients only (lib/runtime/aws.ts).
 */
export function stampSchemaVersion(client: { middlewareStack: MiddlewareStack<object, MetadataBearer> }): void {
  client.middlewareStack.add(
    (next, context) => (args) => {
      return next(isRecord(args.input) ? { ...args, input: stamp(context.commandName, args.input) } : args);
    },
    { step: 'serialize', priority: 'high', name: 'tmcSchemaVersion' },
  );
}
