import { z } from 'zod';
import type { PlacementMessage } from '../api/messages';
import { SYNC_FINALIZER } from '../api/labels';
import { describeRef, gvrKey, objectKey, type ObjectRef } from '../api/object-ref';
import { NotFoundError } from '../errors/tmc-error';
import { selectWorkload } from '../ingress/selection';
import { contentHash } from '../placement/content-hash';
import type { DecisionVersion } from '../ports/decision-store';
import { contentKeyFor } from '../kube/canonical-hash';
import type { KubeObject } from '../ports/kube-client';
import { act, newTrace, queueHolds, type RecoverySweepDeps, type RecoverySweepReport } from './deps';
import { absentFromList, confirmVanished } from './vanished';

type Gvr = { group: string; version: string; resource: string };

/**
 * Listed in every workspace beside the kinds its decisions name, so that a lost admission of a workspace's first
 * object of a common kind is caught too. Secrets are among them: their content hash is keyed (the content key, as
 * placement hashes them), and only refs leave the sweep.
 */
const COMMON_KINDS: Gvr[] = [
  { group: 'apps', version: 'v1', resource: 'deployments' },
  { group: 'apps', version: 'v1', resource: 'statefulsets' },
  { group: 'apps', version: 'v1', resource: 'daemonsets' },
  { group: 'batch', version: 'v1', resource: 'jobs' },
  { group: '', version: 'v1', resource: 'services' },
  { group: '', version: 'v1', resource: 'configmaps' },
  { group: '', version: 'v1', resource: 'secrets' },
];

/**
 * Cluster-scoped kinds kube-apiserver never sends to admission webhooks (a webhook must not be able to block its own
 * configuration), so no admission message ever places them: listed in every workspace, and asked about without the
 * grace an admission message on its way would need. Placement's allow-list decides where they may go.
 */
const ADMISSION_BLIND_KINDS: Gvr[] = [
  { group: 'admissionregistration.k8s.io', version: 'v1', resource: 'validatingwebhookconfigurations' },
  { group: 'admissionregistration.k8s.io', version: 'v1', resource: 'mutatingwebhookconfigurations' },
];

/** What this pass lists in every workspace, whatever its decisions name (the quiet gate lists them too). */
export const ALWAYS_LISTED_KINDS: readonly Gvr[] = [...COMMON_KINDS, ...ADMISSION_BLIND_KINDS];

const groupResource = (t: { group: string; resource: string }): string => `${t.group}/${t.resource}`;
const admissionBlind = new Set(ADMISSION_BLIND_KINDS.map(groupResource));

/**
 * Per workspace, the namespaced kinds beyond the common ones that a page of its decisions named (a sweep cursor item:
 * `CURSOR#unplaced-kinds|<workspace>`, JSON). A kind whose every decision is `Deleted` leaves the decisions' index,
 * while an object of it may still hold tmc's finalizer (its delete messages lost, or its release lost to a 404 for the
 * kcp object); such a kind is listed until a list finds none of it. Kept in DynamoDB, not in memory: a crash or a cold
 * start must not forget it.
 */
const kindsKey = (workspace: string): string => `unplaced-kinds|${workspace}`;
const RememberedKindsSchema = z.array(z.object({ group: z.string(), version: z.string(), resource: z.string() }));

async function rememberedKinds(deps: RecoverySweepDeps, workspace: string): Promise<Gvr[]> {
  const raw = await deps.store.sweepCursor(kindsKey(workspace));
  if (raw === undefined) return [];
  try {
    const parsed = RememberedKindsSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : [];
  } catch {
    return []; // not JSON: the next page's decisions name their kinds again
  }
}

const alwaysListed = new Set(ALWAYS_LISTED_KINDS.map((g) => groupResource(g)));

/**
 * Kinds to list: the namespaced ones the read decisions name (in their version) or an earlier page named, then the
 * common ones not among them, and the admission-blind cluster-scoped ones.
 */
function kindsToList(versions: DecisionVersion[], remembered: readonly Gvr[]): Gvr[] {
  const kinds = new Map<string, Gvr>(remembered.map((g) => [groupResource(g), g]));
  for (const { ref } of versions) {
    if (ref.namespace === undefined) continue;
    kinds.set(groupResource(ref), { group: ref.group, version: ref.version, resource: ref.resource });
  }
  for (const gvr of [...COMMON_KINDS, ...ADMISSION_BLIND_KINDS])
    if (!kinds.has(groupResource(gvr))) kinds.set(groupResource(gvr), gvr);
  return [...kinds.values()];
}

/**
 * When this container first saw an object's current content differ from its decision, for objects whose write time
 * kcp does not say (no managedFields: the simulator's PATCHes). Kept per container, as a warm Lambda keeps module
 * state; a cold start only delays the catch-up by the grace period. Entries older than an hour are dropped.
 */
const firstSeen = new Map<string, { content: string; at: number }>();
const FORGET_AFTER_MS = 3_600_000;

/**
 * When kcp last wrote the object, as far as anyone can tell: the newest managedFields time; else, for an object
 * that has a decision (an UPDATE), when this container first saw it in this content; else its creation.
 */
function lastWritten(object: KubeObject, hash: string, key: string, decided: boolean, now: number): number {
  const times = (object.metadata.managedFields ?? [])
    .map((f) => (typeof f.time === 'string' ? Date.parse(f.time) : NaN))
    .filter(Number.isFinite);
  const created = Date.parse(object.metadata.creationTimestamp ?? '');
  const deleted = Date.parse(object.metadata.deletionTimestamp ?? '');
  const known = Math.max(...times, Number.isFinite(created) ? created : 0, Number.isFinite(deleted) ? deleted : 0);
  if (times.length > 0 || !decided || Number.isFinite(deleted)) return known;
  const content = `${String(object.metadata.generation ?? 0)}|${hash}`;
  const seen = firstSeen.get(key);
  if (seen?.content === content) return Math.max(known, seen.at);
  firstSeen.set(key, { content, at: now });
  return Math.max(known, now);
}

function forgetOld(now: number): void {
  for (const [key, seen] of firstSeen) if (now - seen.at > FORGET_AFTER_MS) firstSeen.delete(key);
}

/**
 * Why placement has not seen this version of the kcp object, or undefined when its decision is current. The
 * resourceVersion cannot tell: tmc's own writes (state labels, per-cluster status) move it on every placed object.
 * The content hash (`hash`: keyed for a Secret), generation and uid are what placement compares itself
 * (lib/placement/reconcile.ts).
 */
export function missedChange(
  object: KubeObject,
  decision: DecisionVersion | undefined,
  hash: string = contentHash(object),
): string | undefined {
  const what = describeRef({
    kind: object.kind,
    namespace: object.metadata.namespace,
    name: object.metadata.name ?? '',
  });
  if (object.metadata.deletionTimestamp) {
    // Held by tmc's finalizer until placement removes it from its clusters: without the DELETE's message, forever.
    if (!object.metadata.finalizers?.includes(SYNC_FINALIZER)) return undefined;
    if (decision && decision.reason !== 'Deleted')
      return `${what} is being deleted in kcp but placement never saw the deletion`;
    // Placement removed it, but its delete messages were lost (a crash, SQS losing them): placement sends them again.
    if (decision?.reason === 'Deleted')
      return `${what} is being deleted in kcp and placement removed it, but tmc's finalizer is still held (its delete messages were lost)`;
    // No decision at all: its `Deleted` decision expired (7 days) while a copy still held the delete, or the object
    // was deleted before placement ever saw it. Placement removes the copies sync-apply recorded, then the finalizer.
    return `${what} is being deleted in kcp and tmc's finalizer is still held, but it has no decision (expired, or never made)`;
  }
  if (!decision)
    return `${what} is in kcp but was never placed (its admission message never reached the placement queue)`;
  if (
    decision.reason === 'Deleted' ||
    (decision.uid !== undefined && object.metadata.uid !== undefined && decision.uid !== object.metadata.uid)
  ) {
    return `${what} was created again in kcp but placement only saw the earlier one`;
  }
  const generation = typeof object.metadata.generation === 'number' ? object.metadata.generation : 0;
  if (generation !== decision.generation || hash !== decision.contentHash) {
    return `${what} changed in kcp (generation ${generation}) after placement decided on generation ${decision.generation}, and placement never saw the change`;
  }
  return undefined;
}

function refOf(workspace: string, gvr: Gvr, object: KubeObject): ObjectRef {
  const { namespace, name, uid } = object.metadata;
  return {
    workspace,
    ...gvr,
    kind: object.kind,
    ...(namespace !== undefined ? { namespace } : {}),
    name: name ?? '',
    ...(uid ? { uid } : {}),
  };
}

/** The workspace's kcp objects of one kind; a kind kcp does not serve there has none. */
export async function listKind(deps: RecoverySweepDeps, workspace: string, gvr: Gvr): Promise<KubeObject[]> {
  const kcp = await deps.kube.kcp(workspace);
  try {
    return await kcp.list(gvr);
  } catch (err) {
    if (err instanceof NotFoundError) return [];
    throw err;
  }
}

/** An object the page's decisions say placement never saw in its current version. */
interface Candidate {
  ref: ObjectRef;
  key: string;
  object: KubeObject;
  hash: string;
}

/**
 * The candidates whose own decision, read now (strongly consistent), still misses their version, each with why. The
 * page is older than the lists (and read from an index): under a burst placement decides objects while the pass lists
 * kcp, and those were asked about again. A candidate the store did not answer waits for the next run.
 */
async function stillUnplaced(
  deps: RecoverySweepDeps,
  candidates: readonly Candidate[],
): Promise<Array<Candidate & { why: string }>> {
  if (candidates.length === 0) return [];
  const current = await deps.decisions.getMany(candidates.map((c) => c.ref));
  return candidates.flatMap((candidate) => {
    if (!current.has(candidate.key)) return [];
    const why = missedChange(candidate.object, current.get(candidate.key), candidate.hash);
    return why ? [{ ...candidate, why }] : [];
  });
}

/**
 * The catch-up the fail-open webhook relies on (docs/webhooks.md): kcp stores a write even when ingress could not
 * enqueue its placement message (the queue was slow, tmc was down). Each run reads one bounded page of the
 * workspace's decisions (only their version fields, resuming after a cursor) and lists its kcp objects of the kinds
 * those decisions name plus the common workload kinds; an object of that key range with no decision, or newer than
 * its decision, gets a placement message (reason `resync`). An object placed nowhere has a decision too
 * (NoMatchingPlacement), so it is not asked about again. It runs while deletions are held too: it acts only on objects
 * kcp lists (a deletion kcp shows is positive evidence), so a partial list only leaves something for a later run. An
 * object absent from a list is only a candidate for the absence ledger (lib/recovery/vanished.ts: a GET, a second
 * sighting later, not while deletions in the workspace are held), and placement's gate decides its removal.
 */
export async function resyncUnplaced(
  deps: RecoverySweepDeps,
  report: RecoverySweepReport,
  workspace: string,
): Promise<void> {
  const cursorKey = `unplaced|${workspace}`;
  const [after, remembered] = await Promise.all([deps.store.sweepCursor(cursorKey), rememberedKinds(deps, workspace)]);
  const page = await deps.decisions.listVersions(workspace, {
    limit: Math.max(1, deps.settings.unplacedDecisionLimit),
    ...(after !== undefined ? { after } : {}),
  });
  if (page.last !== after) await deps.store.putSweepCursor(cursorKey, page.last);
  // The key range this run judges: after the cursor, up to the last decision read (to the end on the last page).
  const inRange = (key: string): boolean =>
    (after === undefined || key > after) && (page.last === undefined || key <= page.last);
  const decisions = new Map(page.versions.map((v) => [objectKey(v.ref), v]));
  const now = deps.now();
  const graceMs = deps.settings.unplacedGraceSeconds * 1000;
  const queuedMaxMs = deps.settings.unplacedQueuedMaxSeconds * 1000;
  const placementQueued = queueHolds(deps, 'placement');
  const candidates: Candidate[] = [];
  const keep: Gvr[] = [];
  const listed: Parameters<typeof confirmVanished>[3] = [];
  for (const gvr of kindsToList(page.versions, remembered)) {
    const listedAt = deps.now();
    const objects = await listKind(deps, workspace, gvr);
    listed.push({ gvr, listedAt, absent: absentFromList(page.versions, gvr, objects) });
    // None left in kcp (or a kind kcp no longer serves) is forgotten: a decision naming it brings it back.
    if (objects.length > 0 && !alwaysListed.has(groupResource(gvr))) keep.push(gvr);
    for (const object of objects) {
      if (candidates.length >= deps.settings.unplacedPerRun) break;
      const ref = refOf(workspace, gvr, object);
      const key = objectKey(ref);
      if (!inRange(key) || !selectWorkload(gvr, ref.namespace, object).selected) continue;
      const decision = decisions.get(key);
      const hash = contentHash(object, await contentKeyFor(object, deps.contentKey));
      if (!missedChange(object, decision, hash)) continue;
      // Its admission message may still be on its way (none ever comes for an admission-blind kind): within the
      // grace, and while placement's queue holds messages up to the queued bound (a burst's admissions wait there).
      if (!admissionBlind.has(groupResource(gvr))) {
        const age = now - lastWritten(object, hash, key, decision !== undefined, now);
        if (age < graceMs || (age < queuedMaxMs && (await placementQueued()))) continue;
      }
      candidates.push({ ref, key, object, hash });
    }
  }
  const messages: PlacementMessage[] = [];
  for (const { ref, key, why } of await stillUnplaced(deps, candidates)) {
    firstSeen.delete(key);
    messages.push({ type: 'placement', ref, reason: 'resync', trace: newTrace(now) });
    await act(deps, report, {
      action: 'resync-unplaced',
      outcome: 'enqueued',
      why: `${why}: asking placement again`,
      workspace,
      ref,
    });
  }
  forgetOld(now);
  const kinds = JSON.stringify(keep.sort((a, b) => groupResource(a).localeCompare(groupResource(b))));
  if (kinds !== JSON.stringify(remembered)) await deps.store.putSweepCursor(kindsKey(workspace), kinds);
  if (messages.length > 0) {
    deps.log.warn(
      `Asking placement about ${messages.length} object(s) of ${workspace} it never saw in their current version`,
      { workspace, kinds: [...new Set(messages.map((m) => gvrKey(m.ref)))].join(',') },
    );
    await deps.placementQueue.send(messages);
  }
  // The complete lists read above are also evidence of what kcp no longer has: decisions that still place it.
  await confirmVanished(deps, report, workspace, listed);
}
