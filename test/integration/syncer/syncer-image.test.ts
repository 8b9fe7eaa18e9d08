import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleSyncer } from '../../../scripts/syncer-bundling';

const ROOT = resolve(__dirname, '../../..');

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile('node', [file, ...args], { timeout: 30_000 }, (err, stdout, stderr) =>
      done({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** What deploy/syncer/Dockerfile builds (no Docker here): the same script, its bundle, and that the bundle runs. */
describe('the syncer image', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'tmc-syncer-image-')), 'syncer.cjs');
  let inputs: string[];

  beforeAll(async () => {
    inputs = Object.keys((await bundleSyncer(ROOT, out)).inputs);
  }, 120_000);

  it('the Dockerfile bundles with this script and runs the bundle as a non-root user on node:22-slim', () => {
    const dockerfile = readFileSync(join(ROOT, 'deploy/syncer/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:22-slim AS build$/m);
    expect(dockerfile).toMatch(/^RUN npx tsx scripts\/bundle-syncer.ts \/out\/syncer.cjs$/m);
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "\/app\/syncer.cjs"\]$/m);
  });

  it('holds only the syncer: nothing of the local stack, the simulator, the CLI or the AWS SDK', () => {
    expect(inputs).toContain('lib/syncer/syncer.ts');
    expect(
      inputs.filter((i) =>
        /^lib\/(local|sim)\/|^lib\/cli\/commands\/(dev|bench|syncer-kubeconfig)|@aws-sdk|dynalite/.test(i),
      ),
    ).toEqual([]);
  });

  it('runs: --help lists the documented flags, and missing flags are refused', async () => {
    const help = await run(out, ['--help']);
    expect(help.code).toBe(0);
    for (const flag of [
      '--sync-target-name',
      '--sync-target-uid',
      '--workspace-cluster',
      '--kcp-kubeconfig',
      '--cluster-kubeconfig',
      '--health-port',
      '--metrics-port',
    ])
      expect(help.stdout).toContain(flag);
    const missing = await run(out, []);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('required option --sync-target-name');
  });
});
