import { AsyncLocalStorage } from 'node:async_hooks';
import { setMaxListeners } from 'node:events';
import { DeadlineExceededError } from './tmc-error';

/**
 * The deadline every outbound call of an invocation carries (kube API, DynamoDB, SQS, Secrets Manager, remote-write).
 * Lambda ends an invocation at its timeout wherever it is: a write half done, nothing logged, the whole batch back on
 * the queue. tmc cuts its own calls off a reserve before that, so the failure surfaces as a DeadlineExceededError that
 * the handler records (the sync item's lastError, a log line, a batch item failure) in the time left.
 *
 * Calls in flight at `at` are aborted. A call that starts after `at` (recording the failure, deferring the message)
 * gets until `hardAt`, half-way through the reserve; no call outlives `hardAt`, so the function returns before Lambda
 * would kill it.
 */
export interface InvocationDeadline {
  /** Epoch ms at which calls in flight are cut off. */
  readonly at: number;
  /** Epoch ms after which no call runs at all. */
  readonly hardAt: number;
  /** The signal for a call starting now: the soft deadline's before `at`, the hard one's after. */
  signalForCall(): AbortSignal;
}

/** Anything that says how long the invocation has left (a Lambda context). */
export interface RemainingTime {
  getRemainingTimeInMillis(): number;
}

const current = new AsyncLocalStorage<InvocationDeadline>();

/** How long before the function's end calls are cut off: a tenth of the time, at least 0.5 s, at most 5 s. */
export function deadlineReserveMs(remainingMs: number): number {
  return Math.min(5_000, Math.max(500, Math.round(remainingMs * 0.1)));
}

function abortAt(at: number, reason: () => Error): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  // Every concurrent call of the invocation listens on this one signal (removing its listener when it ends).
  setMaxListeners(0, controller.signal);
  const timer = setTimeout(() => controller.abort(reason()), Math.max(0, at - Date.now()));
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/**
 * Runs one invocation with a deadline derived from its remaining time: every call made through the clients built in
 * lib/runtime and lib/adapters/kube, anywhere below `run`, carries it.
 */
export async function withInvocationDeadline<T>(context: RemainingTime, run: () => Promise<T>): Promise<T> {
  const remainingMs = context.getRemainingTimeInMillis();
  const reserveMs = deadlineReserveMs(remainingMs);
  const start = Date.now();
  const at = start + remainingMs - reserveMs;
  const hardAt = start + remainingMs - Math.ceil(reserveMs / 2);
  const reason = (): Error =>
    new DeadlineExceededError(`The invocation reached its deadline ${reserveMs} ms before the function's timeout`);
  const soft = abortAt(at, reason);
  const hard = abortAt(hardAt, reason);
  const deadline: InvocationDeadline = {
    at,
    hardAt,
    signalForCall: () => (soft.signal.aborted ? hard.signal : soft.signal),
  };
  try {
    return await current.run(deadline, run);
  } finally {
    soft.clear();
    hard.clear();
  }
}

/** The running invocation's deadline; undefined outside one (tests of a use case alone, the CLI). */
export function currentDeadline(): InvocationDeadline | undefined {
  return current.getStore();
}

/**
 * Runs one outbound call under `deadline` (captured by the caller when the call was asked for, since a queue in
 * between may lose the async context): `call` gets the signal to pass on, combined with the caller's own when given.
 * A failure while the deadline's signal is aborted is the deadline's doing and becomes a DeadlineExceededError naming
 * `what`; any other failure passes through unchanged.
 */
export async function callUnderDeadline<T>(
  deadline: InvocationDeadline | undefined,
  what: string,
  call: (signal: AbortSignal | undefined) => Promise<T>,
  own?: AbortSignal,
): Promise<T> {
  if (deadline === undefined) return call(own);
  const signal = deadline.signalForCall();
  try {
    return await call(own === undefined ? signal : AbortSignal.any([own, signal]));
  } catch (err) {
    if (signal.aborted && !(own?.aborted ?? false)) {
      throw new DeadlineExceededError(`${what} was cut off at the invocation's deadline`, { cause: err });
    }
    throw err;
  }
}

/**
 * Runs work that goes on after its invocation answered (a fail-open webhook's carried-on send, dropping its outbox
 * record) under a deadline of its own, `ms` from now. The answered invocation's deadline is the wrong one: a handler
 * that answered late (a starved event loop, a slow first attempt) has already passed it, and every call it still made
 * would be cut off at once (docs/recovery.md "Held admissions"); a call with no deadline at all would be bounded only
 * by its client's request timeout times the SDK's attempts (lib/runtime/aws-request-handler.ts).
 */
export function withOwnDeadline<T>(ms: number, run: () => Promise<T>): Promise<T> {
  return withInvocationDeadline({ getRemainingTimeInMillis: () => ms }, run);
}
