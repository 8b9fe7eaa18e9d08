import { join } from 'node:path';
import { z } from 'zod';
import type { EmulatorThread, HostedObject } from '../../lib/local/emulator-thread';
import { findProjectRoot } from '../../lib/local/paths';
import type { AwsOpCounts, AwsService } from './aws-op-counter';

/**
 * The AWS request counter of aws-op-counter.ts, run inside the emulators' worker threads (lib/local/emulator-thread):
 * Node's diagnostics channels are per thread, so `http.server.request.start` fires where dynalite and fauxqs serve,
 * not on the main thread. Each thread loads the same module and calls `countAwsOperations(endpoints)` there; this
 * side only forwards `snapshot`, `reset` and `close` as messages. The interface between the two is that function
 * and its returned counter's methods, nothing else: aws-op-counter.ts owns what is counted and how bodies are parsed.
 */
export interface ThreadedAwsOpCounter {
  snapshot(service: AwsService): Promise<AwsOpCounts>;
  /** Resolves once every thread has reset, so requests sent afterwards count in the new phase. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** The counter's module; jest compiles lib and bench to CommonJS, so no import.meta to find it by. */
export function awsOpCounterModule(projectRoot: string = findProjectRoot()): string {
  return join(projectRoot, 'bench', 'support', 'aws-op-counter.ts');
}

/** Snapshots come from another thread: parsed, not cast. */
const Counts = z.object({
  requests: z.record(z.string(), z.number()),
  byItem: z.record(z.string(), z.number()),
  entries: z.record(z.string(), z.number()).optional(),
  harness: z.record(z.string(), z.number()).optional(),
  writeBytes: z.number(),
});

/** Starts counting in the thread of each service's emulator. */
export async function countAwsOperationsInThreads(
  threads: Record<AwsService, EmulatorThread>,
  projectRoot?: string,
): Promise<ThreadedAwsOpCounter> {
  const module = awsOpCounterModule(projectRoot);
  const endpoints: Record<AwsService, string> = { dynamodb: threads.dynamodb.endpoint, sqs: threads.sqs.endpoint };
  const [dynamodb, sqs] = await Promise.all(
    [threads.dynamodb, threads.sqs].map((thread) => thread.load(module, 'countAwsOperations', [endpoints])),
  );
  const counters: Record<AwsService, HostedObject> = { dynamodb, sqs };
  return {
    snapshot: async (service) => Counts.parse(await counters[service].call('snapshot', service)),
    reset: async () => {
      await Promise.all([dynamodb.call('reset'), sqs.call('reset')]);
    },
    close: async () => {
      await Promise.all([dynamodb.call('close'), sqs.call('close')]);
    },
  };
}
