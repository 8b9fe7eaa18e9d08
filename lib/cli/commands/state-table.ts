import type { Command } from 'commander';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { readStackEndpoints } from '../../local/endpoints-file';
import { makeDynamoDocumentClient } from '../../runtime/aws';
import { TABLE } from '../../runtime/resources';

/** The flags of every command that reads tmc's state table (`tmc trace`, `tmc placement …`, `tmc recovery …`). */
export interface StateTableOptions {
  stateDir: string;
  dynamodbEndpoint?: string;
  table?: string;
  region?: string;
}

export interface StateTable {
  doc: DynamoDBDocumentClient;
  table: string;
}

/**
 * Adds the flags. With none given, the commands read the local stack running on `.tmc` (its endpoints file: dynalite
 * takes a new port on every start); `--table` (and `--region`) name a deployed table, reached with the AWS
 * credential chain.
 */
export function withStateTableOptions(command: Command): Command {
  return command
    .option('--state-dir <dir>', 'state directory of the running local stack', '.tmc')
    .option(
      '--dynamodb-endpoint <url>',
      'DynamoDB endpoint (default: the local stack on --state-dir)',
      process.env.TMC_DYNAMODB_ENDPOINT,
    )
    .option(
      '--table <name>',
      `state table (default: the local stack's, or TMC_TABLE_NAME; locally ${TABLE.baseName})`,
      process.env.TMC_TABLE_NAME,
    )
    .option('--region <region>', "AWS region (default: the local stack's, or AWS_REGION)");
}

/** The table the flags name, or an error that says how to name one. The caller destroys `doc` when done. */
export function openStateTable(options: StateTableOptions): StateTable {
  const local = options.dynamodbEndpoint === undefined ? readStackEndpoints(options.stateDir) : undefined;
  const table = options.table ?? local?.table ?? (options.dynamodbEndpoint !== undefined ? TABLE.baseName : undefined);
  if (table === undefined) {
    throw new Error(
      `No local stack is running on ${options.stateDir} (no endpoints.json): start one with \`npm start\`, pass --state-dir, or name a deployed table with --table (and --region)`,
    );
  }
  const region = options.region ?? local?.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const doc = makeDynamoDocumentClient({
    region,
    dynamodbEndpoint: options.dynamodbEndpoint ?? local?.dynamodb,
    sqsEndpoint: undefined,
  });
  return { doc, table };
}
