import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_RESOURCES } from '../../../lib/kube-api/resource-catalog';

/** Issue 17: docs/syncer.md's kinds table names every kind the API serves, with its scope, order and status. */
describe('docs/syncer.md kinds table', () => {
  const doc = readFileSync(join(__dirname, '../../../docs/syncer.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Kinds and how each is handled'), doc.indexOf('### Cluster-scoped objects'));
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| kind') && !line.startsWith('| ---'))
    .map((line) => line.split('|').map((cell) => cell.trim()));

  it('has a scope, placement, order and status cell in every row', () => {
    expect(rows.length).toBeGreaterThan(10);
    for (const row of rows) expect(row.slice(1, 6).every((cell) => cell !== '')).toBe(true);
  });

  it.each(BUILTIN_RESOURCES.map((r) => [r.kind, r.group || 'core']))('names %s (%s)', (kind) => {
    const named = rows.some((row) => new RegExp(`(^|[ ,(])${kind}([ ,)]|$)`).test(row[1]));
    expect(named).toBe(true);
  });
});
