import { WebSocket } from 'ws';
import { FeedFrameSchema, type FeedFrame } from '../vw/syncer-feed-protocol';
import type { Log } from '../observability/log';

export interface FeedConnectionOptions {
  /** The SyncTarget's feed URL: the view's `feedUrl` plus `/<workspace>/<SyncTarget>`. */
  url: string;
  token: string;
  /** Every (re)connect: the syncer lists its work, so nothing pushed while it was away is lost. */
  onConnect(): void;
  onFrame(frame: FeedFrame): void;
  log: Log;
  /** Reconnect backoff bounds in ms. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * The syncer's outbound connection to the change feed. It reconnects with capped exponential backoff for as long as
 * the syncer runs; while it is down the syncer's resync is what finds changes.
 */
export class FeedConnection {
  private socket: WebSocket | undefined;
  private timer: NodeJS.Timeout | undefined;
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
      this.connected = false;
      this.socket = undefined;
      if (this.stopped) return;
      const min = this.options.minDelayMs ?? 500;
      const delay = Math.min(this.options.maxDelayMs ?? 30_000, min * 2 ** this.failures++) * (0.5 + Math.random() / 2);
      this.timer = setTimeout(() => this.start(), delay);
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close();
    this.socket = undefined;
    this.connected = false;
  }
}
