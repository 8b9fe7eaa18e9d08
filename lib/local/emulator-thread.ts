import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { findProjectRoot } from './paths';
import { ThreadHeapSchema, type ThreadHeap } from './thread-heap';
import { WORKER_YOUNG_GENERATION_MB, youngGenerationLimits } from './young-generation';

export type EmulatedService = 'dynamodb' | 'sqs';

const SERVICE_NAMES: Record<EmulatedService, string> = { dynamodb: 'DynamoDB (dynalite)', sqs: 'SQS (fauxqs)' };

/** The emulator could not start: its thread failed to load, or the server did not listen (port in use, bad path). */
export class EmulatorStartError extends Error {
  constructor(
    readonly service: EmulatedService,
    options: { cause?: unknown; detail: string },
  ) {
    super(`The local ${SERVICE_NAMES[service]} did not start: ${options.detail}`, { cause: options.cause });
    this.name = 'EmulatorStartError';
  }
}

/** A request to the emulator's thread failed there, or the thread is gone. */
export class EmulatorThreadError extends Error {
  constructor(
    readonly service: EmulatedService,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'EmulatorThreadError';
  }
}

/** An object made by `EmulatorThread.load`, living in the emulator's thread. */
export interface HostedObject {
  /** Calls one of its methods there; arguments and result are structured-cloned across the thread. */
  call(method: string, ...args: unknown[]): Promise<unknown>;
}

/**
 * One emulator's worker thread. Callers talk to the emulator over HTTP at `endpoint` as before; `load` runs code
 * beside the server, where its `http.server.request.start` diagnostics fire (the benchmark's request counter).
 */
export interface EmulatorThread {
  readonly service: EmulatedService;
  readonly endpoint: string;
  /**
   * Imports `modulePath` (absolute; `.ts` through tsx) in the thread and calls its export `factory(...args)`; the
   * object it returns stays there until `stop`, which calls its `close()` if it has one.
   */
  load(modulePath: string, factory: string, args?: unknown[]): Promise<HostedObject>;
  /** The thread's V8 heap now, after a full collection with `collectGarbage` (its in-memory structures live there). */
  heap(options?: { collectGarbage?: boolean }): Promise<ThreadHeap>;
  /**
   * dynalite only: compacts its LevelDB files, dropping overwritten versions and deletion markers (see
   * emulator-worker.mjs). False when the table is in memory, where there is nothing to compact.
   */
  compact(): Promise<boolean>;
  /** Closes the server (and a persisted table's files) and waits for the thread to exit. */
  stop(): Promise<void>;
}

/** What the worker posts, parsed: it is another thread's data. */
const RemoteError = z.object({
  name: z.string(),
  message: z.string(),
  code: z.string().optional(),
  stack: z.string().optional(),
});
const Reply = z.discriminatedUnion('ok', [
  z.object({ type: z.literal('reply'), id: z.number().int(), ok: z.literal(true), value: z.unknown() }),
  z.object({ type: z.literal('reply'), id: z.number().int(), ok: z.literal(false), error: RemoteError }),
]);
const WorkerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), port: z.number().int().positive() }),
  z.object({ type: z.literal('failed'), error: RemoteError }),
  Reply,
]);
type RemoteErrorData = z.infer<typeof RemoteError>;

function rebuild(error: RemoteErrorData): Error {
  const err = new Error(error.message);
  err.name = error.name;
  if (error.stack !== undefined) err.stack = error.stack;
  return Object.assign(err, error.code === undefined ? {} : { code: error.code });
}

/** How long `stop` waits for the thread to exit by itself before terminating it. */
const EXIT_GRACE_MS = 5_000;

/** lib code cannot use import.meta (jest compiles to CommonJS), so the script is found from the project root. */
export function emulatorWorkerScript(projectRoot: string = findProjectRoot()): string {
  return join(projectRoot, 'lib', 'local', 'emulator-worker.mjs');
}

export interface EmulatorThreadOptions {
  /** dynalite's LevelDB directory; in memory without. */
  path?: string;
  /** 0 or absent: any free port. */
  port?: number;
  projectRoot?: string;
  /** Called when the thread dies while the stack runs (the emulator's requests then fail to connect). */
  onCrash?: (error: Error) => void;
  /** dynalite only: memoize its expression parses (lib/local/dynalite-expression-cache.mjs); default true. */
  expressionCache?: boolean;
  /**
   * dynalite only: skip the per-request costs that are not the request's work (lib/local/dynalite-request-path.mjs:
   * native CRC32, the table description kept decoded; and BETWEEN in the expression memo); default true.
   */
  requestShortcuts?: boolean;
  /** The thread's young generation in MiB (lib/local/young-generation.ts); 0: V8's default. */
  youngGenerationMb?: number;
}

/** Starts `service`'s emulator in its own worker thread and resolves once it listens. */
export async function startEmulatorThread(
  service: EmulatedService,
  options: EmulatorThreadOptions = {},
): Promise<EmulatorThread> {
  const script = emulatorWorkerScript(options.projectRoot);
  if (!existsSync(script)) throw new EmulatorStartError(service, { detail: `its worker script ${script} is missing` });
  const worker = new Worker(script, {
    workerData: {
      service,
      path: options.path,
      port: options.port,
      expressionCache: options.expressionCache ?? process.env.TMC_DYNALITE_EXPRESSION_CACHE !== 'off',
      requestShortcuts: options.requestShortcuts ?? process.env.TMC_DYNALITE_SHORTCUTS !== 'off',
    },
    ...youngGenerationLimits(options.youngGenerationMb ?? WORKER_YOUNG_GENERATION_MB),
  });

  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  let nextId = 1;
  let exited = false;
  let stopping = false;
  let crashed = false;
  const failAll = (err: Error): void => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const crash = (err: EmulatorThreadError): void => {
    failAll(err);
    if (stopping || crashed) return;
    crashed = true;
    options.onCrash?.(err);
  };
  const exit = new Promise<number>((resolve) => worker.once('exit', resolve));

  const port = await new Promise<number>((resolve, reject) => {
    const onMessage = (raw: unknown): void => {
      const message = WorkerMessage.safeParse(raw);
      if (!message.success) return;
      if (message.data.type === 'ready') resolve(message.data.port);
      else if (message.data.type === 'failed')
        reject(
          new EmulatorStartError(service, { detail: message.data.error.message, cause: rebuild(message.data.error) }),
        );
    };
    worker.on('message', onMessage);
    worker.once('error', (err) => reject(new EmulatorStartError(service, { detail: err.message, cause: err })));
    void exit.then((code) =>
      reject(new EmulatorStartError(service, { detail: `its thread exited with code ${code} before listening` })),
    );
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });

  worker.removeAllListeners('message');
  worker.removeAllListeners('error');
  worker.on('message', (raw: unknown) => {
    const message = WorkerMessage.safeParse(raw);
    if (!message.success || message.data.type !== 'reply') return;
    const waiting = pending.get(message.data.id);
    if (waiting === undefined) return;
    pending.delete(message.data.id);
    if (message.data.ok) waiting.resolve(message.data.value);
    else
      waiting.reject(
        new EmulatorThreadError(service, message.data.error.message, { cause: rebuild(message.data.error) }),
      );
  });
  worker.on('error', (err) =>
    crash(
      new EmulatorThreadError(service, `The local ${SERVICE_NAMES[service]} thread failed: ${err.message}`, {
        cause: err,
      }),
    ),
  );
  void exit.then((code) => {
    exited = true;
    crash(new EmulatorThreadError(service, `The local ${SERVICE_NAMES[service]} thread exited with code ${code}`));
  });

  const request = (message: Record<string, unknown>): Promise<unknown> => {
    if (exited)
      return Promise.reject(new EmulatorThreadError(service, `The local ${SERVICE_NAMES[service]} thread has exited`));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id });
    });
  };

  return {
    service,
    endpoint: `http://127.0.0.1:${port}`,
    load: async (modulePath, factory, args = []): Promise<HostedObject> => {
      const handle = z
        .number()
        .int()
        .parse(await request({ op: 'load', module: modulePath, factory, args }));
      return { call: (method, ...callArgs) => request({ op: 'call', handle, method, args: callArgs }) };
    },
    compact: async (): Promise<boolean> => z.boolean().parse(await request({ op: 'compact' })),
    heap: async (heapOptions = {}): Promise<ThreadHeap> =>
      ThreadHeapSchema.parse(await request({ op: 'heap', collectGarbage: heapOptions.collectGarbage ?? false })),
    stop: async (): Promise<void> => {
      if (stopping) {
        await exit;
        return;
      }
      stopping = true;
      try {
        await request({ op: 'stop' });
      } finally {
        // A clean stop leaves nothing on the thread's event loop; one that did not finish in time is terminated.
        const timer = setTimeout(() => void worker.terminate(), EXIT_GRACE_MS);
        await exit;
        clearTimeout(timer);
      }
    },
  };
}
