import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SqsQueueDepths } from '../../lib/adapters/sqs/sqs-queue-depths';
import { localQueueName } from '../../lib/local/aws-services';
import { holdsMessages, type QueueDepth } from '../../lib/metrics/rollup';
import type { RecoveryStore } from '../../lib/ports/recovery-store';
import { lastFullPass } from '../../lib/recovery/quiet-gate';
import { QUEUES, type QueueName } from '../../lib/runtime/resources';
import type { Violation } from './invariants';

/**
 * When the chaos checker may judge what is still violated: on tmc's own evidence, not after a fixed time. tmc is done
 * when its queues hold nothing (visible, in flight or delayed), no deletion hold stands, and the recovery sweep's last
 * full pass was quiet (docs/recovery.md "Idle runs": it acted on nothing, failed nowhere, saw nothing unsettled, read
 * everything in one page, and nothing it watches had changed for its settle time before it started). A violation
 * seen before such a pass started is one tmc will not repair: a finding, reported at once. While tmc shows it is
 * still working, the checker waits as long as the violations keep changing; a set unchanged for the liveness limit
 * is a stall (tmc busy without progress), and a hard cap bounds the run.
 */

export interface SystemEvidence {
  /** tmc's queues (not their DLQs: a dead letter is reported on its own, and waits for a redrive). */
  queues: QueueDepth[];
  /** Deletion holds standing (tmc deliberately waits for a confirmation or the recheck). */
  holds: number;
  /** The sweep's last full pass: when it started, and whether it was quiet; absent before the first. */
  lastFullPass?: { startedAt: number; quiet: boolean };
}

export type ConvergenceVerdict =
  /** Nothing violated. */
  | { kind: 'converged' }
  /** tmc shows it is still working and the violations are still changing: wait. */
  | { kind: 'working'; why: string }
  /** tmc says it is done (evidence above) while these remain: they are findings. */
  | { kind: 'settled'; why: string }
  /** tmc still busy, but nothing changed for the liveness limit, or the hard cap passed. */
  | { kind: 'stalled'; why: string };

export interface ConvergenceState {
  /** When the faults (and the workload's writes) ended: no quiet pass before it counts. */
  healedAt: number;
  /** When each violation still present was first seen (by {@link violationKey}). */
  firstSeen: Map<string, number>;
  /** When the set of violations last changed (one resolved or a new one): tmc's progress. */
  changedAt: number;
}

export const violationKey = (v: Violation): string =>
  `${v.kind}|${v.workspace ?? ''}|${v.cluster ?? ''}|${v.resource}|${v.namespace ?? ''}|${v.name}`;

/** Starts tracking at `healedAt`. */
export function startConvergence(healedAt: number): ConvergenceState {
  return { healedAt, firstSeen: new Map(), changedAt: healedAt };
}

/** Records one check's violations: their first sightings, and whether the set changed (progress). */
export function observe(state: ConvergenceState, violations: readonly Violation[], now: number): void {
  const keys = new Set(violations.map(violationKey));
  let changed = false;
  for (const key of [...state.firstSeen.keys()])
    if (!keys.has(key)) {
      state.firstSeen.delete(key);
      changed = true;
    }
  for (const key of keys)
    if (!state.firstSeen.has(key)) {
      state.firstSeen.set(key, now);
      changed = true;
    }
  if (changed) state.changedAt = now;
}

/** Why tmc is not done, from its evidence; undefined when it says it is (for every violation seen so far). */
export function stillWorking(state: ConvergenceState, evidence: SystemEvidence): string | undefined {
  const busy = evidence.queues.filter(holdsMessages);
  if (busy.length > 0)
    return `queues hold messages: ${busy.map((q) => `${q.queue} ${q.visible} visible, ${q.inFlight} in flight, ${q.delayed} delayed`).join('; ')}`;
  if (evidence.holds > 0) return `${evidence.holds} deletion hold(s) stand`;
  const pass = evidence.lastFullPass;
  if (pass === undefined) return 'the recovery sweep has recorded no full pass';
  if (!pass.quiet) return `the sweep's last full pass (${new Date(pass.startedAt).toISOString()}) was not quiet`;
  const newest = Math.max(state.healedAt, ...state.firstSeen.values());
  if (pass.startedAt < newest)
    return `the sweep's last quiet pass (${new Date(pass.startedAt).toISOString()}) started before ${new Date(newest).toISOString()}`;
  return undefined;
}

/** The verdict on one check, from what it found, tmc's evidence, and the limits. */
export function judge(
  state: ConvergenceState,
  violations: readonly Violation[],
  evidence: SystemEvidence | undefined,
  now: number,
  limits: { stallMs: number; capMs: number },
  /** Set when the check could not read everything (a cluster or kcp not answering the checker): nothing is concluded. */
  unverified?: string,
): ConvergenceVerdict {
  if (violations.length === 0 && unverified === undefined) return { kind: 'converged' };
  const working =
    unverified ?? (evidence === undefined ? 'tmc’s evidence could not be read' : stillWorking(state, evidence));
  if (working === undefined) {
    const pass = evidence?.lastFullPass;
    return {
      kind: 'settled',
      why: `tmc is done (queues empty, no hold, the sweep's full pass at ${new Date(pass?.startedAt ?? 0).toISOString()} quiet) with ${violations.length} violation(s) left`,
    };
  }
  if (now - state.changedAt > limits.stallMs)
    return {
      kind: 'stalled',
      why: `no violation changed for ${Math.round((now - state.changedAt) / 1000)} s while ${working}`,
    };
  if (now - state.healedAt > limits.capMs)
    return {
      kind: 'stalled',
      why: `still not converged ${Math.round((now - state.healedAt) / 1000)} s after the faults ended; ${working}`,
    };
  return { kind: 'working', why: working };
}

/** Reads tmc's evidence: its queues' depths, its holds, the sweep's record of its last full pass. */
export class EvidenceReader {
  private depths: SqsQueueDepths | undefined;

  constructor(
    private readonly sqs: SQSClient,
    private readonly store: RecoveryStore,
  ) {}

  async read(): Promise<SystemEvidence> {
    const [queues, holds, pass] = await Promise.all([this.queueDepths(), this.store.holds(), lastFullPass(this.store)]);
    return {
      queues,
      holds: holds.length,
      ...(pass !== undefined ? { lastFullPass: { startedAt: pass.fullAt, quiet: pass.quiet } } : {}),
    };
  }

  private async queueDepths(): Promise<QueueDepth[]> {
    if (this.depths === undefined) {
      const queues = await Promise.all(
        (Object.keys(QUEUES) as QueueName[]).map(async (name) => {
          const { QueueUrl: url } = await this.sqs.send(new GetQueueUrlCommand({ QueueName: localQueueName(name) }));
          if (url === undefined) throw new Error(`No queue ${name}`);
          return { name, url };
        }),
      );
      this.depths = new SqsQueueDepths(this.sqs, queues);
    }
    return this.depths.queueDepths();
  }
}
