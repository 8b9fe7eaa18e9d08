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
    const state =
      h.confirmedUntil !== undefined ? `confirmed by ${h.confirmedBy ?? '?'} at ${h.confirmedAt ?? '?'}` : 'HELD';
    process.stdout.write(`${h.scope}  ${state}  since ${h.raisedAt}\n  ${h.reason}\n`);
  }
}

/** The scope kinds the deletion guard raises holds in (lib/recovery/deletion-guard.ts scopeFields). */
const SCOPE_PREFIXES = ['workspace:', 'cluster:', 'unplace:'];
const SCOPE_FORMAT =
  'a scope is workspace:<path> (e.g. workspace:root:default) or cluster:<name> / unplace:<name> (e.g. cluster:east), with the rest exactly as `tmc recovery holds` prints it (cluster:east/root:default/apps/v1/deployments)';

/**
 * A scope as `tmc recovery holds` prints it: a known prefix, then a non-empty rest without spaces. Checked loosely
 * (the rest may grow more parts) so that a typo is named here instead of answering that nothing is held.
 */
export function checkScope(scope: string): string {
  const prefix = SCOPE_PREFIXES.find((p) => scope.startsWith(p));
  if (prefix === undefined || scope.length === prefix.length || /\s/.test(scope))
    throw new Error(`Malformed scope ${JSON.stringify(scope)}: ${SCOPE_FORMAT}`);
  return scope;
}

async function confirm(scope: string, options: StoreOptions & { by?: string }): Promise<void> {
  checkScope(scope);
  const by = options.by ?? userInfo().username;
  const hold = await confirmDeletions(storeFrom(options), scope, by, Date.now());
  if (!hold) {
    process.stderr.write(`No deletions are held in ${scope}: see tmc recovery holds\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(
    `Confirmed the held deletions in ${scope} (${hold.planned} of ${hold.total} objects); the next recovery sweep proceeds\n`,
  );
}

async function actions(options: StoreOptions & { day?: string; limit: string }): Promise<void> {
  const day = options.day ?? new Date().toISOString().slice(0, 10);
  for (const a of await storeFrom(options).actions(day, Number(options.limit))) {
    process.stdout.write(`${a.at}  ${a.action}/${a.outcome}  ${a.cluster ?? ''}  ${a.why}\n`);
  }
}

/** `tmc recovery holds|confirm|actions`; registered by lib/cli/commands/index.ts. */
export function registerRecoveryCommand(program: Command): void {
  const group = program
    .command('recovery')
    .description('The recovery manager: held mass deletions and what recovery did');
  withStoreOptions(
    group.command('holds').description('List scopes whose deletions tmc holds because they looked like an API outage'),
  ).action((o: StoreOptions) => holds(o));
  withStoreOptions(
    group
      .command('confirm <scope>')
      .description(
        'Let held deletions in <scope> (workspace:<path>/<gvr> or cluster:<name>/<workspace>/<gvr>) go ahead',
      ),
  )
    .option('--by <name>', 'who confirms (recorded); default: the OS user')
    .action((scope: string, o: StoreOptions & { by?: string }) => confirm(scope, o));
  withStoreOptions(
    group.command('actions').description('Recovery actions of one UTC day, newest first (what, why, outcome)'),
  )
    .option('--day <yyyy-mm-dd>', 'the day; default today')
    .option('--limit <n>', 'at most this many', '50')
    .action((o: StoreOptions & { day?: string; limit: string }) => actions(o));
}
