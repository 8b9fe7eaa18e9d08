import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { DynamoStatusCredentialStore } from '../../adapters/dynamodb/status-credential-store';
import { LogicalClusterNameSchema } from '../../api/logical-cluster';
import { issueStatusCredential } from '../../auth/status-credentials';
import { readStackEndpoints } from '../../local/endpoints-file';
import { writeKubeconfig } from '../../local/kubeconfig-files';
import { DEFAULT_WORKSPACE } from '../../local/stack';
import { makeDynamoDocumentClient } from '../../runtime/aws';
import { syncerSubject } from '../../vw/syncer-view';

interface SyncerKubeconfigOptions {
  stateDir: string;
  workspace: string;
  rotate?: boolean;
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

export function registerSyncerKubeconfigCommand(syncer: Command): void {
  syncer
    .command('kubeconfig <synctarget>')
    .description("Print a pull-mode SyncTarget's syncer credentials (its --kcp-kubeconfig); --rotate issues new ones")
    .option('--state-dir <dir>', 'state directory of the running local stack', '.tmc')
    .option('-w, --workspace <path>', 'kcp workspace of the SyncTarget', DEFAULT_WORKSPACE)
    .option('--rotate', 'issue new credentials and rewrite the file; the old ones keep working for the grace period')
    .action((name: string, options: SyncerKubeconfigOptions) => kubeconfigAction(name, options));
}
