import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type PutCommandInput,
  type UpdateCommandInput,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { StaleGenerationError } from '../../errors/tmc-error';
import { tableNameOf, type TmcConfig } from '../../runtime/config';
import { TABLE } from '../../runtime/resources';

/** The state table's name: from the environment when set (cloud: stage-prefixed), else the local base name. */
export function resolveTableName(config: Pick<TmcConfig, 'tableName'>): string {
  return config.tableName ?? TABLE.baseName;
}

/** The state table's name, required (a function that writes state must not fall back silently). */
export function requireTableName(config: TmcConfig): string {
  return tableNameOf(config);
}

/** True for DynamoDB's "condition not met", whichever client (plain or document) threw it. */
export function isConditionalCheckFailed(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err instanceof Error && err.name === 'ConditionalCheckFailedException');
}

/**
 * A conditional Put. A failed condition means a newer generation or version is already recorded: it becomes
 * StaleGenerationError (category `stale`, strategy `ignore`), which consumers treat as done, not as a failure.
 */
export async function conditionalPut(doc: DynamoDBDocumentClient, input: PutCommandInput & { ConditionExpression: string }, what: string): Promise<void> {
  try {
    await doc.send(new PutCommand(input));
  } catch (err) {
    if (isConditionalCheckFailed(err)) throw new StaleGenerationError(`A newer ${what} is already recorded`, { cause: err, object: what });
    throw err;
  }
}

/** A conditional Update, translated like {@link conditionalPut}; returns the SDK's output (with ReturnValues if asked). */
export async function conditionalUpdate(
  doc: DynamoDBDocumentClient,
  input: UpdateCommandInput & { ConditionExpression: string },
  what: string,
): Promise<UpdateCommandOutput> {
  try {
    return await doc.send(new UpdateCommand(input));
  } catch (err) {
    if (isConditionalCheckFailed(err)) throw new StaleGenerationError(`A newer ${what} is already recorded`, { cause: err, object: what });
    throw err;
  }
}
