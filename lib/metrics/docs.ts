import { METRICS } from './catalog';

const BEGIN =
  '<!-- metrics:begin (generated from lib/metrics/catalog.ts by `npx tsx scripts/generate-metric-docs.ts`) -->';
const END = '<!-- metrics:end -->';

/** The metric table of docs/metrics.md, generated from the catalog so the two cannot drift. */
export function renderMetricTable(): string {
  const rows = METRICS.map(
    (m) =>
      `| \`${m.name}\` | ${m.type} | ${m.unit} | ${m.labels.map((l) => `\`${l}\``).join(', ') || '—'} | ${m.help} |`,
  );
  return [BEGIN, '| name | type | unit | labels | meaning |', '|---|---|---|---|---|', ...rows, END].join('\n');
}

/** Replaces the generated block in a markdown document. */
export function replaceMetricTable(markdown: string): string {
  const start = markdown.indexOf(BEGIN);
  const end = markdown.indexOf(END);
  if (start < 0 || end < 0) throw new Error('docs/metrics.md has no metrics:begin/metrics:end block');
  return markdown.slice(0, start) + renderMetricTable() + markdown.slice(end + END.length);
}
