import { z } from 'zod';
import { readLocalEnvironment } from '../../lib/local/environment';
import { createStackLogger } from '../../lib/local/log';
import { startLocalStack } from '../../lib/local/stack';
import { chaosQueues } from './queues';

/**
 * The chaos suite's functions process: tmc's functions, HTTP API, SQS pollers and schedules, connected to the
 * environment process's emulators and simulator. SIGKILL of this process is a Lambda crash. `bootstrap` is true on
 * the first start only (CRDs, webhooks, SyncTargets live in the environment and survive a crash).
 */
const Args = z.object({
  projectRoot: z.string(),
  stateDir: z.string(),
  environmentFile: z.string(),
  port: z.number().int().positive(),
  bootstrap: z.boolean(),
  scheduleRates: z.record(z.string(), z.number().positive()),
  visibilityTimeoutSeconds: z.number().int().positive(),
});

const args = Args.parse(JSON.parse(process.argv[2] ?? '{}'));
const stack = await startLocalStack({
  projectRoot: args.projectRoot,
  stateDir: args.stateDir,
  environment: readLocalEnvironment(args.environmentFile),
  port: args.port,
  bootstrap: args.bootstrap,
  scheduleRates: args.scheduleRates,
  queues: chaosQueues(args.visibilityTimeoutSeconds),
  logger: createStackLogger({ pretty: false }),
});
process.send?.({ type: 'ready' });
const stop = (): void => void stack.stop().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.on('disconnect', stop);
