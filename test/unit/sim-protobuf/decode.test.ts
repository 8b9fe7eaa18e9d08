import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ApiError } from '../../../lib/kube-api/api-error';
import { decodeProtobufObject } from '../../../lib/sim/protobuf/decode';

// Bodies captured once from the real kubectl v1.32 (`kubectl create …` against the simulator), and the objects the
// same commands print with `--dry-run=client -o json` (less status, which kubectl prints as {} and never sends a value
// of): what kubectl meant to send.
const fixtures = (file: string): unknown => JSON.parse(readFileSync(join(__dirname, 'fixtures', file), 'utf8'));
const bodies = z
  .record(z.string(), z.object({ request: z.string(), contentType: z.string(), body: z.string() }))
  .parse(fixtures('kubectl-create-bodies.json'));
const intended = z
  .record(z.string(), z.record(z.string(), z.unknown()))
  .parse(fixtures('kubectl-create-intended.json'));

const body = (name: string): Buffer => Buffer.from(bodies[name].body, 'base64');

describe('simulator protobuf decoder: real kubectl bodies', () => {
  it.each(Object.keys(intended))('%s decodes to the object kubectl meant', (name) => {
    expect(decodeProtobufObject(body(name))).toEqual(intended[name]);
  });

  it('keeps bytes as base64 and explicit zeros of pointer fields', () => {
    const cm = decodeProtobufObject(body('configmap'));
    expect(cm).toMatchObject({
      data: { greeting: 'hello' },
      binaryData: { blob: Buffer.from([0, 1, 0xfe, 0xff, ...Buffer.from('bin')]).toString('base64') },
    });
    const secret = decodeProtobufObject(body('secret'));
    expect(Buffer.from(String((secret.data as Record<string, unknown>).password), 'base64').toString()).toBe('hunter2');
    // replicas is *int32: 0 must survive (dropping it would default it to 1).
    expect((decodeProtobufObject(body('deployment-zero-replicas')).spec as Record<string, unknown>).replicas).toBe(0);
  });

  it('answers 415 naming the kind for a kind it has no schema for', () => {
    const attempt = (): unknown => decodeProtobufObject(body('priorityclass'));
    expect(attempt).toThrow(ApiError);
    expect(attempt).toThrow(/PriorityClass of scheduling\.k8s\.io\/v1.*kubectl apply -f/);
    try {
      attempt();
    } catch (err) {
      expect(err instanceof ApiError && err.code).toBe(415);
    }
  });

  it('ignores unknown fields inside a known message', () => {
    // Append field 99 (varint 7) to the Namespace: a newer kubectl may send fields this schema does not list.
    const ns = body('namespace');
    const unknownField = Buffer.from([0x98, 0x06, 0x07]);
    // Re-frame: magic, then the Unknown envelope with raw (field 2) re-encoded around the longer object.
    const decoded = decodeProtobufObject(reframe(ns, unknownField));
    // Go prints the unset creationTimestamp as null, as kubectl's own JSON shows.
    expect(decoded).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-b', creationTimestamp: null },
      spec: {},
    });
  });

  it('rejects a body without the k8s magic or with a broken envelope', () => {
    expect(() => decodeProtobufObject(Buffer.from('{"kind":"Namespace"}'))).toThrow(/starts with the 4 bytes/);
    expect(() =>
      decodeProtobufObject(Buffer.concat([Buffer.from('k8s\u0000', 'latin1'), Buffer.from([0x0a, 0xff])])),
    ).toThrow(ApiError);
  });
});

/** Rebuilds a captured body with extra bytes appended to its typed object (raw, field 2 of runtime.Unknown). */
function reframe(captured: Buffer, extra: Buffer): Buffer {
  const envelope = captured.subarray(4);
  // Field 1 (typeMeta) is first: tag 0x0a, a one-byte length for these small bodies.
  const typeMetaEnd = 2 + envelope[1];
  const rawTag = envelope[typeMetaEnd];
  expect(rawTag).toBe(0x12);
  const rawLength = envelope[typeMetaEnd + 1];
  const raw = envelope.subarray(typeMetaEnd + 2, typeMetaEnd + 2 + rawLength);
  const rest = envelope.subarray(typeMetaEnd + 2 + rawLength);
  const longer = Buffer.concat([raw, extra]);
  return Buffer.concat([
    captured.subarray(0, 4),
    envelope.subarray(0, typeMetaEnd),
    Buffer.from([0x12, longer.length]),
    longer,
    rest,
  ]);
}
