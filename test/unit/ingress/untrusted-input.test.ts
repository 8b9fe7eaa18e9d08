import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { WORKSPACE_ANNOTATION } from '../../../lib/api/labels';
import { LogicalClusterNameSchema } from '../../../lib/api/logical-cluster';
import {
  SyncMessageSchema,
  type PlacementMessage,
  type StatusMessage,
  type SyncMessage,
} from '../../../lib/api/messages';
import { kcpWorkspaceUrl } from '../../../lib/adapters/kube/kubeconfig';
import { MAX_JSON_DEPTH, parseBoundedJson } from '../../../lib/ingress/bounded-json';
import { makeIngressHandler } from '../../../lib/runtime/ingress';
import { processSqsBatch } from '../../../lib/sync/sqs-batch';
import type { Log } from '../../../lib/observability/log';
import { makeDeps, MemorySeenStore, RecordingQueue, sample, TOKEN } from './fakes';

/** The three workspaces seen accepted and queued in the report (issue 14), as they arrived. */
const MALICIOUS_PATHS = ['..%2F..%2Fhealth', 'root:default%2F..%2F..%2Fapi'];
const MALICIOUS_BODY_WORKSPACE = '../../x';

function setup() {
  const placement = new RecordingQueue<PlacementMessage>('placement');
  const status = new RecordingQueue<StatusMessage>('status');
  const seen = new MemorySeenStore();
  const handler = makeIngressHandler(makeDeps({ placementQueue: placement, statusQueue: status, seen }));
  return { handler, placement, status, seen };
}

function post(rawPath: string, body: string, pathParameters?: Record<string, string>): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(pathParameters ? { pathParameters } : {}),
    body,
    isBase64Encoded: false,
    requestContext: {} as never,
  };
}

const createDeployment = (): Record<string, unknown> =>
  sample('admission-create-deployment.json') as Record<string, unknown>;

function nested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

describe('a deeply nested body', () => {
  it('answers 400 through the real handler and enqueues nothing', async () => {
    const { handler, placement, seen } = setup();
    const review = JSON.stringify(createDeployment());
    // The nesting goes where a user controls it: inside the object's spec.
    const body = review.replace('"spec":{', `"spec":{"deep":${nested(100_000)},`);
    expect(body.length).toBeGreaterThan(600_000);
    const result = await handler(post('/webhooks/admission/root:default', body));
    expect(result.statusCode).toBe(400);
    expect(String(result.body)).toContain('nested deeper');
    expect(placement.sent).toHaveLength(0);
    expect(seen.records.size).toBe(0);
  });

  it('a body exactly at the limit is still parsed', () => {
    expect(parseBoundedJson(nested(MAX_JSON_DEPTH)).ok).toBe(true);
    expect(parseBoundedJson(nested(MAX_JSON_DEPTH + 1))).toMatchObject({ ok: false, reason: 'too-deep' });
  });

  it.each([
    ['brackets inside strings do not count', `{"a":"${'{['.repeat(MAX_JSON_DEPTH * 2)}"}`, true],
    ['an escaped quote does not end the string', `{"a":"\\"${'['.repeat(MAX_JSON_DEPTH * 2)}"}`, true],
    ['arrays count like objects', `${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`, false],
    ['many brackets side by side are not depth', `[${'{"a":[]},'.repeat(MAX_JSON_DEPTH)}{}]`, true],
    [
      'depth past the limit after many shallow brackets',
      `[${'[],'.repeat(MAX_JSON_DEPTH)}${nested(MAX_JSON_DEPTH)}]`,
      false,
    ],
  ])('%s', (_why, text, ok) => {
    expect(parseBoundedJson(text).ok).toBe(ok);
  });
});

describe('workspaces that are not logical cluster paths', () => {
  it.each(MALICIOUS_PATHS)('admission at /webhooks/admission/%s answers 400 and enqueues nothing', async (segment) => {
    const { handler, placement, seen } = setup();
    const result = await handler(post(`/webhooks/admission/${segment}`, JSON.stringify(createDeployment())));
    expect(result.statusCode).toBe(400);
    expect(String(result.body)).toContain('not a kcp logical cluster path');
    expect(placement.sent).toHaveLength(0);
    expect(seen.records.size).toBe(0);
  });

  it.each(MALICIOUS_PATHS.map(decodeURIComponent))(
    'admission with the matched route parameter %s answers 400',
    async (workspace) => {
      const { handler, placement } = setup();
      const event = {
        ...post('/webhooks/admission/x', JSON.stringify(createDeployment()), { workspace }),
        routeKey: 'POST /webhooks/admission/{workspace}',
      };
      const result = await handler(event);
      expect(result.statusCode).toBe(400);
      expect(placement.sent).toHaveLength(0);
    },
  );

  it('a malformed percent escape in the path answers 400, not 500', async () => {
    const { handler, placement } = setup();
    const result = await handler(post('/webhooks/admission/root%E0%A4%A', JSON.stringify(createDeployment())));
    expect(result.statusCode).toBe(400);
    expect(placement.sent).toHaveLength(0);
  });

  it('a kcp.io/cluster annotation naming a path outside /clusters answers 400', async () => {
    const { handler, placement } = setup();
    const review = createDeployment() as { request: { object: { metadata: Record<string, unknown> } } };
    review.request.object.metadata.annotations = { 'kcp.io/cluster': MALICIOUS_BODY_WORKSPACE };
    const result = await handler(post('/webhooks/admission', JSON.stringify(review)));
    expect(result.statusCode).toBe(400);
    expect(placement.sent).toHaveLength(0);
  });

  it(`an event with workspace ${JSON.stringify(MALICIOUS_BODY_WORKSPACE)} fails the whole batch with 400`, async () => {
    const { handler, placement, seen } = setup();
    const batch = sample('events-batch.json') as { events: Array<{ workspace: string }> };
    batch.events[batch.events.length - 1].workspace = MALICIOUS_BODY_WORKSPACE;
    const result = await handler(post('/webhooks/events', JSON.stringify(batch)));
    expect(result.statusCode).toBe(400);
    expect(String(result.body)).toContain('workspace');
    expect(placement.sent).toHaveLength(0);
    expect(seen.records.size).toBe(0);
  });

  it('a valid workspace in the same requests is accepted and enqueued (the control)', async () => {
    const { handler, placement } = setup();
    expect(
      (await handler(post('/webhooks/admission/root:default', JSON.stringify(createDeployment())))).statusCode,
    ).toBe(200);
    expect((await handler(post('/webhooks/events', JSON.stringify(sample('events-batch.json'))))).statusCode).toBe(202);
    expect(placement.sent.length).toBeGreaterThan(1);
    expect(new Set(placement.sent.map((m) => m.ref.workspace))).toEqual(new Set(['root:default']));
  });

  it("a cluster's status call for a copy whose workspace annotation was tampered with enqueues nothing", async () => {
    const { handler, status } = setup();
    const review = sample('status-update-deployment.json') as {
      request: { object: { metadata: { annotations: Record<string, string> } } };
    };
    const good = await handler(post('/webhooks/status/east', JSON.stringify(review)));
    expect(good.statusCode).toBe(200);
    expect(status.sent).toHaveLength(1);
    expect(review.request.object.metadata.annotations[WORKSPACE_ANNOTATION]).toBe('root:default');
    review.request.object.metadata.annotations[WORKSPACE_ANNOTATION] = MALICIOUS_BODY_WORKSPACE;
    const bad = await handler(post('/webhooks/status/east', JSON.stringify(review)));
    expect(bad.statusCode).toBe(200);
    expect(status.sent).toHaveLength(1);
  });
});

describe('the cluster of a status call', () => {
  it.each(['..%2F..%2Fhealth', '%2E%2E', 'East'])(
    '/webhooks/status/%s answers 400 and enqueues nothing',
    async (segment) => {
      const { handler, status } = setup();
      const result = await handler(
        post(`/webhooks/status/${segment}`, JSON.stringify(sample('status-update-deployment.json'))),
      );
      expect(result.statusCode).toBe(400);
      expect(status.sent).toHaveLength(0);
    },
  );
});

describe('LogicalClusterNameSchema (kcp logical cluster paths)', () => {
  it.each(['root', 'root:default', 'root:org-1:team-a', 'system:admin', 'a'.repeat(63), '62208dab:accounting'])(
    'accepts %s',
    (name) => {
      expect(LogicalClusterNameSchema.safeParse(name).success).toBe(true);
    },
  );
  it.each([
    '',
    '*',
    '../../x',
    '../../health',
    'root:default/../../api',
    'root:default%2F..%2F..%2Fapi',
    'Root',
    'root:',
    ':root',
    'root::org',
    '-root',
    'root-',
    'root:team_a',
    'root.org',
    'a'.repeat(64),
    'root default',
  ])('refuses %j', (name) => {
    expect(LogicalClusterNameSchema.safeParse(name).success).toBe(false);
  });
});

describe('the kcp URL builder (defence in depth)', () => {
  it('builds /clusters/<workspace> for a valid path', () => {
    expect(kcpWorkspaceUrl('https://kcp:6443/clusters/root', 'root:org')).toBe('https://kcp:6443/clusters/root:org');
  });
  it.each(['../../health', 'root:default/../../api', '../../x', '*'])('refuses to build a URL for %j', (workspace) => {
    expect(() => kcpWorkspaceUrl('https://kcp:6443', workspace)).toThrow(/not a logical cluster path/);
  });
});

describe('a queue message naming an invalid workspace', () => {
  it('is never handled: it is reported failed with the reason, so it reaches the DLQ', async () => {
    const message = {
      type: 'sync',
      ref: {
        workspace: MALICIOUS_BODY_WORKSPACE,
        group: 'apps',
        version: 'v1',
        resource: 'deployments',
        kind: 'Deployment',
        namespace: 'default',
        name: 'web',
      },
      cluster: 'east',
      action: 'apply',
      decisionVersion: 1,
      trace: { traceId: 't', enqueuedAt: '2025-01-01T00:00:00Z' },
    };
    const event: SQSEvent = {
      Records: [
        {
          messageId: 'm-1',
          receiptHandle: 'r-1',
          body: JSON.stringify(message),
          attributes: { ApproximateReceiveCount: '1' },
        } as never,
      ],
    };
    const errors: Array<Record<string, unknown> | undefined> = [];
    const log: Log = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (_m, a) => errors.push(a),
      child: () => log,
    };
    const handled: SyncMessage[] = [];
    const result = await processSqsBatch(
      event,
      SyncMessageSchema,
      async (m) => {
        handled.push(m);
        return { done: true };
      },
      { deferrer: { defer: async () => undefined }, log },
    );
    expect(handled).toHaveLength(0);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    expect(errors).toEqual([
      expect.objectContaining({
        messageId: 'm-1',
        issues: [expect.stringContaining('ref.workspace: must be a kcp logical cluster path')],
      }),
    ]);
  });
});
