export {
  buildWebhookClients,
  installWebhooks,
  uninstallWebhooks,
  type WebhookClients,
  type InstallWebhooksOptions,
  type InstallWebhooksResult,
  type InstalledWebhook,
  type UninstallWebhooksOptions,
} from './install';
export { admissionKubeconfig, webhookCredentialsFor, type WebhookCredentialsFor } from './credentials';
export {
  APIS_WEBHOOK,
  DEFAULT_TMC_USER,
  NOT_AN_EVENT,
  STATUS_WEBHOOK,
  WORKLOADS_WEBHOOK,
  admissionPath,
  apisWebhook,
  skipOwnUpdates,
  statusWebhook,
  workloadsWebhook,
} from './configurations';
export { uninstallTmc, type UninstallTmcOptions, type UninstallTmcReport } from './uninstall-tmc';
