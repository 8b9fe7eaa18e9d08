// Each function invocation's outgoing requests, in rounds, for pricing Lambda's billed duration away from this machine
// (bench/cost/model.ts). Loaded with `--require` into a benchmark size's process (bench/e2e/run-in-child.ts); worker
// threads inherit the flag, so it runs in each of them too: the functions' threads, the emulators', the floor's.
//
// A request belongs to the invocation whose Lambda InvokeStore context (lib/local/lambda-context.ts `runInvocation`,
// an AsyncLocalStorage) is current when the request starts; requests outside an invocation (the local event sources'
// receives and deletes, which Lambda's pollers make in the cloud; the harness) are not counted. Rounds as in
// bench/support/io-rounds.ts: a request that starts after one of round n finished is in round n + 1 at least, so the
// count is the invocation's critical path in requests, whatever this machine's latencies.
//
// Threads talk over a BroadcastChannel: each says `hello` when it loads; `reset` and `collect` from the size's main
// thread (bench/support/invocation-io.ts) are answered by every thread with its `thread` id.
'use strict';
const { subscribe } = require('node:diagnostics_channel');
const { BroadcastChannel, isMainThread, threadId } = require('node:worker_threads');
const { serviceOf } = require('./io-service.cjs');

const CHANNEL = 'tmc-bench:invocation-io';
const FUNCTION_KEY = 'tmc-local:function';
const ENDED_KEY = 'tmc-local:ended';
const API = Symbol.for('tmc-bench.invocation-io');

/** Invocation context object → { fn, finished, rounds: Set<service>[], requests: { service: n } }: live ones only. */
let invocations = new Map();
/** Ended invocations, folded into the per-function summary so a long run (the churn phase) keeps nothing per call. */
let folded = {};
let started = 0;
const FOLD_EVERY = 256;
const requestDepth = new WeakMap();

/** Adds one invocation's figures to a per-function summary. */
function fold(out, state) {
  const f = (out[state.fn] ??= { invocations: 0, requests: {}, rounds: {}, maxRounds: 0 });
  f.invocations += 1;
  f.maxRounds = Math.max(f.maxRounds, state.rounds.length);
  for (const [service, n] of Object.entries(state.requests)) f.requests[service] = (f.requests[service] || 0) + n;
  for (const round of state.rounds) {
    const key = [...round].sort().join('+');
    f.rounds[key] = (f.rounds[key] || 0) + 1;
  }
}

/** Moves every ended invocation from the live map into `folded`. */
function foldEnded() {
  for (const [context, state] of invocations)
    if (context[ENDED_KEY] === true) {
      fold(folded, state);
      invocations.delete(context);
    }
}

function reset() {
  invocations = new Map();
  folded = {};
}

function currentInvocation() {
  const store = globalThis.awslambda && globalThis.awslambda.InvokeStore;
  const context = store && typeof store.getContext === 'function' ? store.getContext() : undefined;
  if (context === undefined || context === null) return undefined;
  const fn = context[FUNCTION_KEY];
  if (typeof fn !== 'string' || context[ENDED_KEY] === true) return undefined;
  let state = invocations.get(context);
  if (state === undefined) {
    state = { fn, finished: 0, rounds: [], requests: {} };
    invocations.set(context, state);
    if (++started % FOLD_EVERY === 0) foldEnded();
  }
  return state;
}

subscribe('http.client.request.start', ({ request }) => {
  const state = currentInvocation();
  if (state === undefined) return;
  const depth = state.finished + 1;
  requestDepth.set(request, { state, depth });
  while (state.rounds.length < depth) state.rounds.push(new Set());
  const service = serviceOf(request);
  state.rounds[depth - 1].add(service);
  const target = request.getHeader('x-amz-target');
  const op = typeof target === 'string' ? `${service} ${target.slice(target.indexOf('.') + 1)}` : service;
  state.requests[op] = (state.requests[op] || 0) + 1;
});
subscribe('http.client.response.finish', ({ request }) => {
  const entry = requestDepth.get(request);
  if (entry !== undefined) entry.state.finished = Math.max(entry.state.finished, entry.depth);
});

/** Per function: invocations that made a request, requests by service, rounds by the services each round went to. */
function summary() {
  foldEnded();
  const out = structuredClone(folded);
  for (const state of invocations.values()) fold(out, state);
  return out;
}

const channel = new BroadcastChannel(CHANNEL);
channel.unref();
const known = new Set();
const waiting = new Map();
let nextId = 1;

channel.onmessage = ({ data }) => {
  if (data === null || typeof data !== 'object') return;
  if (data.op === 'hello') known.add(data.thread);
  else if (data.op === 'reset') {
    reset();
    channel.postMessage({ op: 'reply', id: data.id, thread: threadId, summary: {} });
  } else if (data.op === 'collect')
    channel.postMessage({ op: 'reply', id: data.id, thread: threadId, summary: summary() });
  else if (data.op === 'reply' && isMainThread) {
    known.add(data.thread);
    const w = waiting.get(data.id);
    if (w !== undefined) {
      w.replies.set(data.thread, data.summary);
      if ([...known].every((t) => w.replies.has(t))) w.done();
    }
  }
};
channel.postMessage({ op: 'hello', thread: threadId });

/** Asks every known thread (this one answers itself) and resolves with their answers; `timeoutMs` bounds the wait. */
function ask(op, timeoutMs) {
  const id = nextId++;
  if (op === 'reset') reset();
  const own = op === 'collect' ? summary() : {};
  return new Promise((resolve) => {
    const replies = new Map();
    const finish = () => {
      clearTimeout(timer);
      waiting.delete(id);
      const missing = [...known].filter((t) => !replies.has(t));
      // A thread that did not answer in time has exited: not waited for again, and reported.
      for (const t of missing) known.delete(t);
      resolve({ summaries: [own, ...replies.values()], threads: replies.size + 1, missingThreads: missing.length });
    };
    const timer = setTimeout(finish, timeoutMs);
    waiting.set(id, { replies, done: finish });
    channel.postMessage({ op, id });
    if (known.size === 0) finish();
  });
}

if (isMainThread)
  globalThis[API] = {
    reset: (timeoutMs) => ask('reset', timeoutMs),
    collect: (timeoutMs) => ask('collect', timeoutMs),
    /** Invocations this thread still holds one by one (live, or ended and not yet folded). */
    retained: () => invocations.size,
  };
