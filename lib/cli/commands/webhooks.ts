import { readFileSync, writeFileSync } from 'node:fs';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Command } from 'commander';
import { SecretsManagerSecretReader } from '../../adapters/kube/secret-reader';
import { DynamoStatusCredentialStore } from '../../adapters/dynamodb/status-credential-store';
import { makeDynamoDocumentClient } from '../../runtime/aws';
import { parseTokenSecret } from '../../auth/token-source';
import { rotateWebhookToken, type TokenSecretStore } from '../../auth/token-rotation';
import { DEFAULT_TMC_USER, installWebhooks, uninstallWebhooks, type InstallWebhooksResult } from '../../webhooks';
import { DEFAULT_WORKSPACE } from '../../local/stack';
import { collectPairs } from './options';

export interface WebhookOptions {
  url: string;
  token?: string;
  tokenFile?: string;
  tokenSecret?: string;
  workspace: string;
  kcpKubeconfig?: string;
  kubeconfig?: string;
  cluster?: Record<string, string>;
  tmcUser?: string;
  table?: string;
  region?: string;
  dynamodbEndpoint?: string;
  caBundle?: string;
  admissionKubeconfig?: string;
}

/**
 * With `--table` (the stack output TableName), each cluster's status webhook URL carries a credential of its own,
 * kept hashed in that table: managed clusters (EKS, GKE, AKS), which send no bearer token, are authenticated by it.
 */
export async function withStatusCredentials<T>(
  options: WebhookOptions,
  run: (store: DynamoStatusCredentialStore | undefined) => Promise<T>,
): Promise<T> {
  if (options.table === undefined) return run(undefined);
  const doc = makeDynamoDocumentClient({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    dynamodbEndpoint: options.dynamodbEndpoint,
    sqsEndpoint: undefined,
  });
  try {
    return await run(new DynamoStatusCredentialStore(doc, options.table));
  } finally {
    doc.destroy();
  }
}

/** `--kcp-kubeconfig`, or `--kubeconfig` as kubectl users type it; one is required. */
export function kcpKubeconfigOf(options: WebhookOptions): string {
  const path = options.kcpKubeconfig ?? options.kubeconfig;
  if (path === undefined)
    throw new Error(
      "Name the kcp to register in: --kubeconfig <path> (kcp's kubeconfig; its server may name any workspace)",
    );
  return path;
}

/**
 * The token kcp and the clusters will present. `--token-secret` reads the same Secrets Manager secret the functions
 * accept tokens from (the stack output WebhookTokensSecretArn) and takes its first token: during a rotation the new
 * one is listed first (docs/webhooks.md).
 */
async function tokenOf(options: WebhookOptions): Promise<string | undefined> {
  if (options.token !== undefined) return options.token;
  if (options.tokenFile !== undefined) return readFileSync(options.tokenFile, 'utf8').trim();
  if (options.tokenSecret !== undefined) {
    const value = await new SecretsManagerSecretReader(new SecretsManagerClient({})).read(options.tokenSecret);
    return parseTokenSecret(value)[0];
  }
  return process.env.TMC_WEBHOOK_TOKEN;
}

async function requestOf(options: WebhookOptions): Promise<{
  url: string;
  token?: string;
  workspace: string;
  kcpKubeconfig: string;
  tmcUser?: string;
  caBundle?: string;
  clusters: Array<{ name: string; kubeconfig: string }>;
}> {
  return {
    url: options.url,
    // The PEM of the CA that signed tmc's API certificate (a private endpoint); the configurations carry it base64.
    ...(options.caBundle === undefined ? {} : { caBundle: readFileSync(options.caBundle, 'utf8') }),
    tmcUser: options.tmcUser,
    token: await tokenOf(options),
    workspace: options.workspace,
    kcpKubeconfig: kcpKubeconfigOf(options),
    clusters: Object.entries(options.cluster ?? {}).map(([name, kubeconfig]) => ({ name, kubeconfig })),
  };
}

function describe(result: InstallWebhooksResult): string {
  return result.webhooks.map((w) => `${w.target}\t${w.kind}/${w.name}\t${w.result}\n`).join('');
}

export function withCommonOptions(command: Command): Command {
  return command
    .option('--kubeconfig <path>', 'kubeconfig of the kcp to register in')
    .option('--kcp-kubeconfig <path>', 'the same as --kubeconfig')
    .option('-w, --workspace <path>', 'kcp workspace', DEFAULT_WORKSPACE)
    .option(
      '--cluster <name=kubeconfig>',
      'a physical cluster to register the status webhook in (repeatable)',
      collectPairs('NAME=KUBECONFIG'),
    )
    .option(
      '--table <name>',
      "tmc's state table (stack output TableName): status webhook URLs carry a per-cluster credential kept there (managed clusters)",
    )
    .option('--region <region>', 'AWS region of --table (default AWS_REGION)')
    .option('--dynamodb-endpoint <url>', "DynamoDB endpoint of --table (the local stack's)");
}

/** The token secret in Secrets Manager, read uncached (a rotation must start from the current value). */
function secretsManagerTokenStore(client: SecretsManagerClient): TokenSecretStore {
  return {
    read: async (arn) => {
      const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
      if (out.SecretString === undefined) throw new Error(`Secret ${arn} has no string value`);
      return out.SecretString;
    },
    write: async (arn, value) => {
      await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: value }));
    },
  };
}

/** `tmc webhooks install|uninstall|rotate-token`: the registration code lives in lib/webhooks; this only parses flags. */
export function registerWebhooksCommand(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description("Register tmc's admission and status webhooks in kcp and clusters");
  withCommonOptions(
    webhooks
      .command('install')
      .description("Register (or update) the webhooks, pointing at tmc's API")
      .requiredOption('--url <url>', "tmc's HTTP API base URL")
      .option('--token <token>', 'bearer token kcp and clusters present (or TMC_WEBHOOK_TOKEN)')
      .option('--token-file <path>', 'file holding the bearer token')
      .option(
        '--token-secret <arn>',
        'Secrets Manager secret holding the webhook tokens (stack output WebhookTokensSecretArn)',
      )
      .option(
        '--tmc-user <username>',
        "the kcp username of tmc's own kubeconfig (`kubectl auth whoami` with it): kcp skips the workloads webhook for its updates; '' for none",
        DEFAULT_TMC_USER,
      )
      .option(
        '--ca-bundle <pem-file>',
        "CA certificate(s) that signed tmc's API endpoint, when not a public CA (written into every webhook's caBundle)",
      )
      .option(
        '--admission-kubeconfig <path>',
        "write the admission kubeconfig holding the token here (mode 0600), for kcp's and the clusters' AdmissionConfiguration",
      ),
  ).action(async (options: WebhookOptions) => {
    const request = await requestOf(options);
    const result = await withStatusCredentials(options, (statusCredentials) =>
      installWebhooks({ ...request, statusCredentials }),
    );
    process.stdout.write(describe(result));
    process.stdout.write(
      options.tmcUser
        ? `kcp will not call tmc-workloads for UPDATEs by ${options.tmcUser}: that must be the user of tmc's kcp kubeconfig, and nobody else (docs/webhooks.md)\n`
        : "tmc-workloads is called for every write, tmc's own included\n",
    );
    if (result.admissionKubeconfig !== undefined && options.admissionKubeconfig !== undefined) {
      writeFileSync(options.admissionKubeconfig, result.admissionKubeconfig, { mode: 0o600 });
      process.stdout.write(
        `Wrote the admission kubeconfig to ${options.admissionKubeconfig}: name it in kcp's (and each self-run cluster's) AdmissionConfiguration (docs/webhooks.md)\n`,
      );
    } else if (result.admissionKubeconfig !== undefined) {
      process.stdout.write(
        'kcp and kube-apiserver read the token from an admission kubeconfig: add --admission-kubeconfig <path> to write it (docs/webhooks.md)\n',
      );
    }
  });
  webhooks
    .command('rotate-token')
    .description(
      'Put a new webhook token first in the token secret; the previous ones stay accepted for the grace period',
    )
    .requiredOption(
      '--token-secret <arn>',
      'Secrets Manager secret holding the webhook tokens (stack output WebhookTokensSecretArn)',
    )
    .option('--grace-minutes <n>', 'minutes the previous tokens stay accepted', '60')
    .action(async (options: { tokenSecret: string; graceMinutes: string }) => {
      const minutes = Number(options.graceMinutes);
      if (!Number.isFinite(minutes) || minutes <= 0) throw new Error('--grace-minutes must be a positive number');
      const client = new SecretsManagerClient({});
      try {
        const { previousAcceptedUntil, previousCount } = await rotateWebhookToken(
          secretsManagerTokenStore(client),
          options.tokenSecret,
          { graceMs: minutes * 60_000 },
        );
        process.stdout.write(
          `The new token is first in ${options.tokenSecret}; ${previousCount} previous token(s) accepted until ${previousAcceptedUntil.toISOString()} (functions see the change within a minute).\n` +
            'Before then, run `tmc webhooks install --token-secret <arn> --admission-kubeconfig <file> …` and give kcp and each cluster the new admission kubeconfig (docs/webhooks.md).\n',
        );
      } finally {
        client.destroy();
      }
    });
  withCommonOptions(webhooks.command('uninstall').description('Remove the webhooks')).action(
    async (options: WebhookOptions) => {
      const { token: _token, ...request } = await requestOf({ ...options, url: '', token: '' });
      process.stdout.write(
        describe(
          await withStatusCredentials(options, (statusCredentials) =>
            uninstallWebhooks({ ...request, statusCredentials }),
          ),
        ),
      );
    },
  );
}
