import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { meddleWithQueue } from '../../../bench/chaos/faults';
import { Prng } from '../../../bench/chaos/prng';
import { ensureQueues, startLocalSqs, type LocalQueues, type LocalSqs } from '../../../lib/local/aws-services';
import { makeSqsClient } from '../../../lib/runtime/aws';
import { QUEUES } from '../../../lib/runtime/resources';

/**
 * The chaos suite's sqs-duplicate fault against fauxqs with the queues' real redrive policy. SQS counts the fault's
 * receives toward maxReceiveCount as it counts tmc's: a fault that keeps receiving what it released dead-letters
 * messages tmc never saw (chaos seed 1406), which is the harness failing, not tmc.
 */
describe('chaos sqs-duplicate fault', () => {
  let local: LocalSqs;
  let sqs: SQSClient;
  let queues: LocalQueues;

  beforeAll(async () => {
    local = await startLocalSqs();
    sqs = makeSqsClient({ region: 'us-east-1', sqsEndpoint: local.endpoint });
    queues = await ensureQueues(sqs);
  });
  afterAll(async () => {
    sqs.destroy();
    await local.stop();
  });

  const held = async (url: string): Promise<number> => {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  };

  it('duplicates each message once and leaves tmc its deliveries: none is dead-lettered by the fault alone', async () => {
    const { url, dlqUrl } = queues.placement;
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: Array.from({ length: 8 }, (_, i) => ({ Id: String(i), MessageBody: JSON.stringify({ n: i }) })),
      }),
    );
    // No consumer but the fault, for longer than it takes to receive every message several times over.
    const touched = await meddleWithQueue(sqs, 'placement', 'duplicate', 2500, new Prng(1));

    const perMessage = new Map<string, number>();
    for (const t of touched) perMessage.set(t.messageId, (perMessage.get(t.messageId) ?? 0) + 1);
    expect(Math.max(...perMessage.values())).toBeLessThanOrEqual(2);
    expect(Math.max(...touched.map((t) => t.receiveCount))).toBeLessThan(QUEUES.placement.maxReceiveCount);
    // One copy of each original, none of a copy.
    expect(touched.filter((t) => t.copyId !== undefined)).toHaveLength(8);
    expect(await held(dlqUrl)).toBe(0);
    expect(await held(url)).toBe(16);
  });
});
