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

/** dynalite on a free port with the state table created from TABLE (resources.ts), as the local stack does. */
export async function startLocalTable(): Promise<LocalTable> {
  const dynamo = await startLocalDynamo();
  const client = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
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
