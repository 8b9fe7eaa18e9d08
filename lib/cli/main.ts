import { Command, CommanderError } from 'commander';
import { COMMAND_GROUPS } from './commands';

/** Builds the `tmc` program; every command group registers itself from lib/cli/commands/. */
export function buildProgram(): Command {
  const program = new Command('tmc')
    .description('Transparent Multi-Cluster for kcp, serverless on AWS')
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMAND_GROUPS) register(program);
  return program;
}

/** Entry point of bin/tmc.mjs. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit with code 0; usage errors were already printed by commander.
      process.exitCode = err.exitCode;
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`tmc: ${message}\n`);
    process.exitCode = 1;
  }
}
