import { ConfigurationError } from '../../../lib/errors/tmc-error';
import { compileRoute, fromLambdaResult } from '../../../lib/local/api-gateway';
import { resolveClusters } from '../../../lib/local/clusters';
import { succeededMessageIds } from '../../../lib/local/event-source';
import { makeScheduledEvent, wantsTimer } from '../../../lib/local/schedules';
import { chunkEntries } from '../../../lib/adapters/sqs/sqs-work-queue';
import { loadConfig, queueUrlOf } from '../../../lib/runtime/config';

describe('succeededMessageIds (Lambda ReportBatchItemFailures rules)', () => {
  const ids = ['a', 'b', 'c'];
  it.each([
    ['no response', undefined, ['a', 'b', 'c'], false],
    ['empty failures', { batchItemFailures: [] }, ['a', 'b', 'c'], false],
    ['one failure', { batchItemFailures: [{ itemIdentifier: 'b' }] }, ['a', 'c'], false],
    ['unknown identifier fails all', { batchItemFailures: [{ itemIdentifier: 'z' }] }, [], true],
    ['empty identifier fails all', { batchItemFailures: [{ itemIdentifier: '' }] }, [], true],
    ['malformed batch response fails all', { batchItemFailures: 'b' }, [], true],
    ['unrelated object is success', { ok: true }, ['a', 'b', 'c'], false],
  ])('%s', (_name, result, succeeded, invalid) => {
    const outcome = succeededMessageIds(ids, result);
    expect(outcome.succeeded).toEqual(succeeded);
    expect(outcome.invalid).toBe(invalid);
  });
});

describe('compileRoute', () => {
  const route = compileRoute({
    method: 'POST',
    path: '/webhooks/status/{cluster}',
    target: 'ingress',
    authenticated: true,
  });
  it.each([
    ['/webhooks/status/east', { cluster: 'east' }],
    ['/webhooks/status/a%20b', { cluster: 'a b' }],
    ['/webhooks/status/east/extra', undefined],
    ['/webhooks/status/', undefined],
  ])('%s', (path, expected) => {
    expect(route.match(path)).toEqual(expected);
  });
});

describe('fromLambdaResult', () => {
  it.each([
    ['structured', { statusCode: 201, body: 'x', headers: { 'X-A': 1 } }, 201, 'x', { 'x-a': '1' }],
    ['base64', { statusCode: 200, body: Buffer.from('hi').toString('base64'), isBase64Encoded: true }, 200, 'hi', {}],
    ['plain object', { a: 1 }, 200, '{"a":1}', { 'content-type': 'application/json' }],
    ['string', 'hello', 200, 'hello', { 'content-type': 'application/json' }],
  ])('%s', (_name, result, status, body, headers) => {
    const response = fromLambdaResult(result);
    expect(response.statusCode).toBe(status);
    expect(response.body.toString()).toBe(body);
    expect(response.headers).toEqual(headers);
  });
});

describe('chunkEntries', () => {
  it.each([
    [25, 1, [10, 10, 5]],
    [3, 100 * 1024, [2, 1]],
    [0, 1, []],
  ])('%i entries of %i bytes', (count, bytes, sizes) => {
    expect(chunkEntries(Array.from({ length: count }, () => ({ bytes }))).map((c) => c.length)).toEqual(sizes);
  });
});

describe('loadConfig', () => {
  it('names the missing variable', () => {
    expect(() => loadConfig({}, { table: true })).toThrow(
      new ConfigurationError('Environment variable TMC_TABLE_NAME is not set'),
    );
    expect(() => loadConfig({ TMC_TABLE_NAME: 't' }, { table: true, queues: ['sync'] })).toThrow('TMC_SYNC_QUEUE_URL');
    expect(() => loadConfig({}, { kcp: true })).toThrow('TMC_KCP_KUBECONFIG');
  });
  it('rejects a malformed URL by name', () => {
    expect(() => loadConfig({ TMC_SQS_ENDPOINT: 'not a url' })).toThrow('TMC_SQS_ENDPOINT');
  });
  it('parses tokens, queues and endpoints', () => {
    const config = loadConfig({
      TMC_TABLE_NAME: 'tmc-state',
      TMC_PLACEMENT_QUEUE_URL: 'http://127.0.0.1:1/000000000000/tmc-placement',
      TMC_WEBHOOK_TOKENS: 'old, new',
      TMC_DYNAMODB_ENDPOINT: 'http://127.0.0.1:2',
      AWS_REGION: 'eu-west-1',
    });
    expect(config).toMatchObject({
      tableName: 'tmc-state',
      webhookTokens: ['old', 'new'],
      dynamodbEndpoint: 'http://127.0.0.1:2',
      region: 'eu-west-1',
    });
    expect(queueUrlOf(config, 'placement')).toBe('http://127.0.0.1:1/000000000000/tmc-placement');
    expect(() => queueUrlOf(config, 'status')).toThrow('TMC_STATUS_QUEUE_URL');
  });
});

describe('resolveClusters', () => {
  it.each([
    [undefined, ['east', 'west', 'edge']],
    [2, ['east', 'west']],
    [5, ['east', 'west', 'edge', 'cluster-4', 'cluster-5']],
    [
      ['a', 'b'],
      ['a', 'b'],
    ],
  ])('%p', (request, names) => {
    expect(resolveClusters(request).map((c) => c.name)).toEqual(names);
  });
  it('rejects a name that is not a DNS label', () => {
    expect(() => resolveClusters(['Bad_Name'])).toThrow('DNS-1123');
  });
});

it('builds an EventBridge scheduled event', () => {
  const event = makeScheduledEvent(
    { name: 'health-probe', target: 'health-probe', rateSeconds: 60 },
    'us-east-1',
    new Date('2025-01-01T00:00:00.123Z'),
  );
  expect(event).toMatchObject({
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    time: '2025-01-01T00:00:00Z',
    resources: ['arn:aws:events:us-east-1:000000000000:rule/tmc-local-health-probe'],
    detail: {},
  });
});

describe("wantsTimer (the stack's schedules option)", () => {
  it.each([
    [undefined, 'health-probe', true],
    [true, 'health-probe', true],
    [false, 'status-backstop', false],
    [['status-backstop'], 'status-backstop', true],
    [['status-backstop'], 'recovery-sweep', false],
    [[], 'status-backstop', false],
  ] as const)('%j for %s → %s', (option, name, expected) => {
    expect(wantsTimer(option, name)).toBe(expected);
  });
});
