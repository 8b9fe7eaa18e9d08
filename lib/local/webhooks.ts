import { installWebhooks, type InstallWebhooksOptions, type InstallWebhooksResult } from '../webhooks';
import type { Log } from '../observability/log';

/**
 * Registers tmc's webhooks in kcp and every cluster with the same code `tmc webhooks install` runs against real kcp.
 * Returns the credentials the simulator's admission dispatcher presents (the bearer token, only to tmc's URL).
 */
export async function registerWebhooks(options: InstallWebhooksOptions, logger: Log): Promise<InstallWebhooksResult> {
  logger.info('Registering tmc webhooks in kcp and the clusters', {
    url: options.url,
    clusters: (options.clusters ?? []).length,
  });
  return installWebhooks(options);
}
