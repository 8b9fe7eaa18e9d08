import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { DynamoRecoveryStore } from '../../adapters/dynamodb/recovery-store';
import { confirmDeletions } from '../../recovery/deletion-guard';
import { openStateTable, withStateTableOptions, type StateTableOptions } from './state-table';

type StoreOptions = StateTableOptions;

function storeFrom(options: StoreOptions): DynamoRecoveryStore {
  const { doc, table } = openStateTable(options);
  return new DynamoRecoveryStore(doc, table);
}

const withStoreOptions = withStateTableOptions;

async function holds(options: StoreOptions): Promise<void> {
  const all = await storeFrom(options).holds();
  if (all.length === 0) process.stdout.write('No deletions are held\n');
  for (const h of all) {
    const state = h.confirmedUntil !== undefined ? `confirmed by ${h.confirmedBy ?? '?'} at ${h.confirmedAt ?? '?'}` : 'HELD';
    process.stdout.write(`${h.scope}  ${state}  since ${h.raisedAt}\n  ${h.reason}\n`);
  }
}

async function confirm(scope: string, options: StoreOptions & { by?: string }): Promise<void> {
  const by = options.by ?? userInfo().username;
  const hold = await confirmDeletions(storeFrom(options), scope, by, Date.now());
  if (!hold) {
    process.stderr.write(`No deletions are held in ${scope}: see tmc recovery holds\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`Confirmed the held deletions in ${scope} (${hold.planned} of ${hold.total} objects); the next recovery sweep proceeds\n`);
}

async function actions(options: StoreOptions & { day?: string; limit: string }): Promise<void> {
  const day = options.day ?? new Date().toISOString().slice(0, 10);
  for (const a of await storeFrom(options).actions(day, Number(options.limit))) {
    process.stdout.write(`${a.at}  ${a.action}/${a.outcome}  ${a.cluster ?? ''}  ${a.why}\n`);
  }
}

/** `tmc recovery holds|confirm|actions`; registered by lib/cli/commands/index.ts. */
export function registerRecoveryCommand(program: Command): void {
  const group = program.command('recovery').description('The recovery manager: held mass deletions and what recovery did');
  withStoreOptions(group.command('holds').description('List scopes whose deletions tmc holds because they looked like an API outage')).action((o: StoreOptions) => holds(o));
  withStoreOptions(group.command('confirm <scope>').description('Let held deletions in <scope> (workspace:<path> or cluster:<name>) go ahead'))
    .option('--by <name>', 'who confirms (recorded); default: the OS user')
    .action((scope: string, o: StoreOptions & { by?: string }) => confirm(scope, o));
  withStoreOptions(group.command('actions').description("Recovery actions of one UTC day, newest first (what, why, outcome)"))
    .option('--day <yyyy-mm-dd>', 'the day; default today')
    .option('--limit <n>', 'at most this many', '50')
    .action((o: StoreOptions & { day?: string; limit: string }) => actions(o));
}
