import { SYNC_FINALIZER } from '../../../lib/api/labels';
import { contentHash } from '../../../lib/placement/content-hash';
import type { DecisionVersion } from '../../../lib/ports/decision-store';
import type { KubeObject } from '../../../lib/ports/kube-client';
import { missedChange } from '../../../lib/recovery/unplaced';

const object: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'default',
    uid: 'u1',
    generation: 4,
    resourceVersion: '40',
    finalizers: [SYNC_FINALIZER],
    labels: { app: 'web' },
  },
  spec: { replicas: 2 },
};
const decisionOf = (o: KubeObject, changes: Partial<DecisionVersion> = {}): DecisionVersion => ({
  ref: {
    workspace: 'root:a',
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    namespace: 'default',
    name: 'web',
    uid: 'u1',
  },
  generation: 4,
  uid: 'u1',
  contentHash: contentHash(o),
  reason: 'Scheduled',
  decidedAt: '2026-01-01T00:00:00.000Z',
  ...changes,
});
const withMeta = (meta: Partial<KubeObject['metadata']>, rest: Partial<KubeObject> = {}): KubeObject => ({
  ...object,
  ...rest,
  metadata: { ...object.metadata, ...meta },
});

/** Whether placement missed a change of a kcp object, from the object and the version fields of its decision. */
describe('missedChange', () => {
  const decided = decisionOf(object);
  it.each<[string, KubeObject, DecisionVersion | undefined, string | undefined]>([
    ['placed and unchanged', object, decided, undefined],
    ['placed nowhere, unchanged', object, decisionOf(object, { reason: 'NoMatchingPlacement' }), undefined],
    [
      'only tmc wrote since (resourceVersion, state label, status)',
      withMeta(
        { resourceVersion: '99', labels: { app: 'web', 'state.workload.kcp.io/abc': 'Sync' } },
        { status: { readyReplicas: 2 } },
      ),
      decided,
      undefined,
    ],
    ['never placed', object, undefined, 'never placed'],
    ['a lost UPDATE of the spec', withMeta({ generation: 5 }, { spec: { replicas: 3 } }), decided, 'generation 5'],
    [
      'a lost UPDATE of labels (no new generation)',
      withMeta({ labels: { app: 'web', tier: 'front' } }),
      decided,
      'changed in kcp',
    ],
    ['created again under the same name', withMeta({ uid: 'u2' }), decided, 'created again'],
    ['created again after a recorded deletion', object, decisionOf(object, { reason: 'Deleted' }), 'created again'],
    [
      'a lost DELETE held by tmc finalizer',
      withMeta({ deletionTimestamp: '2026-01-01T00:00:00Z' }),
      decided,
      'never saw the deletion',
    ],
    [
      'a deletion placement saw whose delete messages were lost',
      withMeta({ deletionTimestamp: '2026-01-01T00:00:00Z' }),
      decisionOf(object, { reason: 'Deleted' }),
      'finalizer is still held',
    ],
    [
      'a deletion held by tmc finalizer whose decision expired',
      withMeta({ deletionTimestamp: '2026-01-01T00:00:00Z' }),
      undefined,
      'has no decision',
    ],
    [
      'a deletion placement saw and finished',
      withMeta({ deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: [] }),
      decisionOf(object, { reason: 'Deleted' }),
      undefined,
    ],
    [
      'a deletion without tmc finalizer',
      withMeta({ deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: [] }),
      decided,
      undefined,
    ],
  ])('%s', (_what, kcpObject, decision, expected) => {
    const why = missedChange(kcpObject, decision);
    if (expected === undefined) expect(why).toBeUndefined();
    else expect(why).toContain(expected);
  });
});
