import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { type ChildMessage, ChildMessageSchema, type CopyDeleted, type ParentMessage } from './protocol';

/**
 * The two child processes of a chaos run, each a fresh `node` running the sources through tsx (as bench/e2e does):
 * the environment (emulators, simulator) and tmc's functions. Their output goes to log files in the run's directory.
 */

function startChild(
  projectRoot: string,
  script: string,
  args: unknown,
  logPath: string,
  env: NodeJS.ProcessEnv,
): ChildProcess {
  const logFd = openSync(logPath, 'a');
  try {
    return spawn(
      process.execPath,
      ['--import', 'tsx', join(projectRoot, 'bench', 'chaos', script), JSON.stringify(args)],
      {
        cwd: projectRoot,
        env,
        stdio: ['ignore', logFd, logFd, 'ipc'],
      },
    );
  } finally {
    closeSync(logFd);
  }
}

function waitForReady(child: ChildProcess, what: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${what} was not ready within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (raw: unknown): void => {
      if (ChildMessageSchema.safeParse(raw).data?.type === 'ready') done();
    };
    const onExit = (code: number | null, signal: string | null): void =>
      done(new Error(`${what} exited (${signal ?? code}) before it was ready; see its log`));
    const done = (err?: Error): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export interface EnvironmentProcessArgs {
  projectRoot: string;
  stateDir: string;
  apiUrl: string;
  workspaces: string[];
  clusters: number;
  readyDelayMs: number;
  visibilityTimeoutSeconds: number;
  /** DynamoDB on disk and kcp's and the clusters' objects saved, so that a crashed environment can be resumed. */
  persist: boolean;
  /** Started again on the state dir and ports of one that crashed. */
  resume: boolean;
}

export class EnvironmentProcess {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (fired: number) => void; reject: (err: Error) => void }>();

  private constructor(
    private readonly child: ChildProcess,
    onCopyDeleted: (event: CopyDeleted) => void,
  ) {
    child.on('message', (raw: unknown) => {
      const parsed = ChildMessageSchema.safeParse(raw);
      if (!parsed.success) return;
      const message: ChildMessage = parsed.data;
      if (message.type === 'copy-deleted') onCopyDeleted(message);
      if (message.type === 'faults-set') {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error !== undefined) waiter?.reject(new Error(message.error));
        else waiter?.resolve(message.fired ?? 0);
      }
    });
  }

  static async start(
    args: EnvironmentProcessArgs,
    logPath: string,
    onCopyDeleted: (event: CopyDeleted) => void,
  ): Promise<EnvironmentProcess> {
    const child = startChild(args.projectRoot, 'environment-process.ts', args, logPath, process.env);
    const environment = new EnvironmentProcess(child, onCopyDeleted);
    try {
      await waitForReady(child, 'The chaos environment process', 120_000);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    return environment;
  }

  /**
   * Replaces a simulated server's faults (`server`: `kcp` or a cluster) with `settings`, as `PUT /_sim/faults` does;
   * resolves to how many requests the replaced rules answered.
   */
  setFaults(server: string, settings: unknown): Promise<number> {
    return this.request((id) => ({ type: 'set-faults', id, server, settings }));
  }

  /** Refuses (or lets through again) a simulated server's calls to tmc's webhooks. */
  async loseWebhooks(server: string, lost: boolean): Promise<void> {
    await this.request((id) => ({ type: 'lose-webhooks', id, server, lost }));
  }

  private request(message: (id: number) => ParentMessage): Promise<number> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send(message(id));
    });
  }

  /** An outage: the environment saves its objects and SIGKILLs itself; resolves once it is gone. */
  async crash(): Promise<void> {
    if (this.child.connected) this.child.send({ type: 'crash' } satisfies ParentMessage);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited(this.child);
    clearTimeout(timer);
    for (const waiter of this.pending.values()) waiter.reject(new Error('The environment process crashed'));
    this.pending.clear();
  }

  async stop(): Promise<void> {
    if (this.child.connected) this.child.send({ type: 'stop' } satisfies ParentMessage);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited(this.child);
    clearTimeout(timer);
  }
}

export interface FunctionsProcessArgs {
  projectRoot: string;
  stateDir: string;
  environmentFile: string;
  port: number;
  bootstrap: boolean;
  scheduleRates: Record<string, number>;
  visibilityTimeoutSeconds: number;
}

export class FunctionsProcess {
  private constructor(private readonly child: ChildProcess) {}

  /** `env`: added to this process's environment (log level, recovery settings). */
  static async start(
    args: FunctionsProcessArgs,
    logPath: string,
    env: Record<string, string>,
  ): Promise<FunctionsProcess> {
    const child = startChild(args.projectRoot, 'functions-process.ts', args, logPath, { ...process.env, ...env });
    try {
      await waitForReady(child, "tmc's functions process", 180_000);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    return new FunctionsProcess(child);
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** A Lambda crash: no cleanup, no goodbye. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await exited(this.child);
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited(this.child);
    clearTimeout(timer);
  }
}
