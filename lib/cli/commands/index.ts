import type { Command } from 'commander';
import { registerBenchCommand } from './bench';
import { registerChaosCommand } from './chaos';
import { registerDevCommand } from './dev';
import { registerPlacementCommand } from './placement';
import { registerRecoveryCommand } from './recovery';
import { registerSimCommand } from './sim';
import { registerSyncerCommand } from './syncer';
import { registerTraceCommand } from './trace';
import { registerUninstallCommand } from './uninstall';
import { registerVwCommand } from './vw';
import { registerWebhooksCommand } from './webhooks';

/**
 * One function per command group, each in its own file under lib/cli/commands/. To add a group (`tmc placement`,
 * `tmc trace`, `tmc bench`): write `commands/<group>.ts` exporting `register<Group>Command(program)`, and list it here.
 */
export type RegisterCommand = (program: Command) => void;

export const COMMAND_GROUPS: RegisterCommand[] = [
  registerDevCommand,
  registerSimCommand,
  registerWebhooksCommand,
  registerPlacementCommand,
  registerTraceCommand,
  registerRecoveryCommand,
  registerBenchCommand,
  registerChaosCommand,
  registerVwCommand,
  registerUninstallCommand,
  registerSyncerCommand,
];
