// Functions of the local stack in a worker thread (lib/local/function-thread.ts starts it): one isolate whose loaded
// code their containers share, apart from the main thread's. A worker thread gets neither jest's SWC transform nor the tsx
// loader bin/tmc.mjs registers, and the handler is TypeScript, so this plain JavaScript shim registers tsx (as
// emulator-worker.mjs does on demand) and hands over to lib/local/function-container.ts, where the protocol is typed.
//
// workerData: { label, functions: [{ name, handlerPath }], region, iam } (see function-container.ts).
import { URL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';
import { nameThisThread, THREAD_NAME_PREFIX } from './thread-name.mjs';

// tsx's hooks run on a thread register() starts, which takes this thread's name: a loader's name first, so the
// per-thread CPU split (bench/support/thread-cpu.ts) tells compiling TypeScript apart from running the function.
nameThisThread(`${THREAD_NAME_PREFIX.loader}${workerData.label}`);
register();
nameThisThread(`${THREAD_NAME_PREFIX.function}${workerData.label}`);
const { runFunctionContainer } = await import(new URL('./function-container.ts', import.meta.url).href);
await runFunctionContainer(parentPort, workerData);
