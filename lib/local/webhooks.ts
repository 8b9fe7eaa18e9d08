import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { StackLogger } from './log';

/** What the local stack hands to lib/webhooks' `installWebhooks` (the same code `tmc webhooks install` runs). */
export interface WebhookInstallRequest {
  /** tmc's HTTP API base URL; the webhook paths come from ROUTES. */
  url: string;
  /** Bearer token kcp and the clusters present. */
  token: string;
  workspace: string;
  kcpKubeconfig: string;
  clusters: Array<{ name: string; kubeconfig: string }>;
}

type InstallWebhooks = (request: WebhookInstallRequest) => Promise<unknown>;

/**
 * Loads lib/webhooks (built by the ingress work) by path, so the local stack starts before it exists: until then the
 * stack runs without webhooks and says so.
 */
export async function loadWebhookInstaller(projectRoot: string, logger: StackLogger): Promise<InstallWebhooks | undefined> {
  const path = join(projectRoot, 'lib', 'webhooks', 'index.ts');
  if (!existsSync(path)) {
    logger.warn('lib/webhooks is not built yet; kcp and the clusters will not call tmc', { path });
    return undefined;
  }
  const mod: unknown = await import(path);
  const install = typeof mod === 'object' && mod !== null ? (mod as { installWebhooks?: unknown }).installWebhooks : undefined;
  if (typeof install !== 'function') {
    logger.warn('lib/webhooks exports no installWebhooks; kcp and the clusters will not call tmc', { path });
    return undefined;
  }
  return install as InstallWebhooks;
}
