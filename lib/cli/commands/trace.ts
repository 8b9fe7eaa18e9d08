import type { Command } from 'commander';
import { readStackEndpoints } from '../../local/endpoints-file';
import { DEFAULT_WORKSPACE } from '../../local/stack';
import { formatTracePath, tracePath } from '../../observability/trace-path';
import { DynamoTraceStore } from '../../observability/trace-store';
import { makeDynamoDocumentClient } from '../../runtime/aws';
import { TABLE } from '../../runtime/resources';
import { parseObjectArg } from './placement';

interface TraceOptions {
  namespace?: string;
  workspace: string;
  stateDir: string;
  dynamodbEndpoint?: string;
  table?: string;
  region?: string;
  json?: boolean;
}

/**
 * Where the trace records are: flags and environment first (a deployed table), else the local stack running on
 * `--state-dir` (its endpoints file), else an error that says how to point at one.
 */
function tableLocation(options: TraceOptions): { endpoint?: string; table: string; region: string } {
  const local = options.dynamodbEndpoint === undefined ? readStackEndpoints(options.stateDir) : undefined;
  const endpoint = options.dynamodbEndpoint ?? local?.dynamodb;
  const region = options.region ?? local?.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const table = options.table ?? local?.table ?? process.env.TMC_TABLE_NAME;
  if (table === undefined) {
    throw new Error(
      `No local stack is running on ${options.stateDir} (no endpoints.json): start one with \`npm start\`, pass --state-dir, or name a deployed table with --table (and --region)`,
    );
  }
  return { endpoint, table, region };
}

/** Kinds tmc places or mirrors that have no namespace; anything else defaults to `default`, as kubectl does. */
const CLUSTER_SCOPED = new Set(['namespaces', 'synctargets', 'locations', 'placements', 'customresourcedefinitions', 'clusterroles', 'clusterrolebindings']);

async function trace(arg: string, options: TraceOptions): Promise<void> {
  const parsed = parseObjectArg(arg, options.namespace, options.workspace);
  const ref = options.namespace === undefined && !CLUSTER_SCOPED.has(parsed.resource) ? { ...parsed, namespace: 'default' } : parsed;
  const where = tableLocation(options);
  const doc = makeDynamoDocumentClient({ region: where.region, dynamodbEndpoint: where.endpoint, sqsEndpoint: undefined });
  try {
    const recorded = await new DynamoTraceStore(doc, where.table).read(ref);
    if (recorded === undefined) {
      process.stderr.write(
        `No trace is recorded for ${arg} in ${options.workspace}${ref.namespace ? ` namespace ${ref.namespace}` : ''}: ` +
          'tmc records one when a change reaches its webhook (traces expire after 7 days; TMC_TRACE=off disables them)\n',
      );
      process.exitCode = 1;
      return;
    }
    const path = tracePath(recorded);
    process.stdout.write(options.json ? `${JSON.stringify({ ref, ...path }, null, 2)}\n` : formatTracePath(ref, path));
  } finally {
    doc.destroy();
  }
}

/** `tmc trace <kind>/<name>`; registered by lib/cli/commands/index.ts. See docs/observability.md. */
export function registerTraceCommand(program: Command): void {
  program
    .command('trace <object>')
    .description('Print the path of the last change of <kind>/<name>: ingress, placed, applied on each cluster, status back, with timings')
    .option('-n, --namespace <ns>', 'namespace of the object (default: default, none for cluster-scoped kinds)')
    .option('-w, --workspace <path>', 'kcp workspace', DEFAULT_WORKSPACE)
    .option('--state-dir <dir>', 'state directory of the running local stack', '.tmc')
    .option('--dynamodb-endpoint <url>', 'DynamoDB endpoint (default: the local stack on --state-dir)', process.env.TMC_DYNAMODB_ENDPOINT)
    .option('--table <name>', `state table (default: the local stack's, or TMC_TABLE_NAME; locally ${TABLE.baseName})`)
    .option('--region <region>', 'AWS region')
    .option('--json', 'print the path as JSON')
    .action((object: string, options: TraceOptions) => trace(object, options));
}
