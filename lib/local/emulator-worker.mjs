// One AWS emulator (dynalite or fauxqs) in a worker thread, so that its HTTP server, request parsing and storage run
// on the machine's second core instead of the local stack's saturated main thread (lib/local/emulator-thread.ts
// starts it and speaks the protocol below). Plain JavaScript that imports only the emulators from node_modules: a
// worker thread gets neither jest's SWC transform nor the tsx loader bin/tmc.mjs registers, so a .ts worker would
// need its own loader on every start. TypeScript is loaded only on demand, for modules `load` names (the benchmark's
// request counter, which must run where the server's diagnostics channel fires).
//
// workerData: { service: 'dynamodb' | 'sqs', path?: string, port?: number, expressionCache?: boolean,
//              requestShortcuts?: boolean }
// To the parent, once: { type: 'ready', port } or { type: 'failed', error }.
// From the parent: { id, op: 'load', module, factory, args } → calls module[factory](...args) and keeps the object;
//                  { id, op: 'call', handle, method, args } → the method's (awaited) result;
//                  { id, op: 'heap', collectGarbage } → this thread's V8 heap, after a full collection if asked (the
//                  fields of lib/local/thread-heap.ts, which says why gc comes from a new context);
//                  { id, op: 'compact' } → dynalite only: compacts its LevelDB (see compactLevelDb);
//                  { id, op: 'stop' } → closes what `load` made (`close()`) and the server; the thread then exits.
// Answers: { type: 'reply', id, ok: true, value } or { type: 'reply', id, ok: false, error }.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { installDynaliteExpressionCache } from './dynalite-expression-cache.mjs';
import { closeIteratorsOfStreams } from './dynalite-level-streams.mjs';
import { cacheTableDescriptions, installNativeCrc32 } from './dynalite-request-path.mjs';
import { nameThisThread, THREAD_NAME_PREFIX } from './thread-name.mjs';

nameThisThread(`${THREAD_NAME_PREFIX.emulator}${workerData.service}`);

/** Errors cross the thread as plain data; the parent rebuilds them (an Error's own fields do not survive cloning). */
function describeError(err) {
  if (err instanceof Error)
    return {
      name: err.name,
      message: err.message,
      code: typeof err.code === 'string' ? err.code : undefined,
      stack: err.stack,
    };
  return { name: 'Error', message: String(err) };
}

/**
 * Compacts the whole of a LevelDB (classic-level) into its bottom level, which drops every overwritten version and
 * every deletion marker. LevelDB compacts a level only once it outgrows its limit (10 MB, 100 MB, 1 GB, …), so a
 * table whose items are rewritten all the time (sync, status and health items) keeps up to that much of dead versions
 * on disk, far more than its live data; nothing else ever removes them.
 */
async function compactLevelDb(db) {
  const [first] = await db.keys({ limit: 1 }).all();
  const [last] = await db.keys({ limit: 1, reverse: true }).all();
  if (first === undefined || last === undefined) return;
  await db.compactRange(first, last);
}

async function startDynamo(options) {
  const { default: dynalite } = await import('dynalite');
  // dynalite re-parses every condition and update expression with its PEG parser; a memo skips the repeats.
  const shortcuts = options.requestShortcuts !== false;
  if (options.expressionCache !== false) installDynaliteExpressionCache({ between: shortcuts });
  // The per-request costs that are not the request's work (lib/local/dynalite-request-path.mjs).
  if (shortcuts) installNativeCrc32();
  if (options.path !== undefined) mkdirSync(options.path, { recursive: true });
  // dynalite keeps its store (and the LevelDB in it) to itself: its db module's create is the one place it is made.
  const dbModule = createRequire(import.meta.url)('dynalite/db/index.js');
  const create = dbModule.create;
  let store;
  dbModule.create = (storeOptions) => (store = create(storeOptions));
  // createTableMs 0: tables are ACTIVE at once, so start-up does not wait half a second per table.
  let server;
  try {
    server = dynalite({
      createTableMs: 0,
      deleteTableMs: 0,
      updateTableMs: 0,
      ...(options.path ? { path: options.path } : {}),
    });
  } finally {
    dbModule.create = create;
  }
  if (store === undefined) throw new Error("dynalite's store was not created through its db module");
  closeIteratorsOfStreams(store.db);
  if (shortcuts) cacheTableDescriptions(store);
  let compacting = Promise.resolve();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    port: server.address().port,
    // In memory (memory-level) there is nothing to compact: a deleted or overwritten key is gone at once.
    compact: () => {
      if (options.path === undefined) return Promise.resolve(false);
      compacting = compactLevelDb(store.db).then(() => true);
      return compacting;
    },
    stop: async () => {
      // A compaction in progress finishes before LevelDB closes.
      await compacting.catch(() => undefined);
      return new Promise((resolve, reject) => {
        server.closeAllConnections();
        // dynalite's close also closes its LevelDB, so a persisted table is complete on disk when this resolves.
        server.close((err) => (err ? reject(err) : resolve()));
      });
    },
  };
}

async function startSqs(options) {
  const { startFauxqs } = await import('fauxqs');
  // `host` only names queue URLs (`sqs.<region>.<host>`); it does not change the bind address. With an IP the URL
  // is not a valid WHATWG URL (a host ending in a numeric label must be IPv4), and loadConfig rejects it.
  const server = await startFauxqs({ port: options.port ?? 0, logger: false, host: 'localhost' });
  return { port: server.port, stop: () => server.stop() };
}

let tsxRegistered = false;

async function importModule(path) {
  if (path.endsWith('.ts') && !tsxRegistered) {
    const { register } = await import('tsx/esm/api');
    // The hooks thread register() starts takes this thread's name (function-worker.mjs says why it is renamed).
    nameThisThread(`${THREAD_NAME_PREFIX.loader}${workerData.service}`);
    register();
    nameThisThread(`${THREAD_NAME_PREFIX.emulator}${workerData.service}`);
    tsxRegistered = true;
  }
  return import(pathToFileURL(path).href);
}

const hosted = new Map();
let nextHandle = 1;

async function handle(server, message) {
  switch (message.op) {
    case 'load': {
      const module = await importModule(message.module);
      const factory = module[message.factory];
      if (typeof factory !== 'function')
        throw new TypeError(`${message.module} exports no function ${message.factory}`);
      const handleId = nextHandle++;
      hosted.set(handleId, await factory(...message.args));
      return handleId;
    }
    case 'call': {
      const target = hosted.get(message.handle);
      const method = target?.[message.method];
      if (typeof method !== 'function')
        throw new TypeError(`Loaded object ${message.handle} has no method ${message.method}`);
      return method.apply(target, message.args);
    }
    case 'heap': {
      if (message.collectGarbage) {
        setFlagsFromString('--expose-gc');
        runInNewContext('gc')();
      }
      const stats = getHeapStatistics();
      return {
        usedBytes: stats.used_heap_size,
        totalBytes: stats.total_heap_size,
        mallocedBytes: stats.malloced_memory,
        externalBytes: stats.external_memory,
        // As lib/local/thread-heap.ts youngGenerationBytes (this worker loads no TypeScript).
        youngBytes: getHeapSpaceStatistics()
          .filter((space) => space.space_name === 'new_space' || space.space_name === 'new_large_object_space')
          .reduce((sum, space) => sum + space.space_size, 0),
      };
    }
    case 'compact': {
      if (typeof server.compact !== 'function')
        throw new TypeError(`The ${workerData.service} emulator has no compaction`);
      return server.compact();
    }
    case 'stop': {
      // The server closes even when a loaded object's close fails; that failure is reported after.
      const closed = await Promise.allSettled(
        [...hosted.values()].map(async (target) => (typeof target.close === 'function' ? target.close() : undefined)),
      );
      hosted.clear();
      await server.stop();
      const failed = closed.find((result) => result.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      return undefined;
    }
    default:
      throw new TypeError(`Unknown emulator thread operation ${String(message.op)}`);
  }
}

let server;
try {
  server = workerData.service === 'dynamodb' ? await startDynamo(workerData) : await startSqs(workerData);
} catch (err) {
  parentPort.postMessage({ type: 'failed', error: describeError(err) });
  parentPort.close();
}
if (server !== undefined) {
  parentPort.on('message', async (message) => {
    let reply;
    try {
      reply = { type: 'reply', id: message.id, ok: true, value: await handle(server, message) };
    } catch (err) {
      reply = { type: 'reply', id: message.id, ok: false, error: describeError(err) };
    }
    try {
      parentPort.postMessage(reply);
    } catch (err) {
      // A result that cannot be cloned (a function, a socket) is the caller's error, not the thread's end.
      parentPort.postMessage({ type: 'reply', id: message.id, ok: false, error: describeError(err) });
    }
    // Nothing is left on the event loop once the server and the port are closed: the thread exits by itself.
    if (message.op === 'stop') parentPort.close();
  });
  parentPort.postMessage({ type: 'ready', port: server.port });
}
