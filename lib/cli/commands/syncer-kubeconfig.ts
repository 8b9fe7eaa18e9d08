import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { DynamoStatusCredentialStore } from '../../adapters/dynamodb/status-credential-store';
import { LogicalClusterNameSchema } from '../../api/logical-cluster';
import { issueStatusCredential } from '../../auth/status-credentials';
import { readStackEndpoints } from '../../local/endpoints-file';
import { renderKubeconfig, writeKubeconfig } from '../../local/kubeconfig-files';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { SecretsManagerSyncerCredentials } from '../../adapters/secrets-manager/syncer-credential-secrets';
import { syncerCredential } from '../../auth/syncer-credentials';
import { DEFAULT_WORKSPACE } from '../../local/stack';
import { makeDynamoDocumentClient } from '../../runtime/aws';
import { syncerSubject } from '../../vw/syncer-view';

interface SyncerKubeconfigOptions {
  stateDir: string;
  workspace: string;
  rotate?: boolean;
  /** A deployed stack: its HTTP API (output ApiUrl); the credential lives in Secrets Manager, its digest in --table. */
  server?: string;
  table?: string;
  region?: string;
  stage: string;
}

/** `<state-dir>/syncers/<name>.kubeconfig`: the syncer's virtual-workspace credentials, as the local stack writes them. */
export function syncerKubeconfigPath(stateDir: string, name: string): string {
  return join(stateDir, 'syncers', `${name}.kubeconfig`);
}

/**
 * Prints a pull-mode SyncTarget's syncer kubeconfig from the local stack's state dir. `--rotate` issues a new
 * credential first (its digest stored beside the old one, which keeps working for the store's grace period, so a
 * running syncer is not cut off) and rewrites the file.
 */
async function kubeconfigAction(name: string, options: SyncerKubeconfigOptions): Promise<void> {
  const workspace = LogicalClusterNameSchema.safeParse(options.workspace);
  if (!workspace.success)
    throw new Error(`--workspace ${options.workspace} is not a workspace path (e.g. root:default)`);
  if (options.server !== undefined) return deployedKubeconfig(name, workspace.data, options);
  const path = syncerKubeconfigPath(options.stateDir, name);
  if (options.rotate) {
    const endpoints = readStackEndpoints(options.stateDir);
    if (endpoints === undefined)
      throw new Error(
        `No local stack is running on ${options.stateDir} (no endpoints.json): start one with \`npm start -- --pull-cluster ${name}\`, or pass --state-dir`,
      );
    const doc = makeDynamoDocumentClient({
      region: endpoints.region,
      dynamodbEndpoint: endpoints.dynamodb,
      sqsEndpoint: undefined,
    });
    try {
      const token = await issueStatusCredential(
        new DynamoStatusCredentialStore(doc, endpoints.table, { kind: 'SYNCERCRED' }),
        syncerSubject(workspace.data, name),
      );
      writeKubeconfig(path, {
        name: `syncer-${name}`,
        server: `${endpoints.api.replace(/\/+$/, '')}/syncers/${workspace.data}/${name}`,
        token,
      });
    } finally {
      doc.destroy();
    }
  }
  if (!existsSync(path))
    throw new Error(
      `No syncer credentials for ${name} at ${path}: is it a pull cluster of the local stack (\`npm start -- --pull-cluster ${name}\`)?`,
    );
  process.stdout.write(readFileSync(path, 'utf8'));
}

/**
 * A deployed stack's syncer kubeconfig (docs/virtual-workspace.md): the credential from Secrets Manager
 * (`tmc/<stage>/syncers/…`), or with `--rotate` a new one stored there and its digest in the state table.
 */
async function deployedKubeconfig(name: string, workspace: string, options: SyncerKubeconfigOptions): Promise<void> {
  const server = z.url({ protocol: /^https?$/ }).safeParse(options.server);
  if (!server.success) throw new Error(`--server ${options.server} is not the stack's ApiUrl (https://…)`);
  if (options.table === undefined) throw new Error('--server needs --table (the stack output TableName)');
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const doc = makeDynamoDocumentClient({ region, dynamodbEndpoint: undefined, sqsEndpoint: undefined });
  const secretsClient = new SecretsManagerClient({ region });
  try {
    const token = await syncerCredential(
      {
        digests: new DynamoStatusCredentialStore(doc, options.table, { kind: 'SYNCERCRED' }),
        secrets: new SecretsManagerSyncerCredentials(secretsClient),
      },
      { stage: options.stage, workspace, syncTarget: name, rotate: options.rotate === true },
    );
    process.stdout.write(
      renderKubeconfig({
        name: `syncer-${name}`,
        server: `${server.data.replace(/\/+$/, '')}/syncers/${workspace}/${name}`,
        token,
      }),
    );
  } finally {
    doc.destroy();
    secretsClient.destroy();
  }
}

export function registerSyncerKubeconfigCommand(syncer: Command): void {
  syncer
    .command('kubeconfig <synctarget>')
    .description(
      "Print a pull-mode SyncTarget's syncer credentials (its --kcp-kubeconfig) from the local stack, or with --server a deployed one; --rotate issues new ones",
    )
    .option('--state-dir <dir>', 'state directory of the running local stack', '.tmc')
    .option('-w, --workspace <path>', 'kcp workspace of the SyncTarget', DEFAULT_WORKSPACE)
    .option('--rotate', 'issue new credentials and rewrite the file; the old ones keep working for the grace period')
    .option(
      '--server <url>',
      "a deployed stack's HTTP API (output ApiUrl): credentials from Secrets Manager, not --state-dir",
    )
    .option('--table <name>', 'with --server: the state table (output TableName)')
    .option('--region <region>', 'with --server: AWS region (default AWS_REGION)')
    .option(
      '--stage <stage>',
      'with --server: the stage, whose tmc/<stage>/syncers/ secrets hold the credentials',
      'dev',
    )
    .action((name: string, options: SyncerKubeconfigOptions) => kubeconfigAction(name, options));
}
