import type { SyncMessage } from '../../api/messages';
import { NetworkError } from '../../errors/tmc-error';
import type { SyncerFeed } from '../../ports/syncer-feed';
import type { FeedPush } from '../../vw/syncer-feed-protocol';

/**
 * The change feed's push side over HTTP: posts each change to the feed's push endpoint, which sends it on every
 * connection of the SyncTarget (the local stack's WebSocket endpoint, lib/local/syncer-feed-server.ts).
 */
export class HttpSyncerFeed implements SyncerFeed {
  constructor(private readonly options: { pushUrl: string; token: string; fetch?: typeof fetch }) {}

  async notify(workspace: string, cluster: string, messages: readonly SyncMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const body: FeedPush = { workspace, cluster, frame: { type: 'work', messages: [...messages] } };
    const response = await (this.options.fetch ?? fetch)(this.options.pushUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.token}` },
      body: JSON.stringify(body),
    });
    if (!response.ok)
      throw new NetworkError(`The syncer feed answered ${response.status}`, { statusCode: response.status });
  }
}
