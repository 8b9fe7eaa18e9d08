// Draws the Grafana dashboard's main panels as a PNG from a Prometheus (examples/metrics/README.md):
//   npx tsx scripts/render-dashboard.ts [--prometheus http://127.0.0.1:9090] [--minutes 15] [--out examples/metrics/dashboard.png]
// Each panel's PromQL is taken from config/grafana/tmc-dashboard.json as it is, and run as a range query.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Resvg } from '@resvg/resvg-js';
import { panelQueries, renderDashboardSvg, seriesOf, type DrawnPanel } from '../lib/metrics/dashboard-picture';

const { values: args } = parseArgs({
  options: {
    prometheus: { type: 'string', default: 'http://127.0.0.1:9090' },
    minutes: { type: 'string', default: '15' },
    'rate-interval': { type: 'string', default: '1m' },
    dashboard: { type: 'string', default: 'config/grafana/tmc-dashboard.json' },
    out: { type: 'string', default: 'examples/metrics/dashboard.png' },
  },
});

const minutes = Number(args.minutes);
if (!Number.isFinite(minutes) || minutes <= 0)
  throw new Error(`--minutes must be a positive number, got ${args.minutes}`);
const to = Math.floor(Date.now() / 1000);
const from = to - Math.round(minutes * 60);
// About 200 points a line, and never finer than remote-write's own resolution.
const step = Math.max(5, Math.round((to - from) / 200));

const { dashboard, panels } = panelQueries(
  JSON.parse(readFileSync(args.dashboard, 'utf8')),
  undefined,
  args['rate-interval'],
);
const drawn: DrawnPanel[] = [];
for (const panel of panels) {
  const series = [];
  for (const target of panel.targets) {
    const url = new URL('/api/v1/query_range', args.prometheus);
    url.search = new URLSearchParams({
      query: target.expr,
      start: String(from),
      end: String(to),
      step: String(step),
    }).toString();
    const response = await fetch(url);
    if (!response.ok)
      throw new Error(`Prometheus answered ${response.status} to ${target.expr}: ${await response.text()}`);
    series.push(...seriesOf(await response.json(), target.legendFormat));
  }
  drawn.push({ title: panel.title, ...(panel.unit !== undefined ? { unit: panel.unit } : {}), series });
  process.stdout.write(`${panel.title}: ${series.length} series\n`);
}

const svg = renderDashboardSvg(drawn, { title: `${dashboard} (main panels)`, from, to });
const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
writeFileSync(args.out, png);
process.stdout.write(`Wrote ${args.out} (${png.length} bytes)\n`);
