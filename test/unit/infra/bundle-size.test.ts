import { resolve } from 'node:path';
import { measureBundles, type BundleSize } from '../../../infra/bundle-sizes';
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
  for (const name of ['ingress', 'api', 'authorizer', 'metrics-rollup']) expect(withKube).not.toContain(name);
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
