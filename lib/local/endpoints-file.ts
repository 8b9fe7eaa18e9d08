import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * `<state dir>/endpoints.json`: where a running local stack listens. dynalite and fauxqs take free ports on every
 * start, so CLI commands that read the stack's state (`tmc trace`) find them here instead of asking the user for
 * `--dynamodb-endpoint`. Written once the stack is up, removed when it stops; no secrets (the webhook token has its
 * own 0600 file).
 */
export const StackEndpointsSchema = z.object({
  api: z.url(),
  dynamodb: z.url(),
  sqs: z.url(),
  table: z.string().min(3),
  region: z.string().min(1),
  pid: z.number().int().positive(),
});
export type StackEndpoints = z.infer<typeof StackEndpointsSchema>;

export function endpointsFilePath(stateDir: string): string {
  return join(stateDir, 'endpoints.json');
}

export function writeStackEndpoints(stateDir: string, endpoints: StackEndpoints): () => Promise<void> {
  const path = endpointsFilePath(stateDir);
  writeFileSync(path, `${JSON.stringify(endpoints, null, 2)}\n`);
  return async () => rmSync(path, { force: true });
}

/** The endpoints of the stack running on `stateDir`, or undefined when none is running there. */
export function readStackEndpoints(stateDir: string): StackEndpoints | undefined {
  const path = endpointsFilePath(stateDir);
  if (!existsSync(path)) return undefined;
  const parsed = StackEndpointsSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success)
    throw new Error(`${path} is not a local stack endpoints file; delete it and restart \`npm start\``);
  // A stack that was killed leaves its file behind: its ports may belong to something else by now.
  return processAlive(parsed.data.pid) ? parsed.data : undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return err instanceof Error && 'code' in err && err.code === 'EPERM';
  }
}
