import { setConditions } from './conditions';
import { type ProgressInput, type WorkloadKind, numberOr, podTemplateOf, specOf, statusOf } from './workload-kind';

/** Pod-template annotation that makes a simulated Job fail (tests of failure handling). */
export const JOB_FAIL_ANNOTATION = 'sim.tmc.dev/fail';

function completionsOf(spec: Record<string, unknown>): number {
  return numberOr(spec.completions, 1);
}

function isFinished(status: Record<string, unknown>): boolean {
  return (
    Array.isArray(status.conditions) &&
    status.conditions.some(
      (c: { type?: unknown; status?: unknown }) =>
        (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
    )
  );
}

function shouldFail(input: ProgressInput): boolean {
  const annotations = podTemplateOf(input.object).metadata?.annotations;
  return (
    typeof annotations === 'object' &&
    annotations !== null &&
    (annotations as Record<string, unknown>)[JOB_FAIL_ANNOTATION] === 'true'
  );
}

/**
 * JobStatus as the job controller (1.31+) writes it: active pods first, then either SuccessCriteriaMet + Complete
 * with succeeded = completions, or FailureTarget + Failed (BackoffLimitExceeded) after backoffLimit + 1 failures.
 * A Job whose pods do not fit stays active. A suspended Job only gets its Suspended condition.
 */
export function jobStatus(input: ProgressInput): Record<string, unknown> {
  const { object, phase, now } = input;
  const spec = specOf(object);
  const previous = statusOf(object);
  const completions = completionsOf(spec);
  const parallelism = Math.min(numberOr(spec.parallelism, 1), completions);
  const base = { ready: 0, terminating: 0, uncountedTerminatedPods: {} };

  if (spec.suspend === true) {
    return {
      ...base,
      conditions: setConditions(
        previous.conditions,
        [{ type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }],
        [],
        now,
        'lastProbeTime',
      ),
    };
  }
  const startTime = typeof previous.startTime === 'string' ? previous.startTime : now;
  const resumed = setConditions(
    previous.conditions,
    Array.isArray(previous.conditions) && previous.conditions.some((c: { type?: unknown }) => c.type === 'Suspended')
      ? [{ type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }]
      : [],
    [],
    now,
    'lastProbeTime',
  );
  const withConditions = (extra: Record<string, unknown>, conditions: typeof resumed): Record<string, unknown> => ({
    startTime,
    ...extra,
    ...base,
    ...(conditions.length > 0 ? { conditions } : {}),
  });

  if (phase === 'progressing' || input.granted === 0) return withConditions({ active: parallelism }, resumed);
  // The interim condition (FailureTarget / SuccessCriteriaMet) precedes the terminal one, as in 1.31+.
  const finish = (interim: string, terminal: string, reason: string, message: string): typeof resumed =>
    setConditions(
      resumed,
      [
        { type: interim, status: 'True', reason, message },
        { type: terminal, status: 'True', reason, message },
      ],
      [],
      now,
      'lastProbeTime',
    );
  if (shouldFail(input)) {
    return withConditions(
      { failed: numberOr(spec.backoffLimit, 6) + 1 },
      finish('FailureTarget', 'Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
    );
  }
  return withConditions(
    { completionTime: now, succeeded: completions },
    finish('SuccessCriteriaMet', 'Complete', 'CompletionsReached', 'Reached expected number of succeeded pods'),
  );
}

export const jobKind: WorkloadKind = {
  gvr: { group: 'batch', version: 'v1', resource: 'jobs' },
  kind: 'Job',
  // Job specs are immutable apart from suspend (and parallelism); progress restarts only when suspend flips.
  target: (object) => `${object.metadata.uid ?? ''}:${specOf(object).suspend === true ? 'suspended' : 'running'}`,
  settled: (object) => isFinished(statusOf(object)),
  wantedPods: (object) => Math.min(numberOr(specOf(object).parallelism, 1), completionsOf(specOf(object))),
  status: jobStatus,
  releasesCapacityWhenReady: true,
};
