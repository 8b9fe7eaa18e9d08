import { GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { SyncMessage } from '../../api/messages';
import { DeadlineExceededError, NetworkError, TmcError } from '../../errors/tmc-error';
import type { SyncerConnectionStore } from '../../ports/syncer-connection-store';
import type { SyncerFeed } from '../../ports/syncer-feed';
import type { Log } from '../../observability/log';
import { SYNCER_FEED } from '../../runtime/resources';
import type { FeedFrame } from '../../vw/syncer-feed-protocol';
import { syncerSubject } from '../../vw/syncer-view';

/** The part of ApiGatewayManagementApiClient the feed uses (tests pass a recording fake). */
export interface ConnectionPoster {
  send(command: PostToConnectionCommand): Promise<unknown>;
}

/** A frame's messages, without the objects they carry when those would not fit one WebSocket frame. */
function frameOf(messages: readonly SyncMessage[]): Uint8Array {
  const frame: FeedFrame = { type: 'work', messages: [...messages] };
  const full = new TextEncoder().encode(JSON.stringify(frame));
  if (full.byteLength <= SYNCER_FEED.maxFrameBytes) return full;
  // The syncer reads an object through the view when its message carries none (a frame is a nudge).
  const slim: FeedFrame = { type: 'work', messages: messages.map(({ object: _object, ...rest }) => rest) };
  return new TextEncoder().encode(JSON.stringify(slim));
}

/** The protocol's limit of messages in one frame (FeedFrameSchema). */
const FRAME_MESSAGES = 100;

/**
 * The change feed's push side (docs/virtual-workspace.md): the SyncTarget's connections from the table, one
 * PostToConnection each through API Gateway's @connections API (the local stack serves the same endpoint). A
 * connection API Gateway says is gone (410, GoneException) is forgotten; any other failure is thrown, once every
 * connection has been tried, for the caller to log (the syncer's list on reconnect and its resync find the work).
 */
export class ApiGatewaySyncerFeed implements SyncerFeed {
  constructor(private readonly deps: { connections: SyncerConnectionStore; client: ConnectionPoster; log: Log }) {}

  async notify(workspace: string, cluster: string, messages: readonly SyncMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const subject = syncerSubject(workspace, cluster);
    const ids = await this.deps.connections.list(subject);
    if (ids.length === 0) return;
    const frames: Uint8Array[] = [];
    for (let i = 0; i < messages.length; i += FRAME_MESSAGES)
      frames.push(frameOf(messages.slice(i, i + FRAME_MESSAGES)));
    const failures: unknown[] = [];
    await Promise.all(
      ids.map(async (connectionId) => {
        try {
          for (const data of frames)
            await this.deps.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
        } catch (err) {
          if (!(err instanceof GoneException)) return void failures.push(err);
          this.deps.log.info(`Forgetting a closed change-feed connection of ${cluster}`, { workspace, cluster });
          await this.deps.connections.remove(subject, connectionId);
        }
      }),
    );
    if (failures.length === 0) return;
    const posting = `Posting ${messages.length} message(s) to ${failures.length} of ${ids.length} change-feed connections of ${cluster}`;
    // A post cut off by the invocation's deadline is no network fault: say so, as the SQS queues do.
    const cutOff = failures.find((err) => err instanceof TmcError && err.category === 'invocation-deadline');
    if (cutOff !== undefined)
      throw new DeadlineExceededError(`${posting} was cut off at the invocation's deadline`, { cause: cutOff });
    throw new NetworkError(`${posting} failed`, { cause: failures[0] });
  }
}
