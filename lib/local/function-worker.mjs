// One function of the local stack in its own worker thread: its own "Lambda container", with its own module instances
// and deps (lib/local/function-thread.ts starts it). A worker thread gets neither jest's SWC transform nor the tsx
// loader bin/tmc.mjs registers, and the handler is TypeScript, so this plain JavaScript shim registers tsx (as
// emulator-worker.mjs does on demand) and hands over to lib/local/function-container.ts, where the protocol is typed.
//
// workerData: { name, handlerPath, region } (see function-container.ts for the messages).
import { URL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runFunctionContainer } = await import(new URL('./function-container.ts', import.meta.url).href);
await runFunctionContainer(parentPort, workerData);
