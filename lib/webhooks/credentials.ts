import { stringify } from 'yaml';

/** What the simulator's admission dispatcher asks for a webhook URL (lib/sim/admission `credentialsFor`). */
export type WebhookCredentialsFor = (url: string) => { token?: string } | undefined;

/** Presents `token` to every webhook under tmc's API URL, and nothing to anyone else. */
export function webhookCredentialsFor(apiUrl: string, token: string): WebhookCredentialsFor {
  const base = apiUrl.replace(/\/+$/, '');
  return (url) => (url === base || url.startsWith(`${base}/`) ? { token } : undefined);
}

/**
 * The kubeconfig kube-apiserver (and kcp) read webhook credentials from: the file named by `kubeConfigFile` in the
 * `--admission-control-config-file` AdmissionConfiguration. Users are matched by the webhook's host[:port].
 * Written to a file by the operator; it holds the token, so it is never logged.
 */
export function admissionKubeconfig(apiUrl: string, token: string): string {
  const host = new URL(apiUrl).host;
  return stringify({ apiVersion: 'v1', kind: 'Config', users: [{ name: host, user: { token } }] });
}
