// The floor pipeline (floor-pipeline.ts) in a worker thread named like a function's (`fn:floor`), so the CPU split
// counts it where tmc's functions are counted. Registers tsx as lib/local/function-worker.mjs does, loads the
// pipeline, says `ready`, and runs the job it is then sent; it stays until terminated, so its CPU is read while it lives.
import { parentPort } from 'node:worker_threads';
import { URL } from 'node:url';
import { register } from 'tsx/esm/api';
import { nameThisThread } from '../../lib/local/thread-name.mjs';

nameThisThread('ld:floor');
register();
nameThisThread('fn:floor');
const { FloorJob, runFloorPipeline } = await import(new URL('./floor-pipeline.ts', import.meta.url).href);
parentPort.once('message', async (job) => {
  try {
    await runFloorPipeline(FloorJob.parse(job));
    parentPort.postMessage({ type: 'done', ok: true });
  } catch (err) {
    parentPort.postMessage({ type: 'done', ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
parentPort.postMessage({ type: 'ready' });
