import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoClusterInventory } from '../../../lib/adapters/dynamodb/cluster-inventory';
import type { ObjectRef } from '../../../lib/api/object-ref';
import { typeScope, unplaceScope } from '../../../lib/recovery/deletion-guard';
import { DEFAULT_GUARD } from '../../../lib/recovery/rules';
import { runRecoverySweep } from '../../../lib/recovery/sweep';
import { heldInWorkspace } from '../../../lib/recovery/holds';
import { mirror, startRecoveryWorld, WS, type RecoveryWorld } from './recovery-world';

const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
const depRef = (name: string): ObjectRef => ({
  workspace: WS,
  ...DEPLOYMENTS,
  kind: 'Deployment',
  namespace: 'default',
  name,
});
const SCOPE = unplaceScope(WS, 'east', DEPLOYMENTS);

/**
 * The sweep's side of a held un-placement (docs/recovery.md, "Un-placement"): kept while the recheck delay runs,
 * then released and placement asked again about the held objects; it does not pause the catch-up of the workspace.
 */
describe('recovery sweep: a held un-placement', () => {
  let w: RecoveryWorld;

  beforeAll(async () => {
    w = await startRecoveryWorld();
    await new DynamoClusterInventory(w.world.doc, w.world.tableName).putMirror(mirror('east'));
  });
  afterAll(async () => {
    await w?.close();
  });

  async function received(url: string): Promise<Array<{ reason: string; ref: ObjectRef }>> {
    const out: Array<{ reason: string; ref: ObjectRef }> = [];
    for (;;) {
      const got = await w.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (!got.Messages?.length) return out;
      for (const m of got.Messages) {
        out.push(JSON.parse(m.Body ?? '{}') as { reason: string; ref: ObjectRef });
        await w.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
      }
    }
  }

  it('is released after the recheck delay, and placement is asked again about the held objects', async () => {
    const deps = w.deps();
    const names = Array.from({ length: DEFAULT_GUARD.minDeletions + 2 }, (_, i) => `web-${i}`);
    const verdicts: string[] = [];
    for (const name of names) verdicts.push(await deps.guard.admitRemoval(depRef(name), 'east'));
    // No decisions are recorded here, so the burst's total is what it removed: the 5th is more than half. The first
    // four wait to be counted with the rest (none is removed before the hold is raised).
    expect(verdicts).toEqual([...Array(DEFAULT_GUARD.minDeletions - 1).fill('wait'), 'hold', 'hold', 'hold']);
    expect(await heldInWorkspace(deps, WS, ['east'])).toBe(false); // kcp's answers are not in doubt

    await runRecoverySweep(deps);
    expect((await w.store.hold(SCOPE))?.confirmedUntil).toBeUndefined();
    expect((await received(w.queues.placement.url)).filter((m) => m.ref.resource === 'deployments')).toEqual([]);

    w.clock.now += DEFAULT_GUARD.recheckSeconds * 1000;
    await runRecoverySweep(w.deps());
    expect(await w.store.hold(SCOPE)).toMatchObject({
      confirmedBy: 'tmc (same answer after the recheck delay)',
      refs: [],
    });
    const asked = (await received(w.queues.placement.url)).filter((m) => m.ref.resource === 'deployments');
    // Every removal planned in the burst, the four that waited included.
    expect(asked.map((m) => [m.reason, m.ref.name]).sort()).toEqual(names.map((n) => ['resync', n]));
    // A released hold lets the same removals through.
    expect(await deps.guard.admitRemoval(depRef('web-9'), 'east')).toBe('allow');

    // The orphan sweep's holds still pause the catch-up: there kcp may be answering with partial lists.
    await w.store.putHold({
      scope: typeScope(WS, 'east', DEPLOYMENTS),
      reason: 'r',
      planned: 9,
      total: 9,
      raisedAt: new Date(w.clock.now).toISOString(),
      refs: [],
    });
    expect(await heldInWorkspace(deps, WS, ['east'])).toBe(true);
  });
});
