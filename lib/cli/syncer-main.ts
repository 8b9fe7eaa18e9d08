import { Command } from 'commander';
import { configureSyncerRun } from './commands/syncer-run';

/**
 * The syncer image's entry point (deploy/syncer/Dockerfile bundles this file alone): `tmc-syncer --sync-target-name=…`
 * takes the flags of `tmc syncer`, without the rest of the tmc command.
 */
async function main(): Promise<void> {
  const program = configureSyncerRun(new Command('tmc-syncer')).showHelpAfterError();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    process.stderr.write(`tmc-syncer: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}

void main();
