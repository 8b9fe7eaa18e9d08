import { PromMetrics } from '../../../lib/metrics/prom-metrics';
import { collectTimeseries, RemoteWritePublisher } from '../../../lib/metrics/remote-write';
import { type PrometheusServer, startPrometheus } from '../../support/prometheus';

describe('remote-write to a real Prometheus', () => {
  let prom: PrometheusServer;
  beforeAll(async () => {
    prom = await startPrometheus();
  });
  afterAll(async () => {
    await prom.stop();
  });

  it('pushes counters and histograms that PromQL reads back, and a retried push does not double-count', async () => {
    const metrics = new PromMetrics();
    metrics.increment('tmc_sync_operations_total', { result: 'applied', cluster: 'east', resource: 'apps/v1/deployments' }, 7);
    metrics.observe('tmc_sync_lag_seconds', { cluster: 'east' }, 0.3);
    const publisher = new RemoteWritePublisher({ url: `${prom.url}/api/v1/write`, auth: { type: 'none' } });
    const series = await collectTimeseries(metrics.registry);
    await publisher.push(series);
    await publisher.push(series); // the same samples again, as a retry would send them

    const ops = await prom.query('tmc_sync_operations_total{cluster="east",result="applied"}');
    expect(ops).toHaveLength(1);
    expect(ops[0].value[1]).toBe('7');
    const count = await prom.query('tmc_sync_lag_seconds_count{cluster="east"}');
    expect(count[0].value[1]).toBe('1');
  });

  it('names the endpoint when a push is refused', async () => {
    const publisher = new RemoteWritePublisher({ url: `${prom.url}/api/v1/nowhere`, auth: { type: 'none' } }, { attempts: 1 });
    await expect(publisher.push([{ labels: { __name__: 'tmc_clusters', state: 'Healthy' }, samples: [{ value: 1, timestamp: Date.now() }] }])).rejects.toThrow(
      /Remote-write to 127\.0\.0\.1:\d+ failed: 404/,
    );
  });
});
