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

  /** Every series a flush sends, as `name{labels}=value`. */
  function sent(): { m: EmfMetrics; flush(): string[] } {
    let out: string[] = [];
    const m = new EmfMetrics('tmc', 'metrics-rollup', (labels, values) => {
      for (const v of values) out.push(`${v.name}${JSON.stringify(labels)}=${v.value}`);
    });
    return {
      m,
      flush: () => {
        m.flush();
        const batch = out;
        out = [];
        return batch;
      },
    };
  }

  it('sends a quiet gauge only when it changes, and a gauge showing a problem on every flush', () => {
    const { m, flush } = sent();
    const run = (unhealthy: number, applied: number, oldest: number): string[] => {
      m.gauge('tmc_clusters', { state: 'Healthy' }, 3 - unhealthy);
      m.gauge('tmc_clusters', { state: 'Unhealthy' }, unhealthy);
      m.gauge('tmc_objects', { state: 'applied' }, applied);
      m.gauge('tmc_oldest_pending_sync_seconds', {}, oldest);
      return flush();
    };
    // A new container: quiet values are remembered, not sent.
    expect(run(0, 300, 0)).toEqual([]);
    expect(run(0, 300, 0)).toEqual([]);
    // A change is sent once; a problem on every run.
    expect(run(0, 301, 12).sort()).toEqual(
      ['tmc_objects{"state":"applied"}=301', 'tmc_oldest_pending_sync_seconds{}=12'].sort(),
    );
    expect(run(1, 301, 70).sort()).toEqual(
      [
        'tmc_clusters{"state":"Healthy"}=2',
        'tmc_clusters{"state":"Unhealthy"}=1',
        'tmc_oldest_pending_sync_seconds{}=70',
      ].sort(),
    );
    expect(run(1, 301, 70).sort()).toEqual(
      ['tmc_clusters{"state":"Unhealthy"}=1', 'tmc_oldest_pending_sync_seconds{}=70'].sort(),
    );
    // Back to quiet: the return to 0 is sent once (an alarm sees it), then nothing.
    expect(run(0, 301, 0).sort()).toEqual(
      [
        'tmc_clusters{"state":"Healthy"}=3',
        'tmc_clusters{"state":"Unhealthy"}=0',
        'tmc_oldest_pending_sync_seconds{}=0',
      ].sort(),
    );
    expect(run(0, 301, 0)).toEqual([]);
  });

  it("leaves to Lambda's own metrics what it publishes for free, and still sends failures", () => {
    const { m, flush } = sent();
    m.increment('tmc_function_invocations_total', { function: 'health-probe', result: 'ok' });
    m.observe('tmc_function_duration_seconds', { function: 'health-probe' }, 0.2);
    expect(flush()).toEqual([]);
    m.increment('tmc_function_invocations_total', { function: 'health-probe', result: 'error' });
    expect(flush()).toEqual(['tmc_function_invocations_total{"function":"health-probe","result":"error"}=1']);
  });
});

describe('docs/metrics.md', () => {
  it('lists exactly the catalog (regenerate with `npx tsx scripts/generate-metric-docs.ts`)', () => {
    const doc = readFileSync('docs/metrics.md', 'utf8');
    expect(replaceMetricTable(doc)).toBe(doc);
  });
});
