import { z } from 'zod';

/**
 * A picture of the Grafana dashboard's main panels without Grafana (not in Debian's packages): each panel's PromQL, as
 * the dashboard has it, is run against a Prometheus by scripts/render-dashboard.ts and drawn here as SVG line plots.
 */

/** The panels the picture shows, by title: what an operator looks at first. */
export const MAIN_PANELS = [
  'Sync operations by result',
  'Objects by sync state',
  'Sync lag (kcp change → applied)',
  'Placement decisions',
  'Clusters by health',
  'Queue backlog',
] as const;

const DashboardSchema = z.object({
  title: z.string(),
  panels: z.array(
    z.looseObject({
      type: z.string(),
      title: z.string(),
      fieldConfig: z.looseObject({ defaults: z.looseObject({ unit: z.string().optional() }).optional() }).optional(),
      targets: z.array(z.looseObject({ expr: z.string().min(1), legendFormat: z.string().optional() })).optional(),
    }),
  ),
});

export interface PanelQuery {
  title: string;
  unit?: string;
  targets: Array<{ expr: string; legendFormat?: string }>;
}

/**
 * The queries of the named panels, in the order named, with Grafana's `$__rate_interval` replaced by `rateInterval`
 * (what Prometheus alone understands). A title the dashboard lacks is an error: the picture must not drift silently.
 */
export function panelQueries(
  dashboardJson: unknown,
  titles: readonly string[] = MAIN_PANELS,
  rateInterval = '1m',
): { dashboard: string; panels: PanelQuery[] } {
  const dashboard = DashboardSchema.parse(dashboardJson);
  const panels = titles.map((title) => {
    const panel = dashboard.panels.find((p) => p.title === title);
    if (panel === undefined) throw new Error(`The dashboard has no panel titled "${title}"`);
    const targets = (panel.targets ?? []).map((t) => ({
      expr: t.expr.replaceAll('$__rate_interval', rateInterval),
      ...(t.legendFormat !== undefined ? { legendFormat: t.legendFormat } : {}),
    }));
    if (targets.length === 0) throw new Error(`The dashboard's panel "${title}" has no query`);
    const unit = panel.fieldConfig?.defaults?.unit;
    return { title, ...(unit !== undefined ? { unit } : {}), targets };
  });
  return { dashboard: dashboard.title, panels };
}

/** A series' name as Grafana's legend shows it: `{{label}}` replaced by the label's value. */
export function legendOf(legendFormat: string | undefined, labels: Record<string, string>): string {
  if (legendFormat === undefined || legendFormat === '') {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    return pairs.length > 0 ? `{${pairs.join(', ')}}` : 'value';
  }
  return legendFormat.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_m, key: string) => labels[key] ?? '');
}

export interface Series {
  name: string;
  /** [unix seconds, value]; NaN breaks the line. */
  points: Array<[number, number]>;
}

export interface DrawnPanel {
  title: string;
  unit?: string;
  series: Series[];
}

export interface PictureOptions {
  title: string;
  /** Unix seconds. */
  from: number;
  to: number;
  columns?: number;
  panelWidth?: number;
  panelHeight?: number;
}

const PALETTE = ['#73bf69', '#f2cc0c', '#8ab8ff', '#ff780a', '#f2495c', '#5794f2', '#b877d9', '#705da0', '#37872d'];
/** Grafana's habit for states: good green, warning yellow, bad red, unknown grey; other series take the palette. */
const STATE_COLORS: Record<string, string> = {
  Healthy: '#73bf69',
  applied: '#73bf69',
  scheduled: '#73bf69',
  Degraded: '#f2cc0c',
  deferred: '#f2cc0c',
  conflict: '#ff780a',
  Unhealthy: '#f2495c',
  failed: '#f2495c',
  Unknown: '#8e8e8e',
  pending: '#8e8e8e',
};
const BACKGROUND = '#111217';
const PANEL = '#181b1f';
const TEXT = '#ccccdc';
const GRID = '#2c3235';
const FONT = 'DejaVu Sans, Arial, sans-serif';

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A compact number for an axis: 1.2k, 0.25, 3. */
export function formatValue(value: number, unit?: string): string {
  const suffix = unit === 's' ? ' s' : unit === 'ops' ? '/s' : '';
  const abs = Math.abs(value);
  const text =
    abs >= 1e6
      ? `${+(value / 1e6).toFixed(1)}M`
      : abs >= 1e3
        ? `${+(value / 1e3).toFixed(1)}k`
        : abs >= 10 || abs === 0
          ? `${+value.toFixed(0)}`
          : `${+value.toPrecision(2)}`;
  return `${text}${suffix}`;
}

function hhmm(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(11, 16);
}

function drawPanel(panel: DrawnPanel, x: number, y: number, w: number, h: number, opts: PictureOptions): string {
  const parts: string[] = [];
  parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="4" fill="${PANEL}" stroke="${GRID}"/>`);
  parts.push(
    `<text x="${x + 12}" y="${y + 22}" font-size="14" font-weight="bold" fill="${TEXT}">${escapeXml(panel.title)}</text>`,
  );
  const legendRows = Math.ceil(Math.min(panel.series.length, 6) / 3);
  const plot = { x: x + 56, y: y + 36, w: w - 72, h: h - 36 - 28 - legendRows * 18 };
  const values = panel.series.flatMap((s) => s.points.map((p) => p[1]).filter(Number.isFinite));
  const max = values.length > 0 ? Math.max(...values) : 0;
  const top = max > 0 ? max * 1.1 : 1;
  for (const fraction of [0, 0.5, 1]) {
    const gy = plot.y + plot.h - fraction * plot.h;
    parts.push(`<line x1="${plot.x}" y1="${gy}" x2="${plot.x + plot.w}" y2="${gy}" stroke="${GRID}"/>`);
    parts.push(
      `<text x="${plot.x - 6}" y="${gy + 4}" font-size="11" text-anchor="end" fill="${TEXT}">${escapeXml(formatValue(top * fraction, panel.unit))}</text>`,
    );
  }
  const span = Math.max(opts.to - opts.from, 1);
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    const gx = plot.x + fraction * plot.w;
    parts.push(
      `<text x="${gx}" y="${plot.y + plot.h + 16}" font-size="11" text-anchor="middle" fill="${TEXT}">${hhmm(opts.from + fraction * span)}</text>`,
    );
  }
  if (panel.series.length === 0)
    parts.push(
      `<text x="${plot.x + plot.w / 2}" y="${plot.y + plot.h / 2}" font-size="13" text-anchor="middle" fill="${TEXT}">No data</text>`,
    );
  panel.series.forEach((series, i) => {
    const color = STATE_COLORS[series.name] ?? PALETTE[i % PALETTE.length];
    const segments: string[][] = [[]];
    for (const [t, v] of series.points) {
      if (!Number.isFinite(v)) {
        segments.push([]);
        continue;
      }
      const px = plot.x + ((t - opts.from) / span) * plot.w;
      const py = plot.y + plot.h - (v / top) * plot.h;
      segments[segments.length - 1].push(`${px.toFixed(1)},${py.toFixed(1)}`);
    }
    for (const points of segments.filter((s) => s.length > 0))
      parts.push(
        points.length === 1
          ? `<circle cx="${points[0].split(',')[0]}" cy="${points[0].split(',')[1]}" r="2" fill="${color}"/>`
          : `<polyline points="${points.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`,
      );
    if (i < 6) {
      const lx = x + 16 + (i % 3) * ((w - 32) / 3);
      const ly = plot.y + plot.h + 34 + Math.floor(i / 3) * 18;
      parts.push(`<rect x="${lx}" y="${ly - 9}" width="12" height="4" fill="${color}"/>`);
      parts.push(
        `<text x="${lx + 18}" y="${ly - 3}" font-size="11" fill="${TEXT}">${escapeXml(series.name.slice(0, 34))}</text>`,
      );
    }
  });
  return parts.join('\n');
}

/** The panels as one SVG: a grid of line plots over [from, to], Grafana's dark theme. */
export function renderDashboardSvg(panels: readonly DrawnPanel[], opts: PictureOptions): string {
  const columns = opts.columns ?? 3;
  const pw = opts.panelWidth ?? 420;
  const ph = opts.panelHeight ?? 260;
  const gap = 12;
  const header = 44;
  const rows = Math.ceil(panels.length / columns);
  const width = gap + columns * (pw + gap);
  const height = header + rows * (ph + gap) + gap;
  const body = panels.map((panel, i) =>
    drawPanel(panel, gap + (i % columns) * (pw + gap), header + Math.floor(i / columns) * (ph + gap), pw, ph, opts),
  );
  const when = `${new Date(opts.from * 1000).toISOString().slice(0, 16).replace('T', ' ')} – ${hhmm(opts.to)} UTC`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="${BACKGROUND}"/>`,
    `<text x="${gap}" y="28" font-size="18" font-weight="bold" fill="${TEXT}">${escapeXml(opts.title)}</text>`,
    `<text x="${width - gap}" y="28" font-size="12" text-anchor="end" fill="${TEXT}">${escapeXml(when)}</text>`,
    ...body,
    '</svg>',
  ].join('\n');
}

/** Prometheus' `/api/v1/query_range` answer. */
export const QueryRangeResponseSchema = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('matrix'),
    result: z.array(
      z.object({
        metric: z.record(z.string(), z.string()),
        values: z.array(z.tuple([z.number(), z.string()])),
      }),
    ),
  }),
});

/** A query_range answer as named series: each Prometheus series one line, named by the target's legend format. */
export function seriesOf(response: unknown, legendFormat: string | undefined): Series[] {
  const parsed = QueryRangeResponseSchema.parse(response);
  return parsed.data.result
    .map((r) => ({
      name: legendOf(legendFormat, r.metric),
      points: r.values.map(([t, v]): [number, number] => [t, Number(v)]),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
