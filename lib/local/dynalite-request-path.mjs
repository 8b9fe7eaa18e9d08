// Two costs dynalite (4.x) pays on every request that are not the request's work, measured with a CPU profile of its
// thread in a 200 × 3 create (docs/bench.md "The emulators' own costs per request"):
// - the x-amz-crc32 header of each answer is computed by buffer-crc32, a byte-at-a-time JavaScript loop over the
//   whole body (3% of the thread); Node's zlib.crc32 computes the same CRC-32 (IEEE, over the string's UTF-8) natively;
// - every item request (GetItem, PutItem, UpdateItem, DeleteItem, Query, Scan, the batches) first reads the table's
//   description from its LevelDB and JSON-decodes it (2–3%): the description changes only when a table action
//   (CreateTable, UpdateTable, DeleteTable) writes it.
// Both are swapped in from outside (node_modules is not edited), and neither changes an answer:
// test/integration/local/dynalite-expression-cache.test.ts replays a request script with these off and on.
import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';
import { setImmediate } from 'node:timers';
import { crc32 } from 'node:zlib';

// buffer-crc32 as dynalite resolves it, so the copy patched is the one its index.js holds.
const requireFromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));

/** Hits and misses of the table-description cache in this thread. */
const tableStats = { hits: 0, misses: 0 };
let crcInstalled = false;

/**
 * dynalite's index.js calls `crc32.unsigned(body)` on the module object it required, so replacing the property
 * reaches it. Only this thread's copy of buffer-crc32 changes (dynalite's worker loads nothing else that uses it).
 */
export function installNativeCrc32() {
  if (crcInstalled) return;
  crcInstalled = true;
  const module = requireFromDynalite('buffer-crc32');
  const original = module.unsigned;
  module.unsigned = function unsignedCrc32(input, previous) {
    // The JavaScript version's other forms (a previous CRC to continue from, a number) are left to it.
    if (previous === undefined && (typeof input === 'string' || Buffer.isBuffer(input))) return crc32(input);
    return original.apply(this, arguments);
  };
}

/**
 * Keeps the decoded description of each table for the item actions. dynalite's `getTable(name, cb)` (two arguments)
 * is what the item actions call, and they only read the description; the table actions call
 * `getTable(name, false, cb)`, mutate what they get and write it back, so they keep reading (and decoding) their own
 * copy. Any write to the table store (put, del, batch), when it starts and when it ends, empties the cache and moves
 * a generation on, so a read that started before a write never fills the cache with what the write replaced. The
 * checks `getTable` makes on what it read (a missing or corrupted entry, a table still CREATING or DELETING) run on
 * the cached description too: only the read and the decode are skipped.
 */
export function cacheTableDescriptions(store) {
  const tableDb = store.tableDb;
  const getTable = store.getTable;
  const cache = new Map();
  let generation = 0;
  const invalidate = () => {
    generation += 1;
    cache.clear();
  };
  for (const method of ['put', 'del', 'batch']) {
    const write = tableDb[method];
    tableDb[method] = function writeTable(...args) {
      invalidate();
      const callback = args.at(-1);
      if (typeof callback === 'function')
        args[args.length - 1] = function afterWrite(...results) {
          invalidate();
          return callback.apply(this, results);
        };
      return write.apply(this, args);
    };
  }
  // The cached description serves a request only once the table is ACTIVE or UPDATING, as getTable would accept it.
  const servable = (table) =>
    table !== null &&
    typeof table === 'object' &&
    typeof table.TableStatus === 'string' &&
    table.TableStatus !== 'CREATING' &&
    table.TableStatus !== 'DELETING';
  store.getTable = function cachedGetTable(name, checkStatus, cb) {
    if (typeof checkStatus !== 'function' || cb !== undefined) return getTable.apply(this, arguments);
    const done = checkStatus;
    const cached = cache.get(name);
    if (cached !== undefined) {
      tableStats.hits += 1;
      // getTable answers through LevelDB's callback, never in the caller's tick: neither does the cache.
      setImmediate(done, null, cached);
      return undefined;
    }
    tableStats.misses += 1;
    const startedAt = generation;
    return getTable.call(this, name, function afterGetTable(err, table) {
      if (!err && generation === startedAt && servable(table)) cache.set(name, table);
      return done.apply(this, arguments);
    });
  };
  return { cache, stats: tableStats };
}

/**
 * For EmulatorThread.load: `snapshot()` returns this thread's table-description cache hits and misses.
 * @public loaded by name (test/integration/local/dynalite-expression-cache.test.ts)
 */
export function tableCacheStats() {
  return { snapshot: () => ({ ...tableStats }) };
}
