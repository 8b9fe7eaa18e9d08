import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureTable, startLocalDynamo } from '../../../lib/local/aws-services';
import { TABLE } from '../../../lib/runtime/resources';

export interface LocalTable {
  doc: DynamoDBDocumentClient;
  tableName: string;
  endpoint: string;
  close(): Promise<void>;
}

/**
 * Records the command name of every request `doc` sends (`GetItemCommand`, `UpdateItemCommand`, …) until `stop()`:
 * counted below the document client, so whatever a store sends is seen.
 */
export function countRequests(doc: DynamoDBDocumentClient): { requests: string[]; stop: () => void } {
  const requests: string[] = [];
  const name = `countRequests-${Math.random().toString(36).slice(2)}`;
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      requests.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name },
  );
  return { requests, stop: () => void doc.middlewareStack.remove(name) };
}

/** dynalite on a free port with the state table created from TABLE (resources.ts), as the local stack does. */
export async function startLocalTable(): Promise<LocalTable> {
  const dynamo = await startLocalDynamo();
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(client, TABLE.baseName);
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    doc,
    tableName: TABLE.baseName,
    endpoint: dynamo.endpoint,
    close: async (): Promise<void> => {
      client.destroy();
      await dynamo.stop();
    },
  };
}
