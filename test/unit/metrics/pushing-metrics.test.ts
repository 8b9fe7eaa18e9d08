import { PushingMetrics } from '../../../lib/metrics/pushing-metrics';
import type { Timeseries } from '../../../lib/metrics/remote-write';
import { measureInvocation } from '../../../lib/observability/invocation-metrics';
import { noMetrics } from '../../../lib/ports/telemetry';

function setup(push: (series: Timeseries[]) => Promise<void> = async () => undefined): {
  metrics: PushingMetrics;
  pushed: Timeseries[][];
  errors: unknown[];
} {
  const pushed: Timeseries[][] = [];
  const errors: unknown[] = [];
  const metrics = new PushingMetrics(
    { ...noMetrics, flush: () => undefined },
    {
      push: async (series) => {
        await push(series);
        pushed.push(series);
      },
    },
    {
      instance: 'sync-apply-abc',
      pushesGauge: (name) => name !== 'tmc_clusters',
      onError: (err) => errors.push(err),
      now: () => 1_700_000_000_000,
    },
  );
  return { metrics, pushed, errors };
}

describe('PushingMetrics (a Lambda container to Prometheus)', () => {
  it('pushes the cumulative registry at the end of an invocation, labelled with the container', async () => {
    const { metrics, pushed } = setup();
    await measureInvocation(metrics, 'sync-apply', async () => {
      metrics.increment('tmc_sync_operations_total', { result: 'applied', cluster: 'east', resource: 'v1/configmaps' });
    });
    await measureInvocation(metrics, 'sync-apply', async () => {
      metrics.increment('tmc_sync_operations_total', { result: 'applied', cluster: 'east', resource: 'v1/configmaps' });
    });
    expect(pushed).toHaveLength(2);
    const ops = pushed[1].find((s) => s.labels.__name__ === 'tmc_sync_operations_total');
    expect(ops).toEqual({
      labels: {
        __name__: 'tmc_sync_operations_total',
        result: 'applied',
        cluster: 'east',
        resource: 'v1/configmaps',
        instance: 'sync-apply-abc',
      },
      samples: [{ value: 2, timestamp: 1_700_000_000_000 }],
    });
    expect(pushed[1].some((s) => s.labels.__name__ === 'tmc_function_invocations_total')).toBe(true);
  });

  it('pushes nothing when nothing was recorded, and leaves out the gauges it is told the rollup pushes', async () => {
    const { metrics, pushed } = setup();
    await metrics.endInvocation();
    metrics.gauge('tmc_clusters', { state: 'Healthy' }, 3);
    await metrics.endInvocation();
    expect(pushed).toEqual([]);
    metrics.gauge('tmc_recovery_deletion_holds', { scope: 'root:a' }, 1);
    await metrics.endInvocation();
    expect(pushed.flat().map((s) => s.labels.__name__)).toEqual(['tmc_recovery_deletion_holds']);
  });

  it('reports a failed push and does not fail the invocation', async () => {
    const { metrics, errors } = setup(async () => {
      throw new Error('Remote-write to aps failed: 403');
    });
    await expect(measureInvocation(metrics, 'sync-apply', async () => 'done')).resolves.toBe('done');
    expect(errors).toEqual([new Error('Remote-write to aps failed: 403')]);
  });
});
