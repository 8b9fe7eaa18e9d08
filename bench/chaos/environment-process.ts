import { z } from 'zod';
import {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  SOURCE_ANNOTATION,
  SOURCE_UID_LABEL,
  WORKSPACE_ANNOTATION,
} from '../../lib/api/labels';
import type { KubeObject } from '../../lib/kube/object';
import { startLocalEnvironment } from '../../lib/local/environment';
import { createStackLogger } from '../../lib/local/log';
import type { SimClusterStore } from '../../lib/sim';
import { FaultSettingsSchema } from '../../lib/sim/faults';
import { chaosQueues } from './queues';
import {
  type ChildMessage,
  ParentMessageSchema,
  parseSourceAnnotation,
  type SourceRef,
  type SourceState,
} from './protocol';

/**
 * The chaos suite's environment process (bench/chaos/processes.ts starts it): dynalite, fauxqs and the simulated kcp
 * and clusters, which outlive every crash of tmc's functions. It applies fault settings sent over IPC (in process, so
 * `down` can be set and cleared) and webhook losses, crashes on request (after saving kcp and the clusters, when
 * `persist`; started again with `resume`, it is the same kcp on the same ports), and reports each deletion of a tmc copy on a cluster with kcp's state of its source
 * read in the same tick, which no reader from outside could see without a race.
 */
const Args = z.object({
  projectRoot: z.string(),
  stateDir: z.string(),
  apiUrl: z.url(),
  workspaces: z.array(z.string()).min(1),
  clusters: z.number().int().positive(),
  readyDelayMs: z.number().nonnegative(),
  visibilityTimeoutSeconds: z.number().int().positive(),
  persist: z.boolean(),
  resume: z.boolean(),
});

const send = (message: ChildMessage): void => void process.send?.(message);
const args = Args.parse(JSON.parse(process.argv[2] ?? '{}'));
const logger = createStackLogger({ pretty: false });
const running = await startLocalEnvironment({
  ...args,
  logger,
  simulator: { readyDelayMs: args.readyDelayMs },
  queues: chaosQueues(args.visibilityTimeoutSeconds),
});
const sim = running.simulation.handle;

function sourceState(
  kcp: SimClusterStore,
  copy: KubeObject,
): { workspace: string; source: SourceRef; state: SourceState } | undefined {
  const labels = copy.metadata.labels ?? {};
  const annotations = copy.metadata.annotations ?? {};
  if (labels[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) return undefined;
  const workspace = annotations[WORKSPACE_ANNOTATION];
  const source = parseSourceAnnotation(annotations[SOURCE_ANNOTATION]);
  if (workspace === undefined || source === undefined) return undefined;
  const gvr = { group: source.group, version: source.version, resource: source.resource };
  if (source.namespace !== undefined) {
    const namespace = kcp.get({ group: '', version: 'v1', resource: 'namespaces' }, undefined, source.namespace);
    if (namespace?.metadata.deletionTimestamp !== undefined) return { workspace, source, state: 'namespace-deleting' };
  }
  const object = kcp.get(gvr, source.namespace, source.name);
  if (object === undefined) return { workspace, source, state: 'absent' };
  if (object.metadata.deletionTimestamp !== undefined) return { workspace, source, state: 'deleting' };
  return { workspace, source, state: object.metadata.uid === labels[SOURCE_UID_LABEL] ? 'exists' : 'replaced' };
}

for (const [cluster, server] of Object.entries(sim.clusters)) {
  server.store().subscribe((event) => {
    if (event.type !== 'DELETED' || event.gvr.resource === 'namespaces') return;
    const workspace = event.object.metadata.annotations?.[WORKSPACE_ANNOTATION];
    if (workspace === undefined || !args.workspaces.includes(workspace)) return;
    const found = sourceState(sim.kcp.store(workspace), event.object);
    if (found)
      send({
        type: 'copy-deleted',
        at: Date.now(),
        cluster,
        workspace: found.workspace,
        source: found.source,
        sourceState: found.state,
      });
  });
}

process.on('message', (raw: unknown) => {
  const message = ParentMessageSchema.safeParse(raw);
  if (!message.success) return;
  if (message.data.type === 'stop') {
    void running.stop().finally(() => process.exit(0));
    return;
  }
  if (message.data.type === 'crash') {
    running.save();
    process.kill(process.pid, 'SIGKILL');
    return;
  }
  const { id, server } = message.data;
  const target = server === 'kcp' ? sim.kcp : sim.clusters[server];
  if (message.data.type === 'lose-webhooks') {
    if (target === undefined) send({ type: 'faults-set', id, error: `no simulated server ${server}` });
    else {
      if (message.data.lost) target.webhookFaults.set('*', { kind: 'refuse' });
      else target.webhookFaults.clear();
      logger.info('Webhook calls', { server, lost: message.data.lost });
      send({ type: 'faults-set', id });
    }
    return;
  }
  const settings = message.data.settings;
  const parsed = FaultSettingsSchema.safeParse(settings);
  if (target === undefined || !parsed.success) {
    send({
      type: 'faults-set',
      id,
      error:
        target === undefined ? `no simulated server ${server}` : parsed.error?.issues.map((i) => i.message).join('; '),
    });
    return;
  }
  const fired = (target.faults.state().rules ?? []).reduce((sum, rule) => sum + rule.fired, 0);
  target.faults.set(parsed.data);
  logger.info('Faults set', { server, settings: parsed.data, firedBefore: fired });
  send({ type: 'faults-set', id, fired });
});
// The parent's death closes the channel: nothing is left to serve.
process.on('disconnect', () => void running.stop().finally(() => process.exit(0)));
send({ type: 'ready' });
