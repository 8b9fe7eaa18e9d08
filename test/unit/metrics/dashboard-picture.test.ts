import { readFileSync } from 'node:fs';
import {
  MAIN_PANELS,
  legendOf,
  panelQueries,
  renderDashboardSvg,
  seriesOf,
} from '../../../lib/metrics/dashboard-picture';

const dashboardJson: unknown = JSON.parse(readFileSync('config/grafana/tmc-dashboard.json', 'utf8'));
/** The dashboard's own queries by panel title, read without the module under test. */
const raw = (dashboardJson as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> }).panels;
const exprsOf = (title: string): string[] => (raw.find((p) => p.title === title)?.targets ?? []).map((t) => t.expr);

describe('panelQueries (scripts/render-dashboard.ts)', () => {
  it("takes the main panels' queries from the dashboard as they are, with $__rate_interval made concrete", () => {
    const { dashboard, panels } = panelQueries(dashboardJson, MAIN_PANELS, '2m');
    expect(dashboard).toMatch(/tmc/);
    expect(panels.map((p) => p.title)).toEqual([...MAIN_PANELS]);
    for (const panel of panels) {
      expect(panel.targets.map((t) => t.expr)).toEqual(
        exprsOf(panel.title).map((e) => e.replaceAll('$__rate_interval', '2m')),
      );
      for (const t of panel.targets) expect(t.expr).not.toContain('$__');
    }
    expect(panels.find((p) => p.title === 'Sync operations by result')).toMatchObject({
      unit: 'ops',
      targets: [{ expr: 'sum by (result) (rate(tmc_sync_operations_total[2m]))', legendFormat: '{{result}}' }],
    });
  });

  it('fails on a panel the dashboard does not have, or one without a query', () => {
    expect(() => panelQueries(dashboardJson, ['No such panel'])).toThrow(
      'The dashboard has no panel titled "No such panel"',
    );
    expect(() => panelQueries(dashboardJson, ['Sync'])).toThrow('has no query'); // a row
    expect(() => panelQueries({ panels: [] })).toThrow();
  });
});

describe('legendOf', () => {
  it.each([
    ['{{state}}', { state: 'Healthy' }, 'Healthy'],
    ['p95 {{ cluster }}', { cluster: 'east' }, 'p95 east'],
    ['{{missing}}x', {}, 'x'],
    [undefined, { a: '1', b: '2' }, '{a="1", b="2"}'],
    ['', {}, 'value'],
  ])('%s with %j is %s', (format, labels, expected) => {
    expect(legendOf(format, labels)).toBe(expected);
  });
});

describe('seriesOf', () => {
  it('names each series by the legend and sorts them; a non-matrix answer is an error', () => {
    const answer = {
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          { metric: { state: 'Unhealthy' }, values: [[100, '0']] },
          {
            metric: { state: 'Healthy' },
            values: [
              [100, '3'],
              [105, 'NaN'],
            ],
          },
        ],
      },
    };
    const series = seriesOf(answer, '{{state}}');
    expect(series.map((s) => s.name)).toEqual(['Healthy', 'Unhealthy']);
    expect(series[0].points[0]).toEqual([100, 3]);
    expect(series[0].points[1][1]).toBeNaN();
    expect(() => seriesOf({ status: 'success', data: { resultType: 'vector', result: [] } }, undefined)).toThrow();
  });
});

describe('renderDashboardSvg', () => {
  it('draws one line per run of values, a legend entry per series, and escapes text', () => {
    const svg = renderDashboardSvg(
      [
        {
          title: 'Queue <backlog>',
          series: [
            {
              name: 'sync',
              points: [
                [0, 1],
                [10, 2],
                [20, Number.NaN],
                [30, 4],
                [40, 5],
              ],
            },
          ],
        },
        { title: 'Empty', series: [] },
      ],
      { title: 'tmc', from: 0, to: 40 },
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Queue &#60;backlog&#62;');
    expect(svg.match(/<polyline /g)).toHaveLength(2); // the NaN breaks the line
    expect(svg).toContain('>sync</text>');
    expect(svg).toContain('No data');
  });
});
