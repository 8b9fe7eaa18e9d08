import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { buildWebhookClients, uninstallTmc, type UninstallTmcReport } from '../../webhooks';
import { kcpKubeconfigOf, withCommonOptions, withStatusCredentials, type WebhookOptions } from './webhooks';

interface UninstallOptions extends WebhookOptions {
  purge?: boolean;
  yes?: boolean;
}

/** Asks on a terminal; anywhere else (CI, a pipe) there is nobody to ask, and --yes is required. */
async function confirmed(options: UninstallOptions, clusters: string[]): Promise<boolean> {
  if (options.yes) return true;
  if (!process.stdin.isTTY)
    throw new Error('tmc uninstall changes kcp and the clusters: run it on a terminal to confirm, or pass --yes');
  const what = options.purge
    ? `and DELETE everything tmc applied on ${clusters.join(', ') || 'no cluster'}`
    : 'leaving what tmc applied on the clusters running';
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(`Remove tmc's webhooks and finalizers from ${options.workspace}, ${what}? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

function describe(report: UninstallTmcReport): string {
  const lines = report.webhooks.map((w) => `${w.target}\t${w.kind}/${w.name}\t${w.result}`);
  lines.push(`kcp objects released (tmc finalizer and placement labels removed): ${report.released}`);
  for (const [cluster, count] of Object.entries(report.purged))
    lines.push(`${cluster}: deleted ${count} object(s) tmc applied`);
  for (const [cluster, count] of Object.entries(report.leftRunning))
    lines.push(`${cluster}: left ${count} object(s) tmc applied running (--purge deletes them)`);
  return `${lines.join('\n')}\n`;
}

/**
 * `tmc uninstall`: takes tmc out of a kcp workspace and its clusters (lib/webhooks/uninstall-tmc.ts). The stack itself
 * is removed with `cdk destroy` (docs/deploy.md, "Teardown").
 */
export function registerUninstallCommand(program: Command): void {
  withCommonOptions(
    program
      .command('uninstall')
      .description(
        "Remove tmc's webhooks and finalizers from a kcp workspace; workloads on the clusters keep running unless --purge",
      )
      .option('--purge', 'also delete every object tmc applied on the --cluster clusters')
      .option('-y, --yes', 'do not ask for confirmation'),
  ).action(async (options: UninstallOptions) => {
    const clusterSpecs = Object.entries(options.cluster ?? {}).map(([name, kubeconfig]) => ({ name, kubeconfig }));
    if (
      !(await confirmed(
        options,
        clusterSpecs.map((c) => c.name),
      ))
    ) {
      process.stdout.write('Nothing changed\n');
      return;
    }
    const request = { workspace: options.workspace, kcpKubeconfig: kcpKubeconfigOf(options), clusters: clusterSpecs };
    const clients = buildWebhookClients({ ...request, url: '' });
    try {
      const report = await withStatusCredentials(options, (statusCredentials) =>
        uninstallTmc({
          ...request,
          statusCredentials,
          purge: options.purge,
          clients: { kcp: clients.kcp, clusters: Object.fromEntries(clients.clusters.map((c) => [c.name, c.client])) },
        }),
      );
      process.stdout.write(describe(report));
    } finally {
      clients.close();
    }
  });
}
