import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { findProjectRoot } from '../../local/paths';
import { DEFAULT_WORKSPACE } from '../../local/stack';
import { collectPairs } from './options';

interface WebhookOptions {
  url: string;
  token?: string;
  tokenFile?: string;
  workspace: string;
  kcpKubeconfig: string;
  cluster?: Record<string, string>;
}

async function loadWebhooksModule(): Promise<Record<string, unknown>> {
  const path = join(findProjectRoot(), 'lib', 'webhooks', 'index.ts');
  if (!existsSync(path)) throw new Error('Webhook registration (lib/webhooks) is not built yet');
  const mod: unknown = await import(path);
  if (typeof mod !== 'object' || mod === null) throw new Error('lib/webhooks could not be loaded');
  return mod as Record<string, unknown>;
}

function tokenOf(options: WebhookOptions): string | undefined {
  if (options.token !== undefined) return options.token;
  if (options.tokenFile !== undefined) return readFileSync(options.tokenFile, 'utf8').trim();
  return process.env.TMC_WEBHOOK_TOKEN;
}

function requestOf(options: WebhookOptions): Record<string, unknown> {
  return {
    url: options.url,
    token: tokenOf(options),
    workspace: options.workspace,
    kcpKubeconfig: options.kcpKubeconfig,
    clusters: Object.entries(options.cluster ?? {}).map(([name, kubeconfig]) => ({ name, kubeconfig })),
  };
}

function withCommonOptions(command: Command): Command {
  return command
    .requiredOption('--kcp-kubeconfig <path>', 'kubeconfig of the kcp to register in')
    .option('-w, --workspace <path>', 'kcp workspace', DEFAULT_WORKSPACE)
    .option('--cluster <name=kubeconfig>', 'a physical cluster to register the status webhook in (repeatable)', collectPairs('NAME=KUBECONFIG'));
}

/** `tmc webhooks install|uninstall`: the registration code lives in lib/webhooks; this only parses flags. */
export function registerWebhooksCommand(program: Command): void {
  const webhooks = program.command('webhooks').description("Register tmc's admission and status webhooks in kcp and clusters");
  withCommonOptions(
    webhooks
      .command('install')
      .description('Register (or update) the webhooks, pointing at tmc\'s API')
      .requiredOption('--url <url>', "tmc's HTTP API base URL")
      .option('--token <token>', 'bearer token kcp and clusters present (or TMC_WEBHOOK_TOKEN)')
      .option('--token-file <path>', 'file holding the bearer token'),
  ).action(async (options: WebhookOptions) => {
    const mod = await loadWebhooksModule();
    if (typeof mod.installWebhooks !== 'function') throw new Error('lib/webhooks exports no installWebhooks');
    await (mod.installWebhooks as (request: Record<string, unknown>) => Promise<unknown>)(requestOf(options));
    process.stdout.write('Webhooks installed\n');
  });
  withCommonOptions(webhooks.command('uninstall').description('Remove the webhooks')).action(async (options: WebhookOptions) => {
    const mod = await loadWebhooksModule();
    if (typeof mod.uninstallWebhooks !== 'function') throw new Error('lib/webhooks exports no uninstallWebhooks');
    await (mod.uninstallWebhooks as (request: Record<string, unknown>) => Promise<unknown>)(requestOf({ ...options, url: '' }));
    process.stdout.write('Webhooks removed\n');
  });
}
