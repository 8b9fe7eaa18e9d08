import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
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
    metrics.increment(
      'tmc_sync_operations_total',
      { result: 'applied', cluster: 'east', resource: 'apps/v1/deployments' },
      7,
    );
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

  it('sends the headers the remote-write spec requires', async () => {
    const received: Array<{ method?: string; url?: string; headers: IncomingHttpHeaders; body: Buffer }> = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const publisher = new RemoteWritePublisher({
        url: `http://127.0.0.1:${port}/api/v1/write`,
        auth: { type: 'bearer', token: 't0ken' },
      });
      await publisher.push([
        {
          labels: { __name__: 'tmc_clusters', state: 'Healthy' },
          samples: [{ value: 3, timestamp: 1_700_000_000_000 }],
        },
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(received).toHaveLength(1);
    const [push] = received;
    expect(push).toMatchObject({ method: 'POST', url: '/api/v1/write' });
    expect(push!.headers).toMatchObject({
      'content-encoding': 'snappy',
      'content-type': 'application/x-protobuf',
      'x-prometheus-remote-write-version': '0.1.0',
      authorization: 'Bearer t0ken',
    });
    expect(push!.headers['user-agent']).toBeDefined();
    // The body's format is checked by the real Prometheus above, which decodes snappy and protobuf.
    expect(push!.body.length).toBeGreaterThan(0);
  });

  it('names the endpoint when a push is refused', async () => {
    const publisher = new RemoteWritePublisher(
      { url: `${prom.url}/api/v1/nowhere`, auth: { type: 'none' } },
      { attempts: 1 },
    );
    await expect(
      publisher.push([
        { labels: { __name__: 'tmc_clusters', state: 'Healthy' }, samples: [{ value: 1, timestamp: Date.now() }] },
      ]),
    ).rejects.toThrow(/Remote-write to 127\.0\.0\.1:\d+ failed: 404/);
  });
});
