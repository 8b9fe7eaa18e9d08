import { aggregateStatus } from '../../../lib/sync/status/aggregate';
import type { AggregateInput, ClusterStatusInput } from '../../../lib/sync/status/types';

const avail = (status: 'True' | 'False'): Record<string, unknown> => ({ type: 'Available', status });
const dep = (ready: number, available: 'True' | 'False', observedGeneration = 1): Record<string, unknown> => ({
  replicas: 2,
  readyReplicas: ready,
  availableReplicas: ready,
  updatedReplicas: 2,
  observedGeneration,
  conditions: [avail(available), { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }],
});
const c = (cluster: string, status?: Record<string, unknown>, applied = 5, downstream = 1): ClusterStatusInput => ({
  cluster,
  status,
  appliedGeneration: applied,
  downstreamGeneration: downstream,
});
const input = (kind: string, clusters: ClusterStatusInput[], generation = 5): AggregateInput => ({
  kind,
  generation,
  clusters,
});
const cond = (status: Record<string, unknown> | undefined, type: string): Record<string, unknown> | undefined =>
  (status?.conditions as Array<Record<string, unknown>> | undefined)?.find((x) => x.type === type);

describe('Deployment aggregation', () => {
  it.each<[string, ClusterStatusInput[], number, string, number | undefined]>([
    ['all three ready', [c('a', dep(2, 'True')), c('b', dep(2, 'True')), c('c', dep(2, 'True'))], 6, 'True', 5],
    ['2 of 3 ready', [c('a', dep(2, 'True')), c('b', dep(2, 'True')), c('c', dep(0, 'False'))], 4, 'False', 5],
    ['one cluster has no status yet', [c('a', dep(2, 'True')), c('b', dep(2, 'True')), c('c')], 4, 'False', undefined],
    [
      'one cluster not yet on the new generation',
      [c('a', dep(2, 'True')), c('b', dep(2, 'True'), 4)],
      4,
      'True',
      undefined,
    ],
    [
      'one cluster has not observed the apply',
      [c('a', dep(2, 'True')), c('b', dep(2, 'True', 1), 5, 2)],
      4,
      'True',
      undefined,
    ],
    ['placed nowhere', [], 0, 'False', undefined],
  ])('%s', (_name, clusters, ready, available, observedGeneration) => {
    const status = aggregateStatus(input('Deployment', clusters));
    expect(status?.readyReplicas).toBe(ready);
    expect(cond(status, 'Available')?.status).toBe(available);
    expect(status?.observedGeneration).toBe(observedGeneration);
  });

  it('says exactly which clusters are not available', () => {
    const status = aggregateStatus(
      input('Deployment', [c('a', dep(2, 'True')), c('b', dep(2, 'True')), c('c', dep(0, 'False'))]),
    );
    expect(cond(status, 'Available')?.message).toBe('Available on 2 of 3 clusters; not on c (False)');
    expect(status?.replicas).toBe(6);
  });

  it('a stuck rollout on one cluster is Progressing False', () => {
    const stuck = {
      ...dep(0, 'False'),
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
    };
    const status = aggregateStatus(input('Deployment', [c('a', dep(2, 'True')), c('b', stuck)]));
    expect(cond(status, 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
  });
});

describe('replica counts of Duplicated and Divided placements', () => {
  const copy = (ready: number, replicas = 3): Record<string, unknown> => ({
    replicas,
    readyReplicas: ready,
    availableReplicas: ready,
    updatedReplicas: replicas,
    unavailableReplicas: replicas - ready,
  });
  const placed = (
    kind: string,
    replicaMode: 'Duplicated' | 'Divided' | undefined,
    specReplicas: number,
    clusters: Array<[string, Record<string, unknown> | undefined, number]>,
  ): AggregateInput => ({
    ...input(
      kind,
      clusters.map(([name, status, desired]) => ({ ...c(name, status), desiredReplicas: desired })),
    ),
    specReplicas,
    replicaMode,
  });

  it.each<[string, AggregateInput, Record<string, number>, string | undefined]>([
    [
      'Duplicated 3 on 3 clusters, all ready: READY 3/3, not 9/3',
      placed('Deployment', 'Duplicated', 3, [
        ['east', copy(3), 3],
        ['west', copy(3), 3],
        ['north', copy(3), 3],
      ]),
      { replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 3, unavailableReplicas: 0 },
      'True',
    ],
    [
      'Duplicated, one copy short: the least ready copy',
      placed('Deployment', 'Duplicated', 3, [
        ['east', copy(3), 3],
        ['west', copy(2), 3],
        ['north', copy(3), 3],
      ]),
      { replicas: 3, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 3, unavailableReplicas: 1 },
      'False',
    ],
    [
      'Duplicated, a copy with no status yet counts as none ready',
      placed('Deployment', 'Duplicated', 3, [
        ['east', copy(3), 3],
        ['west', undefined, 3],
      ]),
      { replicas: 3, readyReplicas: 0, availableReplicas: 0, updatedReplicas: 0, unavailableReplicas: 0 },
      'False',
    ],
    [
      'Duplicated, a surging copy keeps replicas above updated',
      placed('Deployment', 'Duplicated', 3, [
        ['east', { ...copy(3, 4), updatedReplicas: 2 }, 3],
        ['west', copy(3), 3],
      ]),
      { replicas: 4, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 2, unavailableReplicas: 1 },
      'True',
    ],
    [
      'Divided 3 as 2+1: summed',
      placed('Deployment', 'Divided', 3, [
        ['east', copy(2, 2), 2],
        ['west', copy(1, 1), 1],
      ]),
      { replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 3, unavailableReplicas: 0 },
      'True',
    ],
    [
      'StatefulSet Duplicated on 2 clusters',
      placed('StatefulSet', 'Duplicated', 2, [
        ['east', { replicas: 2, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 2, availableReplicas: 2 }, 2],
        ['west', { replicas: 2, readyReplicas: 1, currentReplicas: 2, updatedReplicas: 2, availableReplicas: 1 }, 2],
      ]),
      { replicas: 2, readyReplicas: 1, currentReplicas: 2, updatedReplicas: 2, availableReplicas: 1 },
      'False',
    ],
    [
      'ReplicationController Divided 3 as 2+1, like a ReplicaSet',
      placed('ReplicationController', 'Divided', 3, [
        ['east', { replicas: 2, readyReplicas: 2, availableReplicas: 2, fullyLabeledReplicas: 2 }, 2],
        ['west', { replicas: 1, readyReplicas: 0, availableReplicas: 0, fullyLabeledReplicas: 1 }, 1],
      ]),
      { replicas: 3, readyReplicas: 2, availableReplicas: 2, fullyLabeledReplicas: 3 },
      'False',
    ],
    [
      'ReplicaSet Duplicated on 2 clusters',
      placed('ReplicaSet', 'Duplicated', 2, [
        ['east', { replicas: 2, readyReplicas: 2, availableReplicas: 2, fullyLabeledReplicas: 2 }, 2],
        ['west', { replicas: 2, readyReplicas: 2, availableReplicas: 2, fullyLabeledReplicas: 2 }, 2],
      ]),
      { replicas: 2, readyReplicas: 2, availableReplicas: 2, fullyLabeledReplicas: 2 },
      'True',
    ],
    [
      'no mode recorded (an older decision): summed, no ClusterReplicas condition',
      placed('Deployment', undefined, 3, [
        ['east', copy(3), 3],
        ['west', copy(3), 3],
      ]),
      { replicas: 6, readyReplicas: 6 },
      undefined,
    ],
  ])('%s', (_name, given, counts, clusterReplicas) => {
    const status = aggregateStatus(given);
    expect(status).toMatchObject(counts);
    expect(cond(status, 'ClusterReplicas')?.status).toBe(clusterReplicas);
  });

  it('names every cluster and what the counts mean', () => {
    const status = aggregateStatus(
      placed('Deployment', 'Duplicated', 3, [
        ['east', copy(3), 3],
        ['west', copy(2), 3],
        ['north', undefined, 3],
      ]),
    );
    expect(cond(status, 'ClusterReplicas')).toMatchObject({
      status: 'False',
      reason: 'Duplicated',
      message:
        "Duplicated: each of 3 clusters runs all 3 replicas; counts are the least ready copy's. Ready per cluster: east 3/3, west 2/3, north no status yet",
    });
    const divided = aggregateStatus(
      placed('Deployment', 'Divided', 3, [
        ['east', copy(2, 2), 2],
        ['west', copy(0, 1), 1],
      ]),
    );
    expect(cond(divided, 'ClusterReplicas')?.message).toBe(
      'Divided: 2 clusters share 3 replicas; counts are summed. Ready per cluster: east 2/2, west 0/1',
    );
  });
});

describe('other kinds', () => {
  it.each<[string, string, ClusterStatusInput[], Record<string, unknown>]>([
    [
      'StatefulSet sums incl. currentReplicas',
      'StatefulSet',
      [
        c('a', {
          replicas: 2,
          readyReplicas: 2,
          currentReplicas: 2,
          updatedReplicas: 2,
          availableReplicas: 2,
          observedGeneration: 1,
        }),
        c('b', { replicas: 1, readyReplicas: 0, currentReplicas: 1, observedGeneration: 1 }),
      ],
      {
        replicas: 3,
        readyReplicas: 2,
        currentReplicas: 3,
        updatedReplicas: 2,
        availableReplicas: 2,
        observedGeneration: 5,
      },
    ],
    [
      'ReplicaSet sums',
      'ReplicaSet',
      [c('a', { replicas: 1, readyReplicas: 1, availableReplicas: 1, fullyLabeledReplicas: 1 }), c('b')],
      { replicas: 1, readyReplicas: 1, availableReplicas: 1, fullyLabeledReplicas: 1 },
    ],
    [
      'DaemonSet sums',
      'DaemonSet',
      [
        c('a', {
          desiredNumberScheduled: 3,
          numberReady: 3,
          currentNumberScheduled: 3,
          updatedNumberScheduled: 3,
          numberAvailable: 3,
        }),
        c('b', { desiredNumberScheduled: 2, numberReady: 1, numberUnavailable: 1 }),
      ],
      {
        desiredNumberScheduled: 5,
        numberReady: 4,
        currentNumberScheduled: 3,
        updatedNumberScheduled: 3,
        numberAvailable: 3,
        numberUnavailable: 1,
        numberMisscheduled: 0,
      },
    ],
    [
      'Job complete only when every cluster completed',
      'Job',
      [
        c('a', {
          succeeded: 1,
          conditions: [{ type: 'Complete', status: 'True' }],
          startTime: 't1',
          completionTime: 't3',
        }),
        c('b', { active: 1, startTime: 't0' }),
      ],
      { succeeded: 0, active: 1, failed: 0, ready: 0, startTime: 't0' },
    ],
    [
      'Job complete everywhere',
      'Job',
      [
        c('a', { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }], completionTime: 't3' }),
        c('b', { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }], completionTime: 't5' }),
      ],
      {
        succeeded: 1,
        active: 0,
        failed: 0,
        ready: 0,
        completionTime: 't5',
        conditions: [
          { type: 'Complete', status: 'True', reason: 'AllClustersComplete', message: 'Complete on all 2 clusters' },
        ],
      },
    ],
    [
      'Job failed on one cluster',
      'Job',
      [
        c('a', { failed: 6, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] }),
        c('b', { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] }),
      ],
      {
        succeeded: 0,
        active: 0,
        failed: 6,
        ready: 0,
        conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job failed on a' }],
      },
    ],
    [
      'Service load-balancer ingress concatenated',
      'Service',
      [
        c('a', { loadBalancer: { ingress: [{ ip: '1.1.1.1' }] } }),
        c('b', { loadBalancer: { ingress: [{ hostname: 'b.elb' }, { ip: '1.1.1.1' }] } }),
        c('c'),
      ],
      { loadBalancer: { ingress: [{ ip: '1.1.1.1' }, { hostname: 'b.elb' }] } },
    ],
    [
      'generic: conditions per cluster',
      'Widget',
      [
        c('a', { conditions: [{ type: 'Ready', status: 'True' }] }),
        c('b', { conditions: [{ type: 'Ready', status: 'False', reason: 'Broken' }] }),
      ],
      {
        conditions: [
          {
            type: 'Ready',
            status: 'False',
            reason: 'NotAllClusters',
            message: 'Ready on 1 of 2 clusters; not on b (False, Broken)',
          },
        ],
      },
    ],
  ])('%s', (_name, kind, clusters, expected) => {
    expect(aggregateStatus(input(kind, clusters))).toEqual(expected);
  });

  it.each(['ConfigMap', 'Secret', 'ServiceAccount'])('%s has no status to aggregate', (kind) => {
    expect(aggregateStatus(input(kind, [c('a', {})]))).toBeUndefined();
  });
  it("a CRD's status in kcp is kcp's own (Established, acceptedNames, storedVersions): never written from a cluster's copy", () => {
    const established = {
      conditions: [
        { type: 'Established', status: 'True' },
        { type: 'NamesAccepted', status: 'True' },
      ],
      storedVersions: ['v1'],
    };
    expect(aggregateStatus(input('CustomResourceDefinition', [c('a', established), c('b', {})]))).toBeUndefined();
  });
});
