import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FunctionName } from '../../lib/runtime/resources';

/** The events/ folder: one sub-folder of sample events per function (README "Layout"). */
export const EVENTS_DIR = join(__dirname, '..', '..', 'events');

/**
 * One sample event of `fn`, parsed. test/unit/events/samples.test.ts checks that every sample is loaded by some test
 * through this call with literal arguments, so write it as `loadEvent('sync-apply', 'apply-deployment.json')`.
 */
export function loadEvent<T>(fn: FunctionName, file: string): T {
  return JSON.parse(readFileSync(join(EVENTS_DIR, fn, file), 'utf8')) as T;
}
