import { createServer, type Server } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../lib/cli/main';
import { checkScope } from '../../../lib/cli/commands/recovery';
import { explainStartFailure } from '../../../lib/cli/commands/dev';
import { startApiServer, PortInUseError } from '../../../lib/local/http-server';
import type { FunctionRuntime } from '../../../lib/local/function-runtime';
import { createStackLogger } from '../../../lib/local/log';

/** Runs the tmc CLI in process; returns its exit code and what it wrote to stderr. */
async function tmc(...args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const before = process.exitCode;
  try {
    await main(['node', 'tmc', ...args]);
    return { code: Number(process.exitCode ?? 0), stderr };
  } finally {
    write.mockRestore();
    process.exitCode = before;
  }
}

describe("a new user's first mistakes get errors that say what to do", () => {
  it('a missing --kcp-kubeconfig file is named, with what to pass instead, before anything starts', async () => {
    const { code, stderr } = await tmc('dev', '--kcp-kubeconfig', '/nope/kcp.kubeconfig');
    expect(code).toBe(1);
    expect(stderr).toContain('--kcp-kubeconfig /nope/kcp.kubeconfig: no such file');
    expect(stderr).toContain('leave the flag out to run the simulated kcp');
  });

  it('a missing --cluster kubeconfig is named with its cluster', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tmc-cli-'));
    const kcp = join(dir, 'kcp.kubeconfig');
    writeFileSync(kcp, 'apiVersion: v1\n');
    const { code, stderr } = await tmc(
      'dev',
      '--kcp-kubeconfig',
      kcp,
      '--cluster',
      `east=${join(dir, 'east.kubeconfig')}`,
    );
    expect(code).toBe(1);
    expect(stderr).toContain(`--cluster east= ${join(dir, 'east.kubeconfig')}: no such file`);
  });

  it.each([
    ['nope', false],
    ['workspace:', false],
    ['cluster: east', false],
    ['root:default', false],
    ['workspace:root:default', true],
    ['cluster:east', true],
  ])('recovery confirm checks the scope %s', (scope, ok) => {
    if (ok) expect(checkScope(scope)).toBe(scope);
    else
      expect(() => checkScope(scope)).toThrow(
        'a scope is workspace:<path> (e.g. workspace:root:default) or cluster:<name>',
      );
  });

  it('recovery confirm with a malformed scope says what a scope looks like, without needing a running stack', async () => {
    const { code, stderr } = await tmc(
      'recovery',
      'confirm',
      'east',
      '--state-dir',
      mkdtempSync(join(tmpdir(), 'tmc-cli-')),
    );
    expect(code).toBe(1);
    expect(stderr).toContain('Malformed scope "east": a scope is workspace:<path>');
  });

  describe('the HTTP API port already taken', () => {
    let taken: Server;
    let port: number;
    beforeAll(async () => {
      taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const address = taken.address();
      port = typeof address === 'object' && address !== null ? address.port : 0;
    });
    afterAll(async () => {
      await new Promise((resolve) => taken.close(resolve));
    });

    it('is a PortInUseError naming the port', async () => {
      const runtime = {} as FunctionRuntime; // never invoked: the server does not start
      const started = startApiServer({ runtime, logger: createStackLogger({ level: 'silent' }), port });
      await expect(started).rejects.toBeInstanceOf(PortInUseError);
      await expect(started).rejects.toMatchObject({ port });
    });

    it('tmc dev suggests --port 0', async () => {
      const err = await startApiServer({
        runtime: {} as FunctionRuntime,
        logger: createStackLogger({ level: 'silent' }),
        port,
      }).catch((e: unknown) => e);
      const explained = explainStartFailure(err);
      expect(explained).toBeInstanceOf(Error);
      expect(explained instanceof Error ? explained.message : '').toBe(
        `Port ${port} is in use (another \`npm start\`?): stop that process, or pick another port with --port <n> (--port 0 picks a free one)`,
      );
    });
  });
});
