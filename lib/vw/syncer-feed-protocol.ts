import { z } from 'zod';
import { SyncMessageSchema } from '../api/messages';

/**
 * The change feed's wire format (docs/virtual-workspace.md). The feed pushes one frame per change to a SyncTarget's
 * connected syncers; the syncer reconciles each message with the shared sync code. A frame is a nudge, never the
 * truth: the syncer reads the item's state through the virtual workspace before it acts.
 */
export const FeedFrameSchema = z.object({
  type: z.literal('work'),
  messages: z.array(SyncMessageSchema).min(1).max(100),
});
export type FeedFrame = z.infer<typeof FeedFrameSchema>;

/** What a function posts to the feed's push endpoint: the frame and the SyncTarget whose connections receive it. */
export const FeedPushSchema = z.object({
  workspace: z.string().min(1),
  cluster: z.string().min(1),
  frame: FeedFrameSchema,
});
export type FeedPush = z.infer<typeof FeedPushSchema>;

/** Environment of the feed: where syncers connect (told to them by the view) and where functions push. */
export const FEED_ENV = {
  /** The WebSocket URL syncers connect to (`GET /syncers/{ws}/{st}` answers it as `feedUrl`). */
  connectUrl: 'TMC_SYNCER_FEED_URL',
  /** The URL sync-apply posts pushes to, authenticated with the webhook token. */
  pushUrl: 'TMC_SYNCER_FEED_PUSH_URL',
} as const;
