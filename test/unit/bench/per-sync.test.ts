import { requestsPerSync, sqsDesignFloorPerSync, sqsFullBatchFloorPerSync } from '../../../bench/e2e/per-sync';

describe('sqsDesignFloorPerSync', () => {
  it.each([
    // 20 Deployments + 20 ConfigMaps × 3 clusters: 40 admissions and 60 status reports sent one a request, 120 sync
    // messages in 12 sends, and 22 receives and 22 deletes of full batches: 156 requests for 120 syncs.
    ['the quick create phase', { placement: 40, sync: 120, status: 60 }, 120, 1.3],
    // 1 Deployment + 1 ConfigMap × 50 clusters: 52 webhook calls for 100 syncs keep it above 0.5 on their own.
    ['one pair at 50 clusters', { placement: 2, sync: 100, status: 50 }, 100, 0.94],
    ['a partial batch counts as a request', { placement: 1, sync: 3 }, 3, 2],
    ['nothing', {}, 0, 0],
  ])('%s', (_why, enqueued, syncs, floor) => {
    expect(sqsDesignFloorPerSync(enqueued, syncs)).toBe(floor);
  });
});

describe('sqsFullBatchFloorPerSync', () => {
  it.each([
    // 40 + 120 + 60 messages are 4 + 12 + 6 batches of ten, each sent, received and deleted once: 66 requests for 120
    // syncs. Above 0.5 however well every queue is batched: 1.83 messages a sync at 3 clusters.
    ['the quick create phase', { placement: 40, sync: 120, status: 60 }, 120, 0.55],
    // The 200 × 3 create phase: 400 + 1,200 + 600 messages, 220 batches, 660 requests for 1,200 syncs.
    ['the 200 × 3 create phase', { placement: 400, sync: 1200, status: 600 }, 1200, 0.55],
    // 1 Deployment + 1 ConfigMap × 50 clusters: 1 + 10 + 5 batches, 48 requests for 100 syncs.
    ['one pair at 50 clusters', { placement: 2, sync: 100, status: 50 }, 100, 0.48],
    ['a partial batch counts as a request', { placement: 1, sync: 3 }, 3, 2],
    ['nothing', {}, 0, 0],
  ])('%s', (_why, enqueued, syncs, floor) => {
    expect(sqsFullBatchFloorPerSync(enqueued, syncs)).toBe(floor);
  });
});

describe('requestsPerSync', () => {
  it('splits SQS by queue with entries per batch request; depth reads by queue only, not in the per-sync total', () => {
    const perSync = requestsPerSync(20, {
      dynamodb: {},
      sqs: { SendMessageBatch: 4, GetQueueAttributes: 7 },
      kcp: {},
      clusters: {},
      sqsByQueue: {
        byItem: { 'SendMessageBatch tmc-sync': 2, 'SendMessageBatch tmc-status': 2, 'GetQueueAttributes tmc-sync': 7 },
        entries: { 'SendMessageBatch tmc-sync': 20, 'SendMessageBatch tmc-status': 2 },
      },
    });
    expect(perSync.sqs).toEqual({ SendMessageBatch: 0.2 });
    expect(perSync.sqsByQueue).toEqual({
      'SendMessageBatch tmc-sync': 0.1,
      'SendMessageBatch tmc-status': 0.1,
      'GetQueueAttributes tmc-sync': 0.35,
    });
    expect(perSync.sqsEntriesPerRequest).toEqual({ 'SendMessageBatch tmc-sync': 10, 'SendMessageBatch tmc-status': 1 });
    expect(perSync.total).toBe(0.2);
  });
});
