import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { JsonPatchOperationSchema } from '../../api/crds/placement';
import { ObjectRefSchema } from '../../api/object-ref';
import type { StoredDecision } from '../../ports/decision-store';
import { DecisionReasonSchema } from '../../ports/sync-state-store';
import { InternalError } from '../../errors/tmc-error';
import type { DecisionDiff } from '../../placement/diff';
import type { ClusterExplanation, ClusterScores } from '../../placement/types';

/**
 * How a decision is stored (docs/state.md, "The decision item"): the fields sync and recovery act on as they are, and
 * the display fields (`explanation`, `diff`, `sent`, `message`, `weights`) without repeating what the item already
 * holds, since DynamoDB bills a write, and its copy on gsi1 (which projects every attribute), by the item's size, and
 * each of those fields would name every cluster again. Every compact field is checked when written: one that would
 * not read back exactly as given is stored as it is, so what `tmc placement explain`, `tmc trace` and the Placed
 * condition show never depends on the encoding. Items of earlier releases (every field stored as it is) read as before.
 */

/** The score components in the engine's order (lib/placement/engine.ts), the order an explanation prints them in. */
const SCORE_KEYS = [
  'health',
  'affinity',
  'strategy',
  'headroom',
  'taints',
  'namespaceHash',
  'stability',
] as const satisfies ReadonlyArray<keyof ClusterScores>;

/**
 * The weights every decision carried when decisions began to be stored compactly: an item without `weights` has
 * these. A literal, not the engine's constants: if the engine's weights change, its decisions store theirs.
 */
const STORED_WEIGHTS: Readonly<Record<string, number>> = {
  affinity: 1,
  strategy: 1,
  headroom: 0.5,
  taints: 1,
  health: 1,
  stability: 1,
  namespaceHash: 1,
  stabilityBonus: 1000,
};

/** Kinds of explained cluster a base-36 digit can name (`explained.kindOf`). */
const MAX_KINDS = 36;

const ScoresSchema = z.object({
  health: z.number(),
  affinity: z.number(),
  strategy: z.number(),
  headroom: z.number(),
  taints: z.number(),
  namespaceHash: z.number(),
  stability: z.number(),
});

const ExplanationSchema = z.array(
  z.object({
    cluster: z.string(),
    chosen: z.boolean(),
    rejectedBy: z.string().optional(),
    detail: z.string().optional(),
    scores: ScoresSchema.optional(),
    total: z.number(),
  }),
);

const DiffSchema = z.object({
  added: z.array(z.string()),
  removed: z.array(z.string()),
  changed: z.array(z.string()),
  unchanged: z.array(z.string()),
});

const ColumnSchema = z.union([z.number(), z.array(z.number())]);
type Column = z.infer<typeof ColumnSchema>;

/**
 * The explanation by column: `kinds` are the distinct (chosen, filter, detail, scored) of its clusters and `kindOf`
 * one base-36 digit per cluster naming its kind (absent: all of the first kind); `clusters` the explained clusters in
 * order (absent: the decision's clusters); each score component a list over the scored clusters and `totals` one over
 * all, one number when all are equal (`totals` absent: each is its scores' sum, as the engine rounds it).
 */
const ExplainedSchema = z.object({
  clusters: z.array(z.string()).optional(),
  kinds: z.array(
    z.object({
      chosen: z.boolean(),
      rejectedBy: z.string().optional(),
      detail: z.string().optional(),
      scored: z.boolean(),
    }),
  ),
  kindOf: z.string().optional(),
  scores: z
    .object({
      health: ColumnSchema,
      affinity: ColumnSchema,
      strategy: ColumnSchema,
      headroom: ColumnSchema,
      taints: ColumnSchema,
      namespaceHash: ColumnSchema,
      stability: ColumnSchema,
    })
    .optional(),
  totals: ColumnSchema.optional(),
});
type Explained = z.infer<typeof ExplainedSchema>;

/** The diff with `added` or `unchanged` left out: the other one, `changed` and those make the decision's clusters. */
const ChangesSchema = z.object({
  added: z.array(z.string()).optional(),
  unchanged: z.array(z.string()).optional(),
  changed: z.array(z.string()).optional(),
  removed: z.array(z.string()).optional(),
});
type Changes = z.infer<typeof ChangesSchema>;

/** `sent` as what it names: `apply` each cluster (`clusters`) or each added and changed one (`changes`), `delete` each removed. */
const SENT_AS = ['clusters', 'changes', 'removed', 'clusters+removed', 'changes+removed'] as const;
type SentAs = (typeof SENT_AS)[number];

const ClustersSchema = z.array(
  z.object({
    name: z.string(),
    replicas: z.number().int().nonnegative().optional(),
    patch: z.array(JsonPatchOperationSchema).optional(),
  }),
);

/** The decision item as stored, in either form; parsed on every read (a DynamoDB item is outside data too). */
export const DecisionItemSchema = z.object({
  ref: ObjectRefSchema,
  decisionVersion: z.number().int().positive(),
  generation: z.number().int().nonnegative(),
  resourceVersion: z.string().optional(),
  uid: z.string().optional(),
  contentHash: z.string(),
  clusters: ClustersSchema,
  scheduled: z.boolean(),
  reason: DecisionReasonSchema,
  message: z.string().optional(),
  messageAround: z.tuple([z.string(), z.string()]).optional(),
  placement: z.string().optional(),
  explanation: ExplanationSchema.optional(),
  explained: ExplainedSchema.optional(),
  explanationOmitted: z.number().int().nonnegative().optional(),
  weights: z.record(z.string(), z.number()).optional(),
  diff: DiffSchema.optional(),
  changes: ChangesSchema.optional(),
  rebalanceToken: z.string().optional(),
  replicaMode: z.enum(['Duplicated', 'Divided']).optional(),
  decidedAt: z.string(),
  traceId: z.string().optional(),
  sent: z.string().optional(),
  sentAs: z.enum(SENT_AS).optional(),
  receivedAt: z.string().optional(),
  receivedReason: z.string().optional(),
  fingerprint: z.string().optional(),
});
type DecisionItem = z.infer<typeof DecisionItemSchema>;

/** The attributes of the item storing `d` (keys, index attributes and `rvNumber` are the store's). */
export function encodeDecision(d: StoredDecision): Record<string, unknown> {
  const names = d.clusters.map((c) => c.name);
  const { explanation, explanationOmitted, diff, message, sent, weights, ...kept } = d;
  const changes = keptIf(encodeChanges(diff), (c) => sameStored(decodeChanges(c, names), diff));
  const diffAttributes = changes ? { changes } : { diff };
  const around = keptIf(encodeMessage(message, names), (a) => decodeMessage(a, names) === message);
  const explained = keptIf(encodeExplanation(explanation, names), (e) =>
    sameStored(decodeExplanation(e, names), explanation),
  );
  const sentAs = sent === undefined ? undefined : SENT_AS.find((as) => decodeSent(as, names, diff) === sent);
  return {
    ...kept,
    ...(around ? { messageAround: around } : { message }),
    ...(explained ? { explained } : { explanation }),
    ...(explanationOmitted ? { explanationOmitted } : {}),
    // Compared in order: `tmc placement explain` prints the weights in the order they are held.
    ...(JSON.stringify(weights) === JSON.stringify(STORED_WEIGHTS) ? {} : { weights }),
    ...diffAttributes,
    ...(sentAs ? { sentAs } : sent === undefined ? {} : { sent }),
  };
}

/** The decision a stored item holds, whichever form it was written in. */
export function decodeDecision(item: DecisionItem): StoredDecision {
  const {
    message: _message,
    messageAround: _around,
    explanation,
    explained,
    weights,
    diff,
    changes,
    sent,
    sentAs,
    explanationOmitted,
    ...kept
  } = item;
  const names = item.clusters.map((c) => c.name);
  const decodedDiff = diff ?? (changes ? decodeChanges(changes, names) : undefined);
  const decodedExplanation = explanation ?? (explained ? decodeExplanation(explained, names) : undefined);
  const decodedMessage = storedMessage(item, names);
  if (decodedDiff === undefined || decodedExplanation === undefined || decodedMessage === undefined)
    throw new InternalError(`Decision item of ${kept.ref.name} has no diff, explanation or message`);
  const decodedSent = sent ?? (sentAs ? decodeSent(sentAs, names, decodedDiff) : undefined);
  return {
    ...kept,
    message: decodedMessage,
    explanation: decodedExplanation,
    explanationOmitted: explanationOmitted ?? 0,
    weights: weights ?? { ...STORED_WEIGHTS },
    diff: decodedDiff,
    ...(decodedSent !== undefined ? { sent: decodedSent } : {}),
  };
}

/** The decision's message from its item's `message` or `messageAround` (sync-apply's projection holds both). */
export function storedMessage(
  item: { message?: string; messageAround?: readonly [string, string] },
  clusterNames: readonly string[],
): string | undefined {
  return item.message ?? (item.messageAround ? decodeMessage(item.messageAround, clusterNames) : undefined);
}

/** The names of the attributes {@link storedMessage} reads. */
export const MESSAGE_ATTRIBUTES = ['message', 'messageAround'] as const;

const SentSchema = DecisionItemSchema.pick({ sent: true, sentAs: true });
const SentFromSchema = DecisionItemSchema.pick({ clusters: true, diff: true, changes: true });

/** The sync work a decision item says its decision sent (`tmc trace`), or undefined when none or unreadable. */
export function storedSent(item: Record<string, unknown>): string | undefined {
  const stored = SentSchema.safeParse(item).data;
  if (stored?.sent !== undefined || stored?.sentAs === undefined) return stored?.sent;
  const parsed = SentFromSchema.safeParse(item);
  if (!parsed.success) return undefined;
  const { clusters, diff, changes } = parsed.data;
  const sentAs = stored.sentAs;
  const names = clusters.map((c) => c.name);
  const decodedDiff = diff ?? (changes ? decodeChanges(changes, names) : undefined);
  return decodedDiff ? decodeSent(sentAs, names, decodedDiff) : undefined;
}

const keptIf = <T>(value: T | undefined, readsBack: (value: T) => boolean): T | undefined =>
  value !== undefined && readsBack(value) ? value : undefined;

/** As stored and read back: DynamoDB keeps no undefined attribute and no -0 (as JSON), nor the order of a map's keys. */
const asStored = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));
const sameStored = (a: unknown, b: unknown): boolean => isDeepStrictEqual(asStored(a), asStored(b));

function encodeMessage(message: string, names: readonly string[]): [string, string] | undefined {
  if (names.length < 2) return undefined;
  const list = names.join(', ');
  const at = message.indexOf(list);
  return at < 0 ? undefined : [message.slice(0, at), message.slice(at + list.length)];
}

const decodeMessage = (around: readonly [string, string], names: readonly string[]): string =>
  `${around[0]}${names.join(', ')}${around[1]}`;

function encodeChanges(diff: DecisionDiff): Changes {
  const smaller = diff.added.length <= diff.unchanged.length ? { added: diff.added } : { unchanged: diff.unchanged };
  return {
    ...smaller,
    ...(diff.changed.length ? { changed: diff.changed } : {}),
    ...(diff.removed.length ? { removed: diff.removed } : {}),
  };
}

/** The diff back: the clusters neither listed as added or unchanged nor changed are the other, in the decision's order. */
function decodeChanges(changes: Changes, names: readonly string[]): DecisionDiff {
  const changed = changes.changed ?? [];
  const listed = new Set([...(changes.added ?? changes.unchanged ?? []), ...changed]);
  const rest = names.filter((n) => !listed.has(n));
  return {
    added: changes.added ?? rest,
    removed: changes.removed ?? [],
    changed,
    unchanged: changes.added ? rest : (changes.unchanged ?? []),
  };
}

function decodeSent(as: SentAs, names: readonly string[], diff: DecisionDiff): string {
  const applies = as.startsWith('clusters') ? names : as.startsWith('changes') ? [...diff.added, ...diff.changed] : [];
  const deletes = as.endsWith('removed') ? diff.removed : [];
  return [...applies.map((c) => `apply ${c}`), ...deletes.map((c) => `delete ${c}`)].join(', ');
}

const columnOf = (values: number[]): Column =>
  values.length > 0 && values.every((v) => v === values[0]) ? values[0] : values;

function columnAt(column: Column, i: number): number {
  const value = typeof column === 'number' ? column : column[i];
  if (value === undefined) throw new InternalError(`Decision item's explanation has no value ${i} in a column`);
  return value;
}

/** The engine's total of a feasible cluster: its components' sum, rounded to thousandths (0 for a rejected one). */
function totalOf(scores: ClusterScores | undefined): number {
  if (!scores) return 0;
  let sum = 0;
  for (const k of SCORE_KEYS) sum += scores[k];
  return Math.round(sum * 1000) / 1000 + 0;
}

function encodeExplanation(explanation: ClusterExplanation[], names: readonly string[]): Explained | undefined {
  const kinds: Explained['kinds'] = [];
  const kindIndex = new Map<string, number>();
  let kindOf = '';
  const scored: ClusterScores[] = [];
  for (const e of explanation) {
    const kind = {
      chosen: e.chosen,
      ...(e.rejectedBy !== undefined ? { rejectedBy: e.rejectedBy } : {}),
      ...(e.detail !== undefined ? { detail: e.detail } : {}),
      scored: e.scores !== undefined,
    };
    const key = JSON.stringify(kind);
    let index = kindIndex.get(key);
    if (index === undefined) {
      index = kinds.length;
      if (index >= MAX_KINDS) return undefined;
      kindIndex.set(key, index);
      kinds.push(kind);
    }
    kindOf += index.toString(36);
    if (e.scores) scored.push(e.scores);
  }
  const clusters = explanation.map((e) => e.cluster);
  const column = (k: keyof ClusterScores): Column => columnOf(scored.map((s) => s[k]));
  const scores = scored.length
    ? {
        health: column('health'),
        affinity: column('affinity'),
        strategy: column('strategy'),
        headroom: column('headroom'),
        taints: column('taints'),
        namespaceHash: column('namespaceHash'),
        stability: column('stability'),
      }
    : undefined;
  const derivable = explanation.every((e) => e.total === totalOf(e.scores));
  return {
    ...(sameStored(clusters, names) ? {} : { clusters }),
    kinds,
    ...(/^0*$/.test(kindOf) ? {} : { kindOf }),
    ...(scores ? { scores } : {}),
    ...(derivable ? {} : { totals: columnOf(explanation.map((e) => e.total)) }),
  };
}

function decodeExplanation(explained: Explained, names: readonly string[]): ClusterExplanation[] {
  const clusters = explained.clusters ?? names;
  const columns = explained.scores;
  let scoredAt = 0;
  return clusters.map((cluster, i) => {
    const kind = explained.kinds[explained.kindOf ? parseInt(explained.kindOf.charAt(i), 36) : 0];
    if (!kind) throw new InternalError(`Decision item explains cluster ${cluster} with no kind`);
    let scores: ClusterScores | undefined;
    if (kind.scored) {
      if (!columns) throw new InternalError(`Decision item explains cluster ${cluster} with no scores`);
      const at = (k: keyof ClusterScores): number => columnAt(columns[k], scoredAt);
      scores = {
        health: at('health'),
        affinity: at('affinity'),
        strategy: at('strategy'),
        headroom: at('headroom'),
        taints: at('taints'),
        namespaceHash: at('namespaceHash'),
        stability: at('stability'),
      };
      scoredAt++;
    }
    return {
      cluster,
      chosen: kind.chosen,
      ...(kind.rejectedBy !== undefined ? { rejectedBy: kind.rejectedBy } : {}),
      ...(kind.detail !== undefined ? { detail: kind.detail } : {}),
      ...(scores ? { scores } : {}),
      total: explained.totals === undefined ? totalOf(scores) : columnAt(explained.totals, i),
    };
  });
}
