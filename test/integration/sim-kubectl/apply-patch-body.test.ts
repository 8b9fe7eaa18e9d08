import { z } from 'zod';
import { startSimUnderTest, type SimUnderTest } from './sim-harness';

/**
 * A server-side apply body (application/apply-patch+yaml) is YAML, and JSON is YAML: the simulator reads a JSON body
 * with JSON.parse and leaves everything else to the YAML parser. Either way the same object is stored, and a body
 * that is neither answers with the YAML parser's error, as before.
 */

const ConfigMap = z.looseObject({ data: z.record(z.string(), z.string()).optional() });
const Status = z.looseObject({ kind: z.literal('Status'), code: z.number(), message: z.string() });

describe('simulator: server-side apply bodies', () => {
  let sim: SimUnderTest;
  const apply = (name: string, body: string): Promise<Response> =>
    fetch(`${sim.server.url}/api/v1/namespaces/default/configmaps/${name}?fieldManager=test`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/apply-patch+yaml' },
      body,
    });
  const dataOf = async (name: string): Promise<Record<string, string> | undefined> =>
    ConfigMap.parse(await (await fetch(`${sim.server.url}/api/v1/namespaces/default/configmaps/${name}`)).json()).data;

  beforeAll(async () => {
    sim = await startSimUnderTest();
  });
  afterAll(() => sim?.stop());

  it.each([
    [
      'JSON',
      'json',
      ' \n{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"json"},"data":{"a":"1","b":"x: {y}"}}',
    ],
    [
      'block YAML',
      'block',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: block\ndata:\n  a: "1"\n  b: "x: {y}"\n',
    ],
    // Starts like JSON but is YAML flow style: JSON.parse refuses it, the YAML parser reads it.
    [
      'flow YAML',
      'flow',
      '{apiVersion: v1, kind: ConfigMap, metadata: {name: flow}, data: {a: "1", b: "x: {y}"}} # a comment',
    ],
  ])('stores the same object from a %s body', async (_kind, name, body) => {
    const res = await apply(name, body);
    expect(res.status).toBe(201);
    expect(await dataOf(name)).toEqual({ a: '1', b: 'x: {y}' });
  });

  it('answers a body that is neither JSON nor YAML with the YAML error', async () => {
    const res = await apply('bad', '{"apiVersion": "v1", "kind": [');
    expect(res.status).toBe(400);
    expect(Status.parse(await res.json()).message).toMatch(
      /^the object provided is unrecognized: error converting YAML to JSON: yaml: /,
    );
  });
});
