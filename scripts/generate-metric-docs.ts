// Regenerates the metric table in docs/metrics.md from lib/metrics/catalog.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { replaceMetricTable } from '../lib/metrics/docs';

writeFileSync('docs/metrics.md', replaceMetricTable(readFileSync('docs/metrics.md', 'utf8')));
