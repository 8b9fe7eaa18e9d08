import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from './wait';

/** `tmc dev` in a process of its own, as a user runs `npm start`. */
export interface DevProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): { stdout: string; stderr: string };
  /** Ctrl-C, then its exit code. */
  interrupt(): Promise<number | null>;
}

const PROJECT_ROOT = join(__dirname, '..', '..');

/** Starts `tmc dev` with `args` and resolves once its readiness banner is printed (rejects if it exits first). */
export async function startDevProcess(args: string[], timeoutMs = 120_000): Promise<DevProcess> {
  const child = spawn(process.execPath, ['bin/tmc.mjs', 'dev', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'WARN' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitFor(
    'the readiness banner of tmc dev',
    async () => {
      if (child.exitCode !== null) throw new Error(`tmc dev exited with ${child.exitCode}: ${stderr}`);
      return stdout.includes('tmc is running');
    },
    { timeoutMs },
  ).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    child,
    output: () => ({ stdout, stderr }),
    interrupt: async () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}
