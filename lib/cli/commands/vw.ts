import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { LogicalClusterNameSchema } from '../../api/logical-cluster';
import { AGGREGATED_VIEW_PREFIX } from '../../api-http/aggregated-view';
import { readStackEndpoints } from '../../local/endpoints-file';
import { renderKubeconfig, writeKubeconfig, type KubeconfigSpec } from '../../local/kubeconfig-files';
import { DEFAULT_WORKSPACE } from '../../local/stack';

interface VwKubeconfigOptions {
  stateDir: string;
  workspace: string;
  server?: string;
  tokenFile?: string;
  output?: string;
}

/** The kubeconfig name, so `kubectl config get-contexts` says what it points at. */
const CONTEXT = 'tmc-aggregated-view';

/**
 * The kubeconfig for the aggregated view of `workspace` served by the tmc HTTP API at `apiUrl`. kubectl sends the
 * token only over TLS: a deployed API's certificate is verified; the local stack answers TLS on its API port with a
 * certificate made at start, which is not.
 */
export function aggregatedViewKubeconfig(
  apiUrl: string,
  workspace: string,
  token: string,
  local: boolean,
): KubeconfigSpec {
  const base = local ? apiUrl.replace(/^http:/, 'https:') : apiUrl;
  const server = `${base.replace(/\/+$/, '')}${AGGREGATED_VIEW_PREFIX}clusters/${workspace}`;
  return { name: CONTEXT, server, token, insecureSkipTlsVerify: local };
}

function tokenFrom(path: string): string {
  if (!existsSync(path))
    throw new Error(
      `No token at ${path}: start the local stack with \`npm start\`, or pass --token-file with a webhook token of your deployment (docs/virtual-workspace.md)`,
    );
  const token = readFileSync(path, 'utf8').trim();
  if (token === '') throw new Error(`${path} is empty: it should hold a bearer token`);
  return token;
}

function kubeconfigAction(options: VwKubeconfigOptions): void {
  const workspace = LogicalClusterNameSchema.safeParse(options.workspace);
  if (!workspace.success)
    throw new Error(`--workspace ${options.workspace} is not a workspace path (e.g. root:default)`);
  const server = options.server ?? readStackEndpoints(options.stateDir)?.api;
  if (server === undefined) {
    throw new Error(
      `No local stack is running on ${options.stateDir} (no endpoints.json): start one with \`npm start\`, pass --state-dir, or pass --server with a deployment's ApiUrl`,
    );
  }
  const spec = aggregatedViewKubeconfig(
    server,
    workspace.data,
    tokenFrom(options.tokenFile ?? join(options.stateDir, 'webhook-token')),
    options.server === undefined,
  );
  if (options.output === '-') {
    process.stdout.write(renderKubeconfig(spec));
    return;
  }
  const output = options.output ?? join(options.stateDir, 'vw.kubeconfig');
  writeKubeconfig(output, spec);
  const shown = relative(process.cwd(), output).startsWith('..') ? output : relative(process.cwd(), output);
  process.stdout.write(
    `Wrote ${shown}: every copy of workspace ${workspace.data}'s objects on every cluster, read-only\n  kubectl --kubeconfig ${shown} get deployments -A\n`,
  );
}

export function registerVwCommand(program: Command): void {
  const vw = program.command('vw').description("tmc's virtual workspaces");
  vw.command('kubeconfig')
    .description(
      "Write a kubeconfig for the user's aggregated view: every copy on every cluster, read-only, for kubectl",
    )
    .option('--state-dir <dir>', 'state directory of the running local stack', '.tmc')
    .option('-w, --workspace <path>', 'kcp workspace whose copies the view shows', DEFAULT_WORKSPACE)
    .option('--server <url>', "tmc's HTTP API (default: the local stack on --state-dir; a deployment's ApiUrl output)")
    .option('--token-file <path>', 'file holding the bearer token (default: <state-dir>/webhook-token)')
    .option('-o, --output <path>', 'where to write it; - prints it (default: <state-dir>/vw.kubeconfig)')
    .action((options: VwKubeconfigOptions) => kubeconfigAction(options));
}
