import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_BUDGET_BYTES, BUNDLE_CAP_BYTES, esbuildOptions } from '../../../infra/bundling';
import { measureBundles, type BundleSize } from '../../../infra/bundle-sizes';
import { bundleFunction } from '../../../infra/bundle-function';
import { loadBundle } from '../../../infra/bundle-load';
import { deployableFunctions } from '../../../infra/tmc-app';

/**
 * Each function bundled the way the stack bundles it (infra/bundling.ts), held under its budget, and carrying only
 * what it imports: the functions that never talk to Kubernetes must not pay for @kubernetes/client-node's cold start.
 * One esbuild run for all functions keeps this to a few seconds.
 */
const projectRoot = resolve(__dirname, '../../..');
let sizes: BundleSize[];

beforeAll(async () => {
  sizes = await measureBundles(projectRoot, deployableFunctions(projectRoot));
});

it('bundles every deployed function', () => {
  expect(sizes.map((s) => s.name).sort()).toEqual([...deployableFunctions(projectRoot)].sort());
  for (const size of sizes) expect(size.bytes).toBeGreaterThan(10_000);
});

it('keeps every bundle under its budget', () => {
  const over = sizes.filter((s) => s.bytes > s.budgetBytes).map((s) => `${s.name}: ${s.bytes} > ${s.budgetBytes}`);
  expect(over).toEqual([]);
});

it('leaves the Kubernetes client out of functions that never reach a cluster', () => {
  const withKube = sizes.filter((s) => s.packages.includes('@kubernetes/client-node')).map((s) => s.name);
  for (const name of ['ingress', 'api', 'authorizer', 'metrics-rollup', 'syncer-feed', 'syncer-feed-authorizer'])
    expect(withKube).not.toContain(name);
  expect(withKube).toContain('sync-apply');
});

it('bundles only the KubeConfig part of client-node, and no URL polyfill', () => {
  for (const size of sizes) {
    // ws and tar-fs come only with client-node's index (watch, exec, cp); tr46 only with the real whatwg-url, which
    // infra/shims/whatwg-url.cjs replaces (node-fetch 2 uses it only where Node has no global URL).
    expect(size.packages.filter((pkg) => ['ws', 'tar-fs', 'whatwg-url', 'tr46'].includes(pkg))).toEqual([]);
  }
});

it('leaves the DynamoDB and SQS clients out of the authorizer', () => {
  const authorizer = sizes.find((s) => s.name === 'authorizer');
  expect(authorizer?.packages).toContain('@aws-sdk/client-secrets-manager');
  expect(authorizer?.packages).not.toContain('@aws-sdk/client-dynamodb');
  expect(authorizer?.packages).not.toContain('@aws-sdk/client-sqs');
});

it('keeps every bundle at or under 1 MiB, and no budget above it', () => {
  expect(sizes.filter((s) => s.bytes > BUNDLE_CAP_BYTES).map((s) => `${s.name}: ${s.bytes}`)).toEqual([]);
  expect(Object.entries(BUNDLE_BUDGET_BYTES).filter(([, budget]) => budget > BUNDLE_CAP_BYTES)).toEqual([]);
});

it('leaves out what the shims replace: SOCKS, a second YAML parser, the non-Lambda credential sources', () => {
  for (const size of sizes)
    expect(
      size.packages.filter((pkg) =>
        ['socks', 'socks-proxy-agent', 'yaml', '@aws-sdk/credential-provider-node', '@aws-sdk/nested-clients'].includes(
          pkg,
        ),
      ),
    ).toEqual([]);
});

describe('the shims, bundled and run', () => {
  // One entry using what the shims replace, bundled with the functions' options and required in this process.
  const dir = mkdtempSync(join(tmpdir(), 'tmc-shims-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let inputs: string[];
  let probe: {
    kubeconfig(text: string): unknown;
    apiClient(text: string): unknown;
    zodError(): string;
    locales(): string[];
    credentials(): Promise<unknown>;
  };

  beforeAll(async () => {
    const contents = `import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { z } from 'zod';
const load = (text: string) => { const kc = new KubeConfig(); kc.loadFromString(text); return kc; };
export const kubeconfig = (text: string) => load(text).getCurrentCluster();
export const apiClient = (text: string) => load(text).makeApiClient(class { constructor(readonly configuration: unknown) {} });
export const zodError = () => z.object({ a: z.string() }).safeParse({ a: 1 }).error?.issues[0]?.message ?? '';
export const locales = () => Object.keys(z.locales);
export const credentials = () => defaultProvider()();
`;
    const result = await build({
      ...esbuildOptions(projectRoot),
      stdin: { contents, loader: 'ts', resolveDir: projectRoot },
      outfile: join(dir, 'probe.cjs'),
      metafile: true,
      logLevel: 'error',
    });
    inputs = Object.keys(result.metafile.inputs);
    probe = (await import(join(dir, 'probe.cjs'))) as typeof probe;
  });

  it('bundles no client-node model and no zod locale but English', () => {
    expect(inputs.filter((i) => i.includes('client-node/dist/gen/models/'))).toEqual([]);
    expect(inputs.filter((i) => /zod\/v4\/locales\/(?!en\.js)/.test(i))).toEqual([]);
  });

  it('loads a kubeconfig (YAML with a merge key) and builds an API client through the slim generated barrel', () => {
    const text =
      'apiVersion: v1\nkind: Config\nbase: &base\n  insecure-skip-tls-verify: true\nclusters:\n- name: c\n  cluster:\n    <<: *base\n    server: https://c.example:6443\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\nusers:\n- name: u\n  user: {token: t}\n';
    expect(probe.kubeconfig(text)).toMatchObject({ name: 'c', server: 'https://c.example:6443', skipTLSVerify: true });
    expect(probe.apiClient(text)).toHaveProperty('configuration.baseServer');
  });

  it("keeps zod's English messages and its English locale", () => {
    expect(probe.zodError()).toBe('Invalid input: expected string, received number');
    expect(probe.locales()).toEqual(['en']);
  });

  it('takes credentials from the environment, as Lambda provides them', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
    });
    try {
      await expect(probe.credentials()).resolves.toMatchObject({
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'secret',
        sessionToken: 'token',
      });
    } finally {
      for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'])
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
    }
  });
});

describe('a deployed bundle, loaded as Lambda loads it', () => {
  // One function in CI (the Kubernetes-facing health-probe carries every shim); all of them after `npm run synth`
  // with `npm run check:bundles` (docs/deploy.md).
  const dir = mkdtempSync(join(tmpdir(), 'tmc-bundle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('bundles health-probe into index.js under 1 MiB with a callable handler', async () => {
    await bundleFunction(projectRoot, 'health-probe', dir);
    const loaded = loadBundle(join(dir, 'index.js'), 'handler');
    expect(loaded.handlerType).toBe('function');
    expect(loaded.bytes).toBeLessThanOrEqual(BUNDLE_CAP_BYTES);
  });

  it("loads a bundle where `npm run synth` leaves it, inside the project's ES-module package, as CommonJS", () => {
    // cdk.out is under package.json's "type": "module"; Lambda loads the asset from /var/task, with no package.json.
    const inProject = mkdtempSync(join(projectRoot, '.tmc-bundle-'));
    try {
      writeFileSync(join(inProject, 'index.js'), '"use strict";\nmodule.exports = { handler: () => 1 };\n');
      expect(loadBundle(join(inProject, 'index.js'), 'handler').handlerType).toBe('function');
    } finally {
      rmSync(inProject, { recursive: true, force: true });
    }
  });

  it('fails on a bundle that cannot load, and on a missing export', () => {
    writeFileSync(join(dir, 'broken.js'), "require('a-module-esbuild-left-out');\nexports.handler = () => 1;\n");
    expect(() => loadBundle(join(dir, 'broken.js'), 'handler')).toThrow(/a-module-esbuild-left-out/);
    writeFileSync(join(dir, 'wrong.js'), 'exports.main = () => 1;\n');
    expect(loadBundle(join(dir, 'wrong.js'), 'handler').handlerType).toBe('undefined');
  });
});
