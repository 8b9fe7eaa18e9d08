import type { Command } from 'commander';
import { DEFAULT_WORKSPACE } from '../../local/stack';
import { formatTracePath, tracePath } from '../../observability/trace-path';
import { DynamoTraceStore } from '../../adapters/dynamodb/trace-store';
import { withDefaultNamespace } from './default-namespace';
import { DynamoObjectSnapshotReader } from '../../adapters/dynamodb/object-snapshot-reader';
import { parseObjectArg } from './placement';
import { openStateTable, withStateTableOptions, type StateTableOptions } from './state-table';

interface TraceOptions extends StateTableOptions {
  namespace?: string;
  workspace: string;
  kcpKubeconfig: string;
  json?: boolean;
}

async function trace(arg: string, options: TraceOptions): Promise<void> {
  const parsed = parseObjectArg(arg, options.namespace, options.workspace);
  const ref = withDefaultNamespace(parsed, options.namespace, options.kcpKubeconfig);
  const { doc, table } = openStateTable(options);
  try {
    const recorded = await new DynamoTraceStore(doc, table).read(ref);
    if (recorded === undefined) {
      process.stderr.write(
        `No trace is recorded for ${arg} in ${options.workspace}${ref.namespace ? ` namespace ${ref.namespace}` : ''}: ` +
          'tmc records one when a change reaches its webhook (traces expire after 7 days)\n',
      );
      process.exitCode = 1;
      return;
    }
    // Checked against what DynamoDB holds now: work done under another trace (a retry, the sweep) is done.
    const state = await new DynamoObjectSnapshotReader({ doc, tableName: table }).read(ref);
    const path = tracePath(recorded, state, new Date().toISOString());
    process.stdout.write(options.json ? `${JSON.stringify({ ref, ...path }, null, 2)}\n` : formatTracePath(ref, path));
  } finally {
    doc.destroy();
  }
}

/** `tmc trace <kind>/<name>`; registered by lib/cli/commands/index.ts. See docs/observability.md. */
export function registerTraceCommand(program: Command): void {
  withStateTableOptions(program.command('trace <object>'))
    .description(
      'Print the path of the last change of <kind>/<name>: ingress, placed, applied on each cluster, status back, with timings',
    )
    .option('-n, --namespace <ns>', "namespace of the object (default: the kubeconfig context's, then default)")
    .option('-w, --workspace <path>', 'kcp workspace', DEFAULT_WORKSPACE)
    .option(
      '--kcp-kubeconfig <path>',
      'kubeconfig of kcp, for its context namespace',
      process.env.TMC_KCP_KUBECONFIG ?? '.tmc/kcp.kubeconfig',
    )
    .option('--json', 'print the path as JSON')
    .action((object: string, options: TraceOptions) => trace(object, options));
}
