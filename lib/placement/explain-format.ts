import type { StoredDecision } from '../ports/decision-store';

function pad(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text + ' '.repeat(width - text.length);
}

function scoreText(scores: object | undefined): string {
  if (!scores) return '-';
  return (
    Object.entries(scores as Record<string, number>)
      .filter(([, v]) => v !== 0)
      .map(([k, v]) => `${k}=${Math.round(v * 10) / 10}`)
      .join(' ') || '0'
  );
}

/** `tmc placement explain`: the stored decision, every explained cluster, and what changed from the one before. */
export function formatExplanation(d: StoredDecision): string {
  const lines: string[] = [];
  lines.push(
    `Object:     ${d.ref.kind} ${d.ref.namespace ? `${d.ref.namespace}/` : ''}${d.ref.name} (workspace ${d.ref.workspace})`,
  );
  lines.push(`Decision:   version ${d.decisionVersion}, generation ${d.generation}, ${d.decidedAt}`);
  lines.push(`Placement:  ${d.placement ?? '-'}`);
  lines.push(`Scheduled:  ${d.scheduled ? 'True' : 'False'} (${d.reason})`);
  lines.push(`Message:    ${d.message}`);
  lines.push(
    `Clusters:   ${d.clusters.map((c) => (c.replicas !== undefined ? `${c.name}(${c.replicas})` : c.name)).join(', ') || '<none>'}`,
  );
  lines.push(
    `Changes:    +[${d.diff.added.join(',')}] -[${d.diff.removed.join(',')}] ~[${d.diff.changed.join(',')}] =[${d.diff.unchanged.join(',')}]`,
  );
  lines.push(
    `Weights:    ${Object.entries(d.weights)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  lines.push('');
  const width = Math.max(8, ...d.explanation.map((e) => e.cluster.length + 2));
  lines.push(`${pad('CLUSTER', width)}${pad('CHOSEN', 8)}${pad('TOTAL', 10)}${pad('FILTER', 28)}DETAIL / SCORES`);
  for (const e of d.explanation) {
    lines.push(
      `${pad(e.cluster, width)}${pad(e.chosen ? 'yes' : 'no', 8)}${pad(e.rejectedBy ? '-' : String(e.total), 10)}${pad(e.rejectedBy ?? '', 28)}${e.rejectedBy ? (e.detail ?? '') : `${scoreText(e.scores)}${e.detail ? `  (${e.detail})` : ''}`}`,
    );
  }
  if (d.explanationOmitted) lines.push(`… ${d.explanationOmitted} more cluster(s) not stored`);
  return `${lines.join('\n')}\n`;
}
