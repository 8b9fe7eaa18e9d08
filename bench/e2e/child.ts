import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { runFloor } from './floor';
import { runEndToEnd } from './scenario';

/**
 * One end-to-end size in a process of its own (bench/e2e/run-in-child.ts starts it): the functions keep their deps
 * (clients and the endpoints they were built with) per module, as a Lambda container does, so a second local stack in
 * the process that ran the first would have its functions call the first stack's emulators, and its kcp bootstrap
 * would fail. Arguments: the file to write the outcome to, and the size's options as JSON. Progress goes to stderr.
 */
const Options = z.object({
  objects: z.number().int().positive(),
  clusters: z.number().int().positive(),
  latencyMs: z.number().nonnegative(),
  readyDelayMs: z.number().nonnegative(),
  concurrency: z.number().int().positive(),
  phaseTimeoutMs: z.number().positive(),
  latencyObjects: z.number().int().nonnegative(),
  latencyRate: z.number().positive(),
  floor: z.boolean().optional(),
  churnMinutes: z.number().nonnegative().optional(),
  eventTtlSeconds: z.number().positive().optional(),
  pull: z.boolean().optional(),
});

const [outcomePath, optionsJson] = process.argv.slice(2);
if (outcomePath === undefined || optionsJson === undefined) {
  process.stderr.write('usage: child.ts <outcome.json> <options JSON>\n');
  process.exit(2);
}
try {
  const options = Options.parse(JSON.parse(optionsJson));
  const progress = (line: string): void => void process.stderr.write(`${line}\n`);
  const result = await runEndToEnd({ ...options, progress });
  if (options.floor) {
    // After tmc's stack has stopped: the floor gets the machine as tmc had it (fresh simulator and emulators).
    progress(
      `floor: the create phase's ${options.objects} Deployments + ${options.objects} ConfigMaps × ${options.clusters} clusters by the minimal pipeline`,
    );
    result.floor = await runFloor(options);
    progress(`  floor: done in ${(result.floor.convergeMs / 1000).toFixed(1)} s`);
  }
  writeFileSync(outcomePath, JSON.stringify({ ok: true, result }));
} catch (err) {
  writeFileSync(outcomePath, JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err) }));
}
// The stack is stopped; nothing left should hold the loop, but a stray handle must not hang the benchmark.
process.exit(0);
