// dynalite (4.x) reads Query and Scan results through streams it builds over abstract-level iterators
// (db/index.js, wrapWithCallbacks: createKeyStream, createValueStream), and closes them by calling `iterator.return`,
// which abstract-level 3's iterators do not have: every Query and Scan left its LevelDB iterator open. An open iterator
// is tracked by the database (JS heap), holds a native LevelDB iterator and the version of the files it started on,
// so LevelDB can neither free its memtables nor delete the files its compactions replaced: the table's thread, the
// process's native memory and the state directory grew with every read. These streams close their iterator when they
// end or are destroyed, and when a stream its reader abandoned (a Query stopped at its Limit) is collected.
import { Readable } from 'node:stream';

/** Iterators of streams that were collected before they ended or were destroyed. */
const abandoned = new FinalizationRegistry((iterator) => void iterator.close().catch(() => undefined));

function streamOf(iterator) {
  const token = {};
  const stream = new Readable({
    objectMode: true,
    read() {
      iterator.next().then(
        (value) => this.push(value === undefined ? null : value),
        (err) => this.destroy(err),
      );
    },
    // Called after the stream ended (autoDestroy) or when destroyed: the iterator is closed either way.
    destroy(err, callback) {
      abandoned.unregister(token);
      iterator.close().then(
        () => callback(err),
        (closeErr) => callback(err ?? closeErr),
      );
    },
  });
  abandoned.register(stream, iterator, token);
  return stream;
}

/** Replaces dynalite's two stream factories on its LevelDB (`store.db`) with ones that close their iterators. */
export function closeIteratorsOfStreams(db) {
  db.createKeyStream = (options) => streamOf(db.keys(options));
  db.createValueStream = (options) => streamOf(db.values(options));
}
