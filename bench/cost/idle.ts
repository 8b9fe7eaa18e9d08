import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { z } from 'zod';
import { buildTmcApp } from '../../infra/tmc-app';
import { KindSizesSchema, type KindSizes } from '../support/item-size';
import { inventoryOf } from './inventory';
import { idleMonth, type IdleMonth, type Usage } from './model';

/**
 * Logs of one scheduled run: Lambda's START, END and REPORT records in JSON format (about 300 bytes each) and the
 * run's EMF document (one to two KiB: metrics-rollup's carries every gauge).
 */
export const LOG_BYTES_PER_RUN = 2048;

/** The deployed stack as `cdk synth` builds it from `context` (bundling skipped: only the resources count). */
export function synthesizedTemplate(
  projectRoot: string,
  context: Record<string, unknown>,
): { template: unknown; logRetentionDays: number } {
  const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  const stack = buildTmcApp(app, projectRoot);
  const template: unknown = app.synth().getStackByName(stack.stackName).template;
  return { template, logRetentionDays: stack.config.logRetentionDays };
}

const ScheduleRunSchema = z.object({
  ok: z.boolean(),
  lambda: z.record(z.string(), z.object({ invocations: z.number(), durationSeconds: z.number() })),
  dynamodb: z.object({
    requests: z.record(z.string(), z.number()),
    byItem: z.record(z.string(), z.number()),
    writeBytes: z.number(),
    itemBytes: z.record(z.string(), KindSizesSchema).optional(),
  }),
  sqs: z.object({
    requests: z.record(z.string(), z.number()),
    byItem: z.record(z.string(), z.number()),
    writeBytes: z.number(),
  }),
  kubeRequests: z.number().optional(),
  fullRunsPerRound: z.number().optional(),
  profile: z
    .object({
      runs: z.number(),
      cpuMs: z.number(),
      thread: z.enum(['main', 'function thread']),
      rounds: z.array(z.array(z.enum(['dynamodb', 'sqs', 'secretsmanager', 'kubernetes']))).optional(),
      logBytes: z.number(),
      logLevel: z.string(),
    })
    .optional(),
});
const ResultsSchema = z.object({
  startedAt: z.string(),
  endToEnd: z.array(
    z.object({
      options: z.object({ objects: z.number(), clusters: z.number() }),
      schedules: z.record(z.string(), ScheduleRunSchema),
      settledSchedules: z.record(z.string(), ScheduleRunSchema).optional(),
      phases: z
        .array(z.object({ dynamodb: z.object({ itemBytes: z.record(z.string(), KindSizesSchema).optional() }) }))
        .optional(),
    }),
  ),
});

export interface MeasuredRuns {
  file: string;
  objects: number;
  clusters: number;
  perRun: Record<string, Usage>;
  /** The second run of each schedule (results written before it was measured have none). */
  settledRun?: Record<string, Usage>;
}

/** The schedules' measured runs: the largest end-to-end size of `file`, else of the newest bench result that has one. */
export function measuredRuns(resultsDir: string, file?: string): MeasuredRuns {
  const candidates =
    file !== undefined
      ? [file]
      : readdirSync(resultsDir)
          .filter((f) => /^\d{4}-.*\.json$/.test(f))
          .sort()
          .reverse()
          .map((f) => join(resultsDir, f));
  for (const path of candidates) {
    const parsed = ResultsSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    if (!parsed.success) {
      if (file !== undefined) throw new Error(`${path} is not a tmc bench result: ${parsed.error.message}`);
      continue;
    }
    const run = [...parsed.data.endToEnd].sort((a, b) => b.options.clusters - a.options.clusters)[0];
    if (run === undefined || Object.values(run.schedules).some((s) => !s.ok)) continue;
    const settled =
      run.settledSchedules && Object.values(run.settledSchedules).every((s) => s.ok) ? run.settledSchedules : undefined;
    // Runs measured before the schedules' own item sizes were: the table as the last phase left it (the same items).
    const sizes = [...(run.phases ?? [])].reverse().find((p) => p.dynamodb.itemBytes)?.dynamodb.itemBytes;
    return {
      file: path,
      objects: run.options.objects,
      clusters: run.options.clusters,
      perRun: withItemSizes(run.schedules, sizes),
      ...(settled ? { settledRun: withItemSizes(settled, sizes) } : {}),
    };
  }
  throw new Error(
    `No bench result with measured schedule runs in ${file ?? resultsDir}: run \`npm run bench -- --quick\` first`,
  );
}

/** Each run's DynamoDB counts with `sizes` where the run carries no item sizes of its own. */
function withItemSizes(
  runs: Record<string, Usage>,
  sizes: Record<string, KindSizes> | undefined,
): Record<string, Usage> {
  if (sizes === undefined) return runs;
  return Object.fromEntries(
    Object.entries(runs).map(([name, run]) => [
      name,
      { ...run, dynamodb: { ...run.dynamodb, itemBytes: run.dynamodb.itemBytes ?? sizes } },
    ]),
  );
}

/** The idle month of the stack `context` deploys, with the schedules' runs measured in `runs`. */
export function deployedIdleMonth(
  projectRoot: string,
  context: Record<string, unknown>,
  runs: Pick<MeasuredRuns, 'clusters' | 'perRun' | 'settledRun'>,
): IdleMonth {
  const { template, logRetentionDays } = synthesizedTemplate(projectRoot, context);
  return idleMonth({
    perRun: runs.perRun,
    ...(runs.settledRun ? { settledRun: runs.settledRun } : {}),
    inventory: inventoryOf(template),
    clusters: runs.clusters,
    logBytesPerRun: LOG_BYTES_PER_RUN,
    logRetentionDays,
  });
}
