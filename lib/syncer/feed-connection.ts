import { WebSocket } from 'ws';
import { SYNCER_FEED } from '../runtime/resources';
import { FeedFrameSchema, type FeedFrame, type FeedKeepalive } from '../vw/syncer-feed-protocol';
import type { Log } from '../observability/log';

export interface FeedConnectionOptions {
  /** The SyncTarget's feed URL: the view's `feedUrl`, which names the SyncTarget in its query. */
  url: string;
  token: string;
  /** Every (re)connect: the syncer lists its work, so nothing pushed while it was away is lost. */
  onConnect(): void;
  onFrame(frame: FeedFrame): void;
  log: Log;
  /** Reconnect backoff bounds in ms. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Keepalive interval in ms: API Gateway closes a WebSocket idle for 10 minutes. Default SYNCER_FEED.keepaliveSeconds. */
  keepaliveMs?: number;
}

/**
 * The syncer's outbound connection to the change feed. It reconnects with capped exponential backoff for as long as
 * the syncer runs (API Gateway also ends every connection after 2 hours); while it is down the syncer's resync is what
 * finds changes. A keepalive goes out every few minutes so an idle connection is not closed.
 */
export class FeedConnection {
  private socket: WebSocket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  connected = false;
  /** Connections opened so far (the first and every reconnect). */
  connects = 0;

  constructor(private readonly options: FeedConnectionOptions) {}

  start(): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.options.url, {
      headers: { authorization: `Bearer ${this.options.token}` },
      handshakeTimeout: 10_000,
    });
    this.socket = ws;
    ws.on('open', () => {
      this.failures = 0;
      this.connected = true;
      this.connects++;
      this.options.log.info('Connected to the change feed');
      clearInterval(this.keepaliveTimer);
      this.keepaliveTimer = setInterval(
        () => this.keepalive(),
        this.options.keepaliveMs ?? SYNCER_FEED.keepaliveSeconds * 1000,
      );
      this.keepaliveTimer.unref();
      this.options.onConnect();
    });
    ws.on('message', (data) => {
      let frame: FeedFrame;
      try {
        frame = FeedFrameSchema.parse(JSON.parse(data.toString('utf8')));
      } catch (err) {
        this.options.log.warn('Ignoring a change-feed frame that is not one', { error: String(err) });
        return;
      }
      this.options.onFrame(frame);
    });
    ws.on('unexpected-response', (_req, res) => {
      this.options.log.warn(`The change feed refused the connection (${res.statusCode ?? 'no status'})`);
      ws.terminate();
    });
    ws.on('error', (err) => this.options.log.debug('The change-feed connection failed', { error: err.message }));
    ws.on('close', () => {
      if (this.socket !== ws) return;
      clearInterval(this.keepaliveTimer);
      this.connected = false;
      this.socket = undefined;
      if (this.stopped) return;
      const min = this.options.minDelayMs ?? 500;
      const delay = Math.min(this.options.maxDelayMs ?? 30_000, min * 2 ** this.failures++) * (0.5 + Math.random() / 2);
      this.timer = setTimeout(() => this.start(), delay);
    });
  }

  /** Sends one keepalive (the feed's `$default` route) when connected. */
  keepalive(): void {
    if (!this.connected) return;
    const ping: FeedKeepalive = { type: 'ping' };
    this.socket?.send(JSON.stringify(ping));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    clearInterval(this.keepaliveTimer);
    this.socket?.close();
    this.socket = undefined;
    this.connected = false;
  }
}
