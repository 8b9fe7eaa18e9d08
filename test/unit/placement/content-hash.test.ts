import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentHash } from '../../../lib/placement/content-hash';
import type { KubeObject } from '../../../lib/kube/object';
import { contentKeySource } from '../../../lib/runtime/content-key';
import { canonicalJson } from '../../../lib/kube/canonical-json';
import { contentKeyFor } from '../../../lib/kube/canonical-hash';

const KEY = Buffer.from('unit-test-content-key-0123456789abcdef');
const OTHER_KEY = Buffer.from('another-content-key-0123456789abcdefgh');

const secret = (password: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'db', namespace: 'default', resourceVersion: '7' },
  type: 'Opaque',
  data: { password: Buffer.from(password).toString('base64') },
});
const configMap: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c', namespace: 'default' },
  data: { a: '1' },
};

/** What someone who can read the table could compute for a guessed password: the unkeyed hash of the same content. */
function plainHash(object: KubeObject): string {
  const { metadata, ...rest } = object;
  const { resourceVersion: _rv, ...meta } = metadata;
  return createHash('sha256')
    .update(canonicalJson({ ...rest, metadata: { ...meta, labels: undefined, annotations: undefined } }))
    .digest('hex')
    .slice(0, 32);
}

describe("placement's content hash of a Secret", () => {
  it('is keyed: not the plain hash a guess would produce, and different under another key', () => {
    expect(contentHash(configMap)).toBe(plainHash(configMap)); // the reference computation is the real one
    expect(contentHash(secret('hunter2'), KEY)).not.toBe(plainHash(secret('hunter2')));
    expect(contentHash(secret('hunter2'), KEY)).not.toBe(contentHash(secret('hunter2'), OTHER_KEY));
  });
  it.each([
    ['the same data', 'hunter2', true],
    ['other data', 'hunter3', false],
  ])('under one key, %s (%s): same hash %s', (_why, password, same) => {
    expect(contentHash(secret('hunter2'), KEY) === contentHash(secret(password), KEY)).toBe(same);
  });
  it('refuses to hash a Secret without the key rather than fall back to a plain hash', () => {
    expect(() => contentHash(secret('hunter2'))).toThrow(expect.objectContaining({ name: 'ConfigurationError' }));
  });
  it('asks for the key only for Secrets', async () => {
    let asked = 0;
    const source = async (): Promise<Uint8Array> => (asked++, KEY);
    expect(await contentKeyFor(configMap, source)).toBeUndefined();
    expect(await contentKeyFor(secret('x'), source)).toBe(KEY);
    expect(asked).toBe(1);
  });
});

describe('contentKeySource', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tmc-content-key-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the local file once per container', async () => {
    const file = join(dir, 'content-key');
    writeFileSync(file, `${'k'.repeat(43)}\n`);
    const source = contentKeySource({ region: 'us-east-1', contentKeyFile: file });
    expect(Buffer.from(await source()).toString()).toBe('k'.repeat(43));
    writeFileSync(file, 'z'.repeat(43));
    expect(Buffer.from(await source()).toString()).toBe('k'.repeat(43));
  });
  it('reads the Secrets Manager secret in the cloud', async () => {
    const reads: string[] = [];
    const source = contentKeySource(
      { region: 'us-east-1', contentKeySecretArn: 'arn:key' },
      { read: async (arn) => (reads.push(arn), 's'.repeat(48)) },
    );
    expect(Buffer.from(await source()).toString()).toBe('s'.repeat(48));
    expect(reads).toEqual(['arn:key']);
  });
  it('refuses a short key, and a failed read is retried on the next call', async () => {
    const file = join(dir, 'content-key');
    writeFileSync(file, 'short');
    const source = contentKeySource({ region: 'us-east-1', contentKeyFile: file });
    await expect(source()).rejects.toMatchObject({ name: 'ConfigurationError' });
    writeFileSync(file, 'l'.repeat(40));
    expect(Buffer.from(await source()).toString()).toBe('l'.repeat(40));
  });
  it('without a file or secret configured, says which variables to set', async () => {
    await expect(contentKeySource({ region: 'us-east-1' })()).rejects.toThrow('TMC_CONTENT_KEY_FILE');
  });
});

describe("placement's content hash and tmc's own status", () => {
  it('does not move when tmc writes status annotations (per cluster, or its conditions on a kind without them)', () => {
    const annotated: KubeObject = {
      ...configMap,
      metadata: {
        ...configMap.metadata,
        annotations: {
          'experimental.status.workload.kcp.io/abc123': '{}',
          'status.tmc.kcp.io/conditions': '[{"type":"Placed","status":"False"}]',
        },
      },
    };
    expect(contentHash(annotated)).toBe(contentHash(configMap));
  });
});
