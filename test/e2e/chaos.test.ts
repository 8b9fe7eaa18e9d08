import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FaultKind } from '../../bench/chaos/fault-kinds';
import { formatChaosResult, runChaos, type ChaosResult } from '../../bench/chaos/run';

/**
 * A short seeded `tmc chaos` run: the environment and tmc's functions in two child processes, the workload writing
 * (creates, updates, deletes, namespace deletes) while the seed's faults come and go, then every invariant checked on
 * kcp, the clusters and DynamoDB after convergence, judged on tmc's own evidence (queues empty, no hold, a quiet sweep
 * pass: bench/chaos/settled.ts) with a generous liveness limit on progress, no time asserted. Kinds are dealt once
 * each before any repeats, and the plan is packed (`pace` 0.4: durations and gaps at 40 %), so seed 18's 55 s deal
 * every kind below: the per-request rules (429 with Retry-After on Secrets, Widgets listed empty, Placement lists
 * answered 503, 404 on GETs of Secrets), kcp's admission calls lost, a crash, duplicated and delayed SQS deliveries,
 * kcp 503s and 429s, and `edge` down past evictAfter (5 s). The recovery graces are shortened to match, so the run
 * fits CI's budget. `environment-restart` and `cluster-partition` run with `npm run chaos` (docs/recovery.md).
 */
const CI_SEED = 18;
const CI_FAULTS: FaultKind[] = [
  'crash',
  'kcp-errors',
  'kcp-throttle',
  'sqs-duplicate',
  'sqs-delay',
  'cluster-outage',
  'empty-list',
  'get-404',
  'placement-list-503',
  'resource-429',
  'webhook-loss',
];
/** The sweep's graces shortened further than `npm run chaos`'s, for a run of about a minute (docs/recovery.md). */
const CI_RECOVERY_ENV: Record<string, string> = {
  TMC_RECOVERY_UNPLACED_GRACE_SECONDS: '8',
  TMC_RECOVERY_UNPLACED_QUEUED_MAX_SECONDS: '20',
  TMC_RECOVERY_HELD_ADMISSION_GRACE_SECONDS: '30',
  TMC_RECOVERY_UNSYNCED_GRACE_SECONDS: '8',
  TMC_RECOVERY_STUCK_SECONDS: '15',
  TMC_RECOVERY_ABSENT_CONFIRM_SECONDS: '15',
  // The quiet gate's settle time to match: 8 s plus two 5 s sweeps (the checker's "tmc is done", bench/chaos/settled.ts).
  TMC_RECOVERY_SETTLE_SECONDS: '20',
};

describe('tmc chaos (short seeded run)', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'tmc-chaos-test-'));
  let result: ChaosResult;

  beforeAll(async () => {
    const lines: string[] = [];
    try {
      result = await runChaos({
        projectRoot: process.cwd(),
        seed: CI_SEED,
        durationMs: 55_000,
        objects: 20,
        faults: CI_FAULTS,
        rate: 2,
        convergeTimeoutMs: 180_000,
        statusGraceMs: 60_000,
        evictAfterSeconds: 5,
        pace: 0.4,
        recoveryEnv: CI_RECOVERY_ENV,
        logLevel: 'WARN',
        outDir,
        progress: (line) => lines.push(line),
      });
    } finally {
      process.stderr.write(`${lines.join('\n')}\n`);
    }
    process.stderr.write(`${formatChaosResult(result)}\n`);
  }, 1_200_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('injected the seed’s faults while the workload wrote', () => {
    expect(Object.keys(result.injected).sort()).toEqual([...CI_FAULTS].sort());
    expect(result.skipped).toEqual({});
    // The rules hit tmc's own requests (matched by its username), not nothing.
    expect(Object.values(result.ruleAnswers).reduce((sum, n) => sum + (n ?? 0), 0)).toBeGreaterThan(0);
    expect(result.workload.creates + result.workload.updates + result.workload.deletes).toBeGreaterThan(50);
    expect(result.objects.final).toBeGreaterThan(0);
  });

  it('converged after the last fault with no invariant violated', () => {
    expect(result.violations).toEqual([]);
    expect(result.convergence).toEqual({ initial: { kind: 'converged' }, final: { kind: 'converged' } });
    expect(result.convergeMs).toBeDefined();
    // Every object of the end state is on two clusters.
    expect(result.objects.copies).toBe(result.objects.final * 2);
  });

  it('wrote the JSON result', () => {
    const written: unknown = JSON.parse(readFileSync(result.resultFile ?? '', 'utf8'));
    expect(written).toMatchObject({
      seed: CI_SEED,
      counts: result.counts,
      plan: result.plan,
      injected: result.injected,
    });
    expect(written).toHaveProperty('violations', JSON.parse(JSON.stringify(result.violations)));
  });
});
