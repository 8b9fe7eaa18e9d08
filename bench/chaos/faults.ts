import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { QueueMessageSchema } from '../../lib/api/messages';
import { localDlqName, localQueueName } from '../../lib/local/aws-services';
import { QUEUES, type QueueName } from '../../lib/runtime/resources';
import { DEFAULT_TMC_USER } from '../../lib/webhooks';
import type { FaultKind } from './fault-kinds';
import type { Prng } from './prng';

/**
 * The chaos suite's faults: a schedule drawn from the seed before the run starts (so a seed names a schedule), and
 * the code that injects each one. One fault at a time, with a few seconds between them, so each is seen coming and
 * going while the workload keeps writing.
 */
export interface PlannedFault {
  kind: FaultKind;
  /** Milliseconds after the fault phase starts. */
  at: number;
  durationMs: number;
  /**
   * By kind: a cluster (partition, outage), a queue (sqs-*), a resource `group/resource` (rule faults), the answer to
   * Placement/Location lists (`503`, `429`, `hang`), or whose webhook calls are lost (`kcp` or a cluster).
   */
  target?: string;
  /** The one workspace an `empty-list` hits. */
  workspace?: string;
}

const RULE_RESOURCES = ['apps/deployments', '/configmaps', '/secrets', '/services', 'chaos.tmc.dev/widgets'] as const;
const PLACEMENT_LIST_ANSWERS = ['503', '429', 'hang'] as const;

export interface PlanOptions {
  durationMs: number;
  kinds: readonly FaultKind[];
  clusters: readonly string[];
  /** The workspaces the workload writes to (an `empty-list` hits one of them). */
  workspaces: readonly string[];
  /** SyncTargets' evictAfter: an outage lasts past it. */
  evictAfterMs: number;
  /**
   * Scales every drawn duration and gap (default 1): the CI run packs its deal into less time. The draws are the same
   * whatever the pace, so a seed names the same deal; an outage still lasts past evictAfter.
   */
  pace?: number;
}

/**
 * The schedule: kinds are dealt from a deck shuffled by the seed, every kind once before any repeats, so a short run
 * with N kinds sees each of them once it holds N faults; targets and durations are drawn per fault.
 */
export function planFaults(random: Prng, options: PlanOptions): PlannedFault[] {
  const plan: PlannedFault[] = [];
  if (options.kinds.length === 0) return plan;
  let deck: FaultKind[] = [];
  const pace = options.pace ?? 1;
  const paced = (ms: number): number => Math.max(500, Math.round(ms * pace));
  let at = paced(random.int(2_000, 5_000));
  for (;;) {
    if (deck.length === 0) deck = shuffled(random, options.kinds);
    const kind = deck.pop()!;
    let durationMs: number;
    let target: string | undefined;
    let workspace: string | undefined;
    switch (kind) {
      case 'crash':
        durationMs = random.int(500, 4_000);
        break;
      case 'environment-restart':
        // How long the environment stays down before it starts again (its start takes a few seconds more).
        durationMs = random.int(1_000, 5_000);
        break;
      case 'cluster-outage':
        durationMs = options.evictAfterMs + paced(random.int(15_000, 25_000));
        target = random.pick(options.clusters);
        break;
      case 'cluster-partition':
        durationMs = random.int(4_000, 12_000);
        target = random.pick(options.clusters);
        break;
      case 'sqs-duplicate':
      case 'sqs-delay':
        durationMs = random.int(3_000, 8_000);
        target = random.pick(['placement', 'sync', 'status']);
        break;
      case 'empty-list':
        durationMs = random.int(4_000, 12_000);
        target = random.pick(RULE_RESOURCES);
        workspace = random.pick(options.workspaces);
        break;
      case 'get-404':
      case 'resource-429':
        durationMs = random.int(4_000, 12_000);
        target = random.pick(RULE_RESOURCES);
        break;
      case 'placement-list-503':
        durationMs = random.int(4_000, 10_000);
        target = random.pick(PLACEMENT_LIST_ANSWERS);
        break;
      case 'webhook-loss':
        durationMs = random.int(3_000, 8_000);
        target = random.pick(['kcp', 'kcp', ...options.clusters]);
        break;
      default:
        durationMs = random.int(5_000, 12_000);
    }
    if (kind !== 'cluster-outage') durationMs = paced(durationMs);
    if (at + durationMs > options.durationMs) break;
    plan.push({
      kind,
      at,
      durationMs,
      ...(target !== undefined ? { target } : {}),
      ...(workspace !== undefined ? { workspace } : {}),
    });
    at += durationMs + paced(random.int(2_000, 6_000));
  }
  return plan;
}

function shuffled<T>(random: Prng, items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/** The body of `PUT /_sim/faults` for a rule fault: only tmc's own requests are hit (the user's and the checker's pass). */
export function ruleFaultSettings(fault: PlannedFault): Record<string, unknown> {
  const username = DEFAULT_TMC_USER;
  switch (fault.kind) {
    case 'empty-list': {
      const [group, resource] = (fault.target ?? '/').split('/');
      return {
        rules: [
          {
            match: {
              verb: 'list',
              group,
              resource,
              username,
              ...(fault.workspace !== undefined ? { logicalCluster: fault.workspace } : {}),
            },
            respond: 'empty',
          },
        ],
      };
    }
    case 'get-404': {
      // Secrets too, whatever the target: a 404 on a Secret (a dependency, a cluster's credentials) is not absence.
      const [group, resource] = (fault.target ?? '/').split('/');
      const rules = [{ match: { verb: 'get', group, resource, username }, respond: 404 }];
      if (resource !== 'secrets')
        rules.push({ match: { verb: 'get', group: '', resource: 'secrets', username }, respond: 404 });
      return { rules };
    }
    case 'resource-429': {
      const [group, resource] = (fault.target ?? '/').split('/');
      return { rules: [{ match: { group, resource, username }, respond: 429, retryAfterSeconds: 2 }] };
    }
    case 'placement-list-503': {
      const respond = fault.target === 'hang' ? 'hang' : Number(fault.target ?? '503');
      return {
        rules: [
          {
            match: { verb: 'list', group: 'scheduling.kcp.io', username },
            respond,
            ...(respond === 429 ? { retryAfterSeconds: 1 } : {}),
          },
        ],
      };
    }
    default:
      throw new Error(`${fault.kind} is not a rule fault`);
  }
}

/** Server-wide settings (docs/simulator.md "Faults") for the faults that are not rules. */
export function serverFaultSettings(kind: FaultKind): Record<string, unknown> {
  switch (kind) {
    case 'kcp-errors':
      return { errorRate: 0.3, errorCode: 503 };
    case 'kcp-throttle':
      return { throttle: { rate: 0.3, retryAfterSeconds: 1 } };
    case 'cluster-partition':
      return { partition: true };
    case 'cluster-outage':
      return { down: true };
    default:
      throw new Error(`${kind} is not a server-wide fault`);
  }
}

/** One message the queue fault received: SQS counts the receive toward the queue's maxReceiveCount as tmc's are. */
export interface MeddledMessage {
  messageId: string;
  /** ApproximateReceiveCount after this receive (tmc's receives and the fault's together). */
  receiveCount: number;
  /** The duplicate's id, sent with the same body. */
  copyId?: string;
}

/** How long past the fault's end a message it received twice stays hidden: its last receive may still be waiting. */
const HOLD_MARGIN_SECONDS = 5;

/**
 * Meddles with one queue for `durationMs`: receives what it can (competing with tmc's pollers, as a second consumer
 * would) and either sends each body again and makes the original visible at once (a duplicate), or holds it
 * invisible for 5–15 s (a late delivery, overtaken by newer ones). Returns each message it touched, as often as it
 * received it.
 *
 * SQS counts every receive toward the queue's maxReceiveCount, the fault's as much as tmc's. A duplicate fault that
 * took the originals it had released and its own copies again, with no wait between receives, received messages
 * five times in a row and sent them to the DLQ before tmc ever saw them (docs/recovery.md, "Chaos figures"). So each
 * message is duplicated once and the copies never are; a message the fault receives a second time (an original it
 * duplicated, or its own copy) is held until the fault ends: at most two of any message's receives are the fault's.
 */
export async function meddleWithQueue(
  sqs: SQSClient,
  queue: QueueName,
  mode: 'duplicate' | 'delay',
  durationMs: number,
  random: Prng,
): Promise<MeddledMessage[]> {
  const { QueueUrl: url } = await sqs.send(new GetQueueUrlCommand({ QueueName: localQueueName(queue) }));
  if (url === undefined) throw new Error(`No queue ${queue}`);
  const deadline = Date.now() + durationMs;
  const touched: MeddledMessage[] = [];
  /** Originals duplicated and copies sent, in duplicate mode. */
  const known = new Set<string>();
  const hide = (receiptHandle: string, seconds: number): Promise<unknown> =>
    sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }),
    );
  while (Date.now() < deadline) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 5,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 30,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    for (const message of Messages) {
      if (message.ReceiptHandle === undefined || message.Body === undefined) continue;
      const seen: MeddledMessage = {
        messageId: message.MessageId ?? '',
        receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
      };
      if (mode === 'delay') {
        await hide(message.ReceiptHandle, random.int(5, 15));
      } else if (known.has(seen.messageId)) {
        // Past the deadline, with room for the last receive still long-polling then (and a slow machine).
        await hide(message.ReceiptHandle, Math.max(1, Math.ceil((deadline - Date.now()) / 1000)) + HOLD_MARGIN_SECONDS);
      } else {
        const copy = await sqs.send(
          new SendMessageCommand({
            QueueUrl: url,
            MessageBody: message.Body,
            MessageAttributes: message.MessageAttributes,
          }),
        );
        seen.copyId = copy.MessageId;
        known.add(seen.messageId);
        if (copy.MessageId !== undefined) known.add(copy.MessageId);
        await hide(message.ReceiptHandle, 0);
      }
      touched.push(seen);
    }
  }
  return touched;
}

/** A message in a DLQ at the end of the run, for tracing it to its cause (the functions' log and the queue faults'). */
export interface DeadLetterSeen {
  queue: QueueName;
  messageId: string;
  receiveCount: number;
  /** What the message was about, from its body: `<type> <workspace> <group/resource> <namespace/name> (<reason>)`. */
  about: string;
}

/**
 * Every message the DLQs hold, read once with a short visibility (the recovery sweep may redrive them later). Read
 * after convergence, so only the dead letters still there are seen; earlier ones were redriven.
 */
export async function deadLetters(sqs: SQSClient): Promise<DeadLetterSeen[]> {
  const seen = new Map<string, DeadLetterSeen>();
  for (const queue of Object.keys(QUEUES) as QueueName[]) {
    const { QueueUrl: url } = await sqs.send(new GetQueueUrlCommand({ QueueName: localDlqName(queue) }));
    if (url === undefined) throw new Error(`No DLQ for ${queue}`);
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 5,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      const fresh = Messages.filter((m) => m.MessageId !== undefined && !seen.has(m.MessageId));
      if (fresh.length === 0) break;
      for (const m of fresh)
        seen.set(m.MessageId ?? '', {
          queue,
          messageId: m.MessageId ?? '',
          // This read is one more receive: what SQS had counted when it moved the message is one less.
          receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1) - 1,
          about: aboutBody(m.Body ?? ''),
        });
    }
  }
  return [...seen.values()];
}

function aboutBody(body: string): string {
  const parsed = QueueMessageSchema.safeParse(safeJson(body));
  if (!parsed.success) return 'an unreadable message';
  const message = parsed.data;
  const { ref } = message;
  const what = `${message.type} ${ref.workspace} ${ref.group}/${ref.resource} ${ref.namespace ?? ''}/${ref.name}`;
  if (message.type === 'sync') return `${what} ${message.action} ${message.cluster}`;
  return message.type === 'placement' ? `${what} (${message.reason})` : `${what} from ${message.cluster}`;
}

function safeJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Messages each queue's DLQ holds now: a fault-free run must end with none (every message was carried or dropped). */
export async function deadLettered(sqs: SQSClient): Promise<Partial<Record<QueueName, number>>> {
  const counts: Partial<Record<QueueName, number>> = {};
  for (const queue of Object.keys(QUEUES) as QueueName[]) {
    const { QueueUrl: url } = await sqs.send(new GetQueueUrlCommand({ QueueName: localDlqName(queue) }));
    if (url === undefined) throw new Error(`No DLQ for ${queue}`);
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    const held =
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
    if (held > 0) counts[queue] = held;
  }
  return counts;
}
