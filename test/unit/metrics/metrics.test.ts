import { readFileSync } from 'node:fs';
import { replaceMetricTable } from '../../../lib/metrics/docs';
import { METRICS, metricDefinition } from '../../../lib/metrics/catalog';
import { EmfMetrics } from '../../../lib/metrics/emf-metrics';
import { PromMetrics } from '../../../lib/metrics/prom-metrics';

describe('metric catalog', () => {
  it.each(METRICS.map((m) => [m.name, m]))('%s follows Prometheus naming', (name, def) => {
    expect(name).toMatch(/^tmc_[a-z_]+$/);
    if (def.type === 'counter') expect(name).toMatch(/_total$/);
    if (def.unit === 'seconds') expect(name).toMatch(/_seconds$/);
    expect(def.help.length).toBeGreaterThan(10);
  });

  it('rejects a metric that is not in the catalog', () => {
    expect(() => metricDefinition('tmc_typo_total')).toThrow(/Unknown metric tmc_typo_total/);
  });
});

describe('PromMetrics', () => {
  it('renders counters, gauges and histograms in the text format', async () => {
    const m = new PromMetrics();
    m.increment('tmc_sync_operations_total', { result: 'applied', cluster: 'east', resource: 'apps/v1/deployments' });
    m.increment(
      'tmc_sync_operations_total',
      { result: 'applied', cluster: 'east', resource: 'apps/v1/deployments' },
      2,
    );
    m.gauge('tmc_clusters', { state: 'Healthy' }, 3);
    m.observe('tmc_sync_lag_seconds', { cluster: 'east' }, 0.2);
    const text = await m.render();
    expect(text).toContain(
      'tmc_sync_operations_total{result="applied",cluster="east",resource="apps/v1/deployments"} 3',
    );
    expect(text).toContain('tmc_clusters{state="Healthy"} 3');
    expect(text).toContain('tmc_sync_lag_seconds_bucket{le="0.25",cluster="east"} 1');
  });

  it('refuses to use a counter as a gauge', () => {
    const m = new PromMetrics();
    expect(() => m.gauge('tmc_retries_total', {}, 1)).toThrow(/is a counter/);
  });
});

describe('EmfMetrics', () => {
  it('writes one EMF document per label set, with counters summed', () => {
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const log = jest.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      const m = new EmfMetrics('tmc', 'sync-apply');
      m.increment('tmc_sync_operations_total', { result: 'applied', cluster: 'east', resource: 'v1/configmaps' });
      m.increment('tmc_sync_operations_total', { result: 'applied', cluster: 'east', resource: 'v1/configmaps' });
      m.observe('tmc_sync_lag_seconds', { cluster: 'west' }, 0.5);
      m.flush();
    } finally {
      spy.mockRestore();
      log.mockRestore();
    }
    const docs = lines.filter((l) => l.includes('_aws')).map((l) => JSON.parse(l));
    expect(docs).toHaveLength(2);
    const ops = docs.find((d) => 'tmc_sync_operations_total' in d);
    expect(ops.tmc_sync_operations_total).toBe(2);
    expect(ops.cluster).toBe('east');
    expect(ops._aws.CloudWatchMetrics[0].Namespace).toBe('tmc');
  });
});

describe('docs/metrics.md', () => {
  it('lists exactly the catalog (regenerate with `npx tsx scripts/generate-metric-docs.ts`)', () => {
    const doc = readFileSync('docs/metrics.md', 'utf8');
    expect(replaceMetricTable(doc)).toBe(doc);
  });
});
