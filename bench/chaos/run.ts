import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDecisionStore } from '../../lib/adapters/dynamodb/decision-store';
import { DynamoRecoveryStore } from '../../lib/adapters/dynamodb/recovery-store';
import { environmentFilePath, readLocalEnvironment } from '../../lib/local/environment';
import { makeDynamoDocumentClient, makeSqsClient } from '../../lib/runtime/aws';
import type { QueueName } from '../../lib/runtime/resources';
import { FAULT_KINDS, type FaultKind, RULE_FAULTS } from './fault-kinds';
import {
  deadLettered,
  deadLetters,
  type DeadLetterSeen,
  type MeddledMessage,
  meddleWithQueue,
  planFaults,
  type PlannedFault,
  ruleFaultSettings,
  serverFaultSettings,
} from './faults';
import { InvariantChecker, kindOfResource, type Violation, VIOLATION_KINDS, type ViolationKind } from './invariants';
import { KubeHttp, KubeHttpError } from './kube-http';
import { Prng } from './prng';
import { type ConvergenceVerdict, EvidenceReader, judge, observe, startConvergence } from './settled';
import { EnvironmentProcess, FunctionsProcess } from './processes';
import type { CopyDeleted } from './protocol';
import { CRD_GVR, KINDS, PLACEMENT_GVR, PLACEMENT_NAME, WIDGET_CRD, Workload } from './workload';

/**
 * `tmc chaos` (`npm run chaos`): the seeded chaos suite (docs/recovery.md "Chaos suite"). The environment (emulators,
 * simulated kcp and clusters) runs in one child process and tmc's functions in another, the workload keeps writing
 * while faults drawn from the seed come and go, the invariant checker reads kcp, the clusters and DynamoDB during and
 * after, and the run reports the time to converge after the last fault.
 */

export const CHAOS_WORKSPACES = ['root:default', 'root:team-b'];
/** Schedules shortened so that a run of minutes sees many sweeps (seconds, by schedule name). */
export const CHAOS_SCHEDULE_RATES: Record<string, number> = {
  'health-probe': 2,
  'recovery-sweep': 5,
  'status-backstop': 10,
};
/** A crashed function's in-flight messages come back after this (Lambda: six times the function timeout). */
export const CHAOS_VISIBILITY_TIMEOUT_SECONDS = 20;
/**
 * The recovery sweep's settings for a run of minutes (docs/recovery.md "Configuration"): objects written while tmc was
 * down, and decisions whose sync messages were lost, are looked at after 15 s instead of 120 s and 60 s (an admission
 * ingress recorded waits for a busy placement queue up to 60 s instead of 600 s); unsettled
 * syncs count as stuck after 30 s instead of 300 s; a held deletion planned again unchanged goes after 60 s instead of
 * 600 s, and an absence is confirmed after 20 s instead of 50 s, so a hold's bound fits the convergence limit.
 */
export const CHAOS_RECOVERY_ENV: Record<string, string> = {
  TMC_RECOVERY_UNPLACED_GRACE_SECONDS: '15',
  TMC_RECOVERY_UNPLACED_QUEUED_MAX_SECONDS: '60',
  TMC_RECOVERY_HELD_ADMISSION_GRACE_SECONDS: '30',
  TMC_RECOVERY_UNSYNCED_GRACE_SECONDS: '15',
  TMC_RECOVERY_STUCK_SECONDS: '30',
  TMC_RECOVERY_RECHECK_SECONDS: '60',
  TMC_RECOVERY_ABSENT_CONFIRM_SECONDS: '20',
  // The quiet gate's settle time (240 s: the 120 s grace plus two runs) scaled like the graces: 15 s plus two 5 s
  // runs, rounded up. A quiet full pass is what tells the checker tmc is done (bench/chaos/settled.ts).
  TMC_RECOVERY_SETTLE_SECONDS: '30',
};
/**
 * How long convergence may take at most, as a multiple of the liveness limit: the checker waits while tmc shows it is
 * working and the violations keep changing (each change restarts the limit), but never past this.
 */
const CAP_FACTOR = 4;

export interface ChaosOptions {
  projectRoot: string;
  seed: number;
  /** The fault phase; the workload writes during it. */
  durationMs: number;
  /** About how many kcp objects the workload starts with (apps of five objects, in both workspaces). */
  objects: number;
  faults: readonly FaultKind[];
  /** Workload writes per second during the fault phase. */
  rate: number;
  /** Liveness limit for convergence, at the start and after the last fault. */
  convergeTimeoutMs: number;
  /** How long kcp may show a Deployment Available with a decided copy missing before it counts as a lie. */
  statusGraceMs: number;
  evictAfterSeconds: number;
  /** Scales the fault plan's durations and gaps (default 1; bench/chaos/faults.ts). */
  pace?: number;
  /** Recovery settings over {@link CHAOS_RECOVERY_ENV} (the CI run shortens the grace periods further). */
  recoveryEnv?: Record<string, string>;
  /** The functions' Powertools log level (their log is in the run's directory). */
  logLevel: string;
  /** Where the JSON result goes; nothing is written without it. */
  outDir?: string;
  progress: (line: string) => void;
}

export interface ChaosResult {
  seed: number;
  durationMs: number;
  /** How long the workload wrote: the phase, or longer when a slow restart pushed the last fault past it. */
  writingMs: number;
  faultKinds: FaultKind[];
  plan: PlannedFault[];
  injected: Partial<Record<FaultKind, number>>;
  /** Rule faults the simulator refused (no per-request rules in this version). */
  skipped: Partial<Record<FaultKind, number>>;
  /** Requests of tmc's that each rule fault's rules answered (the fault's reach). */
  ruleAnswers: Partial<Record<FaultKind, number>>;
  sqsMessagesTouched: number;
  /** Messages left in each queue's DLQ after convergence (none in a fault-free run). */
  deadLettered: Partial<Record<QueueName, number>>;
  /**
   * Each of them: how often SQS had delivered it, how many of those receives were the queue faults' (`sqs-duplicate`,
   * `sqs-delay`), and the message it duplicates when the fault sent it. The rest were tmc's consumers' receives.
   */
  deadLetters: Array<DeadLetterSeen & { faultReceives: number; duplicateOf?: string }>;
  workload: Workload['counters'];
  objects: { initial: number; final: number; copies: number };
  initialConvergeMs?: number;
  /** From the end of the last fault (and the workload's last write) to the first clean check; absent if never. */
  convergeMs?: number;
  violations: Violation[];
  counts: Record<ViolationKind, number>;
  /** How each convergence check ended, on tmc's evidence (bench/chaos/settled.ts). */
  convergence: { initial: ConvergenceVerdict; final: ConvergenceVerdict };
  runDir: string;
  resultFile?: string;
}

/** Workload steps under way at once, at most. */
const WRITES_IN_FLIGHT = 4;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('No free port');
  return address.port;
}

/** Retries a setup write until it succeeds (a CRD just created is served a moment later; 409 means it exists). */
async function settle(what: string, attempt: () => Promise<unknown>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await attempt();
      return;
    } catch (err) {
      if (err instanceof KubeHttpError && err.status === 409) return;
      if (Date.now() > deadline) throw new Error(`${what} did not succeed within ${timeoutMs} ms`, { cause: err });
      await sleep(500);
    }
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const say = options.progress;
  const runDir = mkdtempSync(join(tmpdir(), `tmc-chaos-${options.seed}-`));
  const stateDir = join(runDir, 'state');
  mkdirSync(stateDir, { recursive: true });
  say(
    `chaos: seed ${options.seed}, ${options.durationMs / 1000} s of faults [${options.faults.join(', ')}], ~${options.objects} objects; logs in ${runDir}`,
  );

  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const violations: Violation[] = [];
  const pendingChecks: Array<Promise<void>> = [];
  let onCopyDeleted: (event: CopyDeleted) => void = () => undefined;
  // Persisted only when the run restarts the environment: dynalite on disk is slower than in memory.
  const persist = options.faults.includes('environment-restart');
  const startEnvironment = (resume: boolean): Promise<EnvironmentProcess> =>
    EnvironmentProcess.start(
      {
        projectRoot: options.projectRoot,
        stateDir,
        apiUrl,
        workspaces: CHAOS_WORKSPACES,
        clusters: 3,
        readyDelayMs: 300,
        visibilityTimeoutSeconds: CHAOS_VISIBILITY_TIMEOUT_SECONDS,
        persist,
        resume,
      },
      join(runDir, 'environment.log'),
      (event) => onCopyDeleted(event),
    );
  let env = await startEnvironment(false);
  let functions: FunctionsProcess | undefined;
  const environment = readLocalEnvironment(environmentFilePath(stateDir));
  const doc = makeDynamoDocumentClient({
    region: environment.region,
    dynamodbEndpoint: environment.dynamodb,
    sqsEndpoint: undefined,
  });
  const sqs = makeSqsClient({ region: environment.region, sqsEndpoint: environment.sqs });
  const decisions = new DynamoDecisionStore(doc, environment.table);
  const clusterNames = environment.clusters.map((c) => c.name);
  const startFunctions = (bootstrap: boolean): Promise<FunctionsProcess> =>
    FunctionsProcess.start(
      {
        projectRoot: options.projectRoot,
        stateDir,
        environmentFile: environmentFilePath(stateDir),
        port,
        bootstrap,
        scheduleRates: CHAOS_SCHEDULE_RATES,
        visibilityTimeoutSeconds: CHAOS_VISIBILITY_TIMEOUT_SECONDS,
      },
      join(runDir, 'functions.log'),
      { ...CHAOS_RECOVERY_ENV, ...options.recoveryEnv, POWERTOOLS_LOG_LEVEL: options.logLevel },
    );

  try {
    say('chaos: starting tmc in its own process');
    functions = await startFunctions(true);
    const checker = new InvariantChecker(
      environment.kcpUrl,
      CHAOS_WORKSPACES,
      Object.fromEntries(environment.clusters.map((c) => [c.name, c.url])),
      decisions,
      options.statusGraceMs,
    );
    const workload = new Workload(environment.kcpUrl, CHAOS_WORKSPACES, new Prng(options.seed), (line, fields) =>
      say(`  ${line} ${JSON.stringify(fields ?? {})}`),
    );

    // A copy deleted while kcp held its source: wrong when the decision, read right after, still names that cluster.
    onCopyDeleted = (event) => {
      if (event.sourceState !== 'exists') return;
      const kind = kindOfResource(event.source.resource);
      if (!kind) return;
      const ref = { workspace: event.workspace, ...event.source, kind: kind.kind };
      pendingChecks.push(
        decisions.get(ref).then(
          (decision) => {
            if (!decision?.clusters.some((c) => c.name === event.cluster)) return;
            const v: Violation = {
              kind: 'wrongful-delete',
              workspace: event.workspace,
              cluster: event.cluster,
              resource: event.source.resource,
              namespace: event.source.namespace,
              name: event.source.name,
              detail: `deleted while kcp held the object and decision v${decision.decisionVersion} named ${event.cluster}`,
              at: new Date(event.at).toISOString(),
            };
            violations.push(v);
            say(
              `  VIOLATION ${v.kind} ${v.workspace} ${v.cluster} ${v.resource} ${v.namespace ?? ''}/${v.name}: ${v.detail}`,
            );
          },
          (err: unknown) =>
            say(
              `  could not read the decision of a deleted copy ${event.source.name}: ${err instanceof Error ? err.message : String(err)}`,
            ),
        ),
      );
    };

    say('chaos: setting up the workspaces (Widget CRD, Placement, evictAfter) and the clusters');
    for (const cluster of environment.clusters) {
      const client = new KubeHttp(cluster.url);
      await settle(`Widget CRD on ${cluster.name}`, () => client.create(CRD_GVR, WIDGET_CRD));
    }
    for (const ws of CHAOS_WORKSPACES) {
      const kcp = workload.kcp(ws);
      await settle(`Widget CRD in ${ws}`, () => kcp.create(CRD_GVR, WIDGET_CRD));
      await settle(`Placement in ${ws}`, () =>
        kcp.create(PLACEMENT_GVR, {
          apiVersion: 'scheduling.kcp.io/v1alpha1',
          kind: 'Placement',
          metadata: { name: PLACEMENT_NAME },
          spec: { namespaceSelector: { matchLabels: { chaos: 'true' } }, numberOfClusters: 2 },
        }),
      );
      for (const cluster of clusterNames) {
        await settle(`evictAfter of ${cluster} in ${ws}`, () =>
          kcp.mergePatch(
            { group: 'workload.kcp.io', version: 'v1alpha1', resource: 'synctargets' },
            undefined,
            cluster,
            { spec: { evictAfter: `${options.evictAfterSeconds}s` } },
          ),
        );
      }
    }
    await checker.createUnowned();
    const apps = Math.max(1, Math.round(options.objects / (KINDS.length * CHAOS_WORKSPACES.length)));
    await workload.seed(apps);

    // Judged on tmc's own evidence (bench/chaos/settled.ts): converged, done with violations left (findings), or
    // still working — waited for while the violations keep changing, up to the liveness limit without change.
    const evidence = new EvidenceReader(sqs, new DynamoRecoveryStore(doc, environment.table));
    const limits = { stallMs: options.convergeTimeoutMs, capMs: options.convergeTimeoutMs * CAP_FACTOR };
    const converge = async (
      label: string,
    ): Promise<{
      ms?: number;
      remaining: Violation[];
      objects: number;
      copies: number;
      verdict: ConvergenceVerdict;
    }> => {
      const started = Date.now();
      const state = startConvergence(started);
      let last: Violation[] = [];
      let objects = 0;
      let copies = 0;
      let verdict: ConvergenceVerdict = { kind: 'working', why: 'not checked yet' };
      let said = '';
      for (;;) {
        let unreadable: string[] = [];
        try {
          const snapshot = await checker.snapshot();
          objects = snapshot.sources.size;
          copies = snapshot.copies.length;
          last = checker.evaluate(snapshot);
          violations.push(...checker.persistentStatusLies(last));
          unreadable = snapshot.unreadable;
        } catch (err) {
          unreadable = ['kcp'];
          say(`  check failed (retrying): ${err instanceof Error ? err.message : String(err)}`);
        }
        const now = Date.now();
        observe(state, last, now);
        const unverified = unreadable.length > 0 ? `the checker could not read ${unreadable.join(', ')}` : undefined;
        verdict = judge(state, last, await evidence.read().catch(() => undefined), now, limits, unverified);
        if (verdict.kind === 'converged') {
          const ms = now - started;
          say(`chaos: ${label}: converged in ${(ms / 1000).toFixed(1)} s (${objects} objects, ${copies} copies)`);
          return { ms, remaining: [], objects, copies, verdict };
        }
        if (verdict.kind !== 'working') break;
        const line = `  ${last.length} violation(s) left; tmc still working: ${verdict.why}`;
        if (line !== said) say(line);
        said = line;
        await sleep(2_000);
      }
      say(
        `chaos: ${label}: NOT converged after ${((Date.now() - started) / 1000).toFixed(0)} s (${verdict.kind}: ${verdict.why}); ${last.length} violations remain`,
      );
      return { remaining: last, objects, copies, verdict };
    };

    const initial = await converge('initial workload');
    violations.push(...initial.remaining);

    // The fault phase: the workload writes, faults come and go, the checker samples.
    const plan = planFaults(new Prng(options.seed ^ 0x5eed), {
      durationMs: options.durationMs,
      kinds: options.faults,
      clusters: clusterNames,
      workspaces: CHAOS_WORKSPACES,
      evictAfterMs: options.evictAfterSeconds * 1000,
      ...(options.pace !== undefined ? { pace: options.pace } : {}),
    });
    say(
      `chaos: fault plan: ${plan.map((f) => `${(f.at / 1000).toFixed(0)}s ${f.kind}${describeTarget(f)} ${(f.durationMs / 1000).toFixed(0)}s`).join(', ') || 'none'}`,
    );
    const injected: Partial<Record<FaultKind, number>> = {};
    const skipped: Partial<Record<FaultKind, number>> = {};
    const ruleAnswers: Partial<Record<FaultKind, number>> = {};
    let sqsMessagesTouched = 0;
    const meddled: MeddledMessage[] = [];
    const runtimeRandom = new Prng(options.seed ^ 0xfa17);
    const phaseStart = Date.now();
    const phaseEnd = phaseStart + options.durationMs;
    // The workload writes and the checker samples until the phase is over and the last fault has ended (a slow
    // restart can push faults past the planned phase).
    let writing = true;

    // Steps start at `rate` a second whatever each takes (a loaded kcp answers slowly), up to a few at a time.
    const writer = (async (): Promise<void> => {
      const interval = 1000 / options.rate;
      const inFlight = new Set<Promise<void>>();
      let failure: { err: unknown } | undefined;
      let next = Date.now();
      while (writing && failure === undefined) {
        if (inFlight.size >= WRITES_IN_FLIGHT) {
          await Promise.race(inFlight);
          continue;
        }
        const step: Promise<void> = workload
          .step()
          .catch((err: unknown) => void (failure ??= { err }))
          .finally(() => inFlight.delete(step));
        inFlight.add(step);
        next += interval;
        const wait = next - Date.now();
        if (wait > 0) await sleep(wait);
        else next = Date.now();
      }
      await Promise.all(inFlight);
      if (failure !== undefined) throw failure.err;
    })();
    const sampler = (async (): Promise<void> => {
      while (writing) {
        try {
          const found = checker.persistentStatusLies(checker.evaluate(await checker.snapshot()));
          for (const v of found)
            say(`  VIOLATION ${v.kind} ${v.workspace} ${v.resource} ${v.namespace ?? ''}/${v.name}: ${v.detail}`);
          violations.push(...found);
        } catch {
          // kcp itself failing (a kcp fault of the run): no sample this time.
        }
        await sleep(5_000);
      }
    })();

    try {
      for (const fault of plan) {
        const wait = phaseStart + fault.at - Date.now();
        if (wait > 0) await sleep(wait);
        say(
          `chaos: ${((Date.now() - phaseStart) / 1000).toFixed(0)}s ${fault.kind}${describeTarget(fault)} for ${(fault.durationMs / 1000).toFixed(0)} s`,
        );
        if (fault.kind === 'crash') {
          await functions.kill();
          await sleep(fault.durationMs);
          functions = await startFunctions(false);
        } else if (fault.kind === 'environment-restart') {
          // kcp, the clusters, DynamoDB and SQS go at once; tmc's functions keep running and must not die of it.
          await env.crash();
          await sleep(fault.durationMs);
          env = await startEnvironment(true);
          if (!functions.alive())
            throw new Error("tmc's functions process died while the environment was down; see functions.log");
          say('  environment back on the same state dir and ports');
        } else if (fault.kind === 'webhook-loss') {
          const server = fault.target ?? 'kcp';
          await env.loseWebhooks(server, true);
          await sleep(fault.durationMs);
          await env.loseWebhooks(server, false);
        } else if (fault.kind === 'sqs-duplicate' || fault.kind === 'sqs-delay') {
          const touched = await meddleWithQueue(
            sqs,
            fault.target as QueueName,
            fault.kind === 'sqs-duplicate' ? 'duplicate' : 'delay',
            fault.durationMs,
            runtimeRandom,
          );
          sqsMessagesTouched += touched.length;
          meddled.push(...touched);
          // Each receive of the fault's, for tracing a dead letter that left the DLQ (redriven) before the end.
          appendFileSync(
            join(runDir, 'sqs-faults.jsonl'),
            touched.map((t) => `${JSON.stringify({ fault: fault.kind, queue: fault.target, ...t })}\n`).join(''),
          );
        } else {
          const server =
            fault.kind === 'cluster-partition' || fault.kind === 'cluster-outage' ? (fault.target ?? '') : 'kcp';
          const settings = RULE_FAULTS.includes(fault.kind)
            ? ruleFaultSettings(fault)
            : serverFaultSettings(fault.kind);
          try {
            await env.setFaults(server, settings);
          } catch (err) {
            say(
              `  ${fault.kind} skipped: the simulator refused it (${err instanceof Error ? err.message : String(err)})`,
            );
            skipped[fault.kind] = (skipped[fault.kind] ?? 0) + 1;
            continue;
          }
          await sleep(fault.durationMs);
          const fired = await env.setFaults(server, {});
          if (RULE_FAULTS.includes(fault.kind)) ruleAnswers[fault.kind] = (ruleAnswers[fault.kind] ?? 0) + fired;
        }
        injected[fault.kind] = (injected[fault.kind] ?? 0) + 1;
      }
      const remaining = phaseEnd - Date.now();
      if (remaining > 0) await sleep(remaining);
    } finally {
      writing = false;
    }
    await Promise.all([writer, sampler]);
    const writingMs = Date.now() - phaseStart;
    for (const server of ['kcp', ...clusterNames]) await env.setFaults(server, {});
    say(`chaos: faults over; workload wrote ${JSON.stringify(workload.counters)}; waiting for convergence`);

    const final = await converge('after the last fault');
    violations.push(...final.remaining);
    violations.push(...(await checker.checkUnowned()));
    await Promise.all(pendingChecks);
    const dead = await deadLettered(sqs);
    const letters = traceDeadLetters(await deadLetters(sqs), meddled);

    const counts = Object.fromEntries(
      VIOLATION_KINDS.map((k) => [k, violations.filter((v) => v.kind === k).length]),
    ) as Record<ViolationKind, number>;
    const result: ChaosResult = {
      seed: options.seed,
      durationMs: options.durationMs,
      writingMs,
      faultKinds: [...options.faults],
      plan,
      injected,
      skipped,
      ruleAnswers,
      sqsMessagesTouched,
      deadLettered: dead,
      deadLetters: letters,
      workload: workload.counters,
      objects: { initial: initial.objects, final: final.objects, copies: final.copies },
      initialConvergeMs: initial.ms,
      convergeMs: final.ms,
      violations,
      counts,
      convergence: { initial: initial.verdict, final: final.verdict },
      runDir,
    };
    if (options.outDir !== undefined) {
      mkdirSync(options.outDir, { recursive: true });
      result.resultFile = join(
        options.outDir,
        `chaos-${new Date().toISOString().replace(/[:.]/g, '-')}-seed${options.seed}.json`,
      );
      writeFileSync(result.resultFile, `${JSON.stringify(result, null, 2)}\n`);
    }
    return result;
  } finally {
    await functions?.stop().catch(() => undefined);
    await env.stop().catch(() => undefined);
    doc.destroy();
    sqs.destroy();
  }
}

function writesPerSecond(result: ChaosResult): number {
  const { creates, updates, deletes, namespaceDeletes } = result.workload;
  return result.writingMs > 0 ? (creates + updates + deletes + namespaceDeletes) / (result.writingMs / 1000) : 0;
}

function describeTarget(fault: PlannedFault): string {
  if (fault.target === undefined) return '';
  return `(${fault.target}${fault.workspace !== undefined ? ` in ${fault.workspace}` : ''})`;
}

/** The run as a table, then each violation with the objects involved. */
export function formatChaosResult(result: ChaosResult): string {
  const seconds = (ms: number | undefined): string =>
    ms === undefined ? 'not converged' : `${(ms / 1000).toFixed(1)} s`;
  const lines = [
    `seed ${result.seed}, ${result.durationMs / 1000} s of faults`,
    '',
    'faults injected',
    ...FAULT_KINDS.filter((k) => result.injected[k] || result.skipped[k]).map(
      (k) =>
        `  ${k.padEnd(20)} ${String(result.injected[k] ?? 0).padStart(4)}${result.ruleAnswers[k] !== undefined ? `  (${result.ruleAnswers[k]} of tmc's requests answered)` : ''}${result.skipped[k] ? `  (${result.skipped[k]} skipped: no fault rules in this simulator)` : ''}`,
    ),
    `  sqs messages touched ${String(result.sqsMessagesTouched).padStart(4)}`,
    '',
    `dead-lettered           ${
      Object.entries(result.deadLettered)
        .map(([q, n]) => `${q} ${n}`)
        .join(', ') || '0'
    }${deadLetterCauses(result)}`,
    `objects in kcp          ${result.objects.initial} at the start, ${result.objects.final} at the end (${result.objects.copies} copies)`,
    `workload writes         ${result.workload.creates} creates, ${result.workload.updates} updates, ${result.workload.deletes} deletes, ${result.workload.namespaceDeletes} namespace deletes, ${result.workload.failed} refused (${writesPerSecond(result).toFixed(1)}/s)`,
    `copies lost             ${result.counts['missing-copy'] + result.counts['stale-copy'] + result.counts.unplaced}`,
    `copies wrongly deleted  ${result.counts['wrongful-delete']}`,
    `leftovers               ${result.counts.leftover}`,
    `duplicates              ${result.counts.duplicate}`,
    `deletes not completed   ${result.counts['deletion-pending']}`,
    `status lies             ${result.counts['status-lie']}`,
    `isolation breaches      ${result.counts.isolation}`,
    `unowned objects touched ${result.counts['unowned-touched']}`,
    `initial convergence     ${seconds(result.initialConvergeMs)}`,
    `converge after faults   ${seconds(result.convergeMs)}`,
    ...(result.convergence.final.kind === 'converged'
      ? []
      : [`verdict                 ${result.convergence.final.kind}: ${result.convergence.final.why}`]),
    '',
    result.violations.length === 0 ? 'no violations' : `${result.violations.length} violations:`,
    ...result.violations.map(
      (v) =>
        `  ${v.at} ${v.kind} ${v.workspace ?? ''} ${v.cluster ?? ''} ${v.resource} ${v.namespace ?? ''}/${v.name}: ${v.detail}`,
    ),
  ];
  if (result.resultFile) lines.push('', `JSON: ${result.resultFile}`);
  lines.push(`logs: ${result.runDir}`);
  return lines.join('\n');
}

/** Each dead letter beside the queue faults' receives of it (and of the message it duplicates, when it is a copy). */
function traceDeadLetters(letters: DeadLetterSeen[], meddled: readonly MeddledMessage[]): ChaosResult['deadLetters'] {
  const receives = new Map<string, number>();
  const copyOf = new Map<string, string>();
  for (const m of meddled) {
    receives.set(m.messageId, (receives.get(m.messageId) ?? 0) + 1);
    if (m.copyId !== undefined) copyOf.set(m.copyId, m.messageId);
  }
  return letters.map((letter) => {
    const original = copyOf.get(letter.messageId);
    return {
      ...letter,
      faultReceives: receives.get(letter.messageId) ?? 0,
      ...(original !== undefined ? { duplicateOf: original } : {}),
    };
  });
}

/** How many of the dead letters the queue faults had received or sent (a receive counts toward maxReceiveCount). */
function deadLetterCauses(result: ChaosResult): string {
  const letters = result.deadLetters;
  if (letters.length === 0) return '';
  const byFault = letters.filter((l) => l.faultReceives > 0 || l.duplicateOf !== undefined).length;
  return ` (of ${letters.length} read: ${byFault} received or sent by an sqs-duplicate/sqs-delay fault)`;
}
