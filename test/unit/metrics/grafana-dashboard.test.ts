import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { METRICS, type MetricDefinition } from '../../../lib/metrics/catalog';

/**
 * config/grafana/tmc-dashboard.json names only metrics (and labels) that exist in the catalog, histograms only through
 * their `_bucket`/`_sum`/`_count` series, and covers what issue 7 asks a dashboard to show. The same queries run
 * against a real Prometheus in test/integration/metrics/grafana-dashboard.test.ts.
 */

const DashboardSchema = z.object({
  uid: z.string(),
  panels: z.array(
    z.object({
      type: z.string(),
      title: z.string(),
      targets: z.array(z.object({ refId: z.string(), expr: z.string().min(1) })).optional(),
    }),
  ),
});

export const dashboard = DashboardSchema.parse(JSON.parse(readFileSync('config/grafana/tmc-dashboard.json', 'utf8')));
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const byName = new Map<string, MetricDefinition>(METRICS.map((m) => [m.name, m]));
const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** The catalog metric a series name belongs to, and the labels that series may carry. */
function resolve(series: string): { def?: MetricDefinition; labels: Set<string> } {
  const direct = byName.get(series);
  if (direct !== undefined && direct.type !== 'histogram') return { def: direct, labels: new Set(direct.labels) };
  const base = byName.get(series.replace(HISTOGRAM_SUFFIX, ''));
  if (base?.type === 'histogram' && HISTOGRAM_SUFFIX.test(series)) {
    return { def: base, labels: new Set([...base.labels, ...(series.endsWith('_bucket') ? ['le'] : [])]) };
  }
  return { labels: new Set() };
}

describe('Grafana dashboard', () => {
  it('has panels with queries', () => {
    expect(queries.length).toBeGreaterThan(10);
    for (const p of dashboard.panels.filter((p) => p.type !== 'row')) expect(p.targets?.length ?? 0).toBeGreaterThan(0);
  });

  it.each(queries)('$panel: $expr names only catalogued metrics and labels', ({ expr }) => {
    const names = [...expr.matchAll(/\btmc_[a-z0-9_]+/g)].map((m) => m[0]);
    expect(names.length).toBeGreaterThan(0);
    const allowed = new Set<string>();
    for (const name of names) {
      const { def, labels } = resolve(name);
      expect({ name, known: def !== undefined }).toEqual({ name, known: true });
      labels.forEach((l) => allowed.add(l));
    }
    const selectorLabels = [...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) =>
      [...m[1].matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]),
    );
    const groupingLabels = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
      m[1]
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean),
    );
    for (const label of [...selectorLabels, ...groupingLabels])
      expect({ label, known: allowed.has(label) }).toEqual({ label, known: true });
  });

  it('queries every metric of the catalog', () => {
    const named = new Set(
      queries.flatMap((q) => [...q.expr.matchAll(/\btmc_[a-z0-9_]+/g)].map((m) => m[0].replace(HISTOGRAM_SUFFIX, ''))),
    );
    expect(METRICS.map((m) => m.name).filter((name) => !named.has(name))).toEqual([]);
  });

  it.each([
    ['sync throughput', 'tmc_sync_operations_total'],
    ['sync lag', 'tmc_sync_lag_seconds_bucket'],
    ['status lag', 'tmc_status_lag_seconds_bucket'],
    ['placement', 'tmc_placement_decisions_total'],
    ['cluster health', 'tmc_cluster_health_state'],
    ['errors', 'tmc_function_invocations_total{result="error"}'],
    ['DLQ', 'tmc_dlq_messages'],
  ])('shows %s', (_what, fragment) => {
    expect(queries.some((q) => q.expr.includes(fragment))).toBe(true);
  });
});
