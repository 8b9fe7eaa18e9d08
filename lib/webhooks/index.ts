export { installWebhooks, uninstallWebhooks, type InstallWebhooksOptions, type InstallWebhooksResult, type InstalledWebhook, type UninstallWebhooksOptions } from './install';
export { admissionKubeconfig, webhookCredentialsFor, type WebhookCredentialsFor } from './credentials';
export { APIS_WEBHOOK, STATUS_WEBHOOK, WORKLOADS_WEBHOOK, admissionPath, apisWebhook, statusWebhook, workloadsWebhook } from './configurations';
