import type { Command } from 'commander';
import { registerSyncerKubeconfigCommand } from './syncer-kubeconfig';
import { registerSyncerManifestCommand } from './syncer-manifest';
import { configureSyncerRun } from './syncer-run';

/** `tmc syncer` (runs the syncer), `tmc syncer kubeconfig`, `tmc syncer manifest`. */
export function registerSyncerCommand(program: Command): void {
  const syncer = program.command('syncer');
  registerSyncerKubeconfigCommand(syncer);
  registerSyncerManifestCommand(syncer);
  configureSyncerRun(syncer);
}
