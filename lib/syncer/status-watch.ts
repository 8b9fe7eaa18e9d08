import { createHash } from 'node:crypto';
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { collectionPath } from '../adapters/kube/kube-cluster-client';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../api/labels';
import { KubeObjectSchema, type KubeObjectShape } from '../api/messages';
import { describeRef, objectKey } from '../api/object-ref';
import { asTmcError } from '../errors/tmc-error';
import { carriedStatus } from '../ingress/carried-object';
import { upstreamRefOf } from '../ingress/refs';
import type { Log } from '../observability/log';
import type { VwClient } from './vw-client';

type Gvr = { group: string; version: string; resource: string };

/**
 * Watches tmc's objects of each placed type on the cluster (list+watch: a watch without a resourceVersion starts with
 * every existing object, then resumes from the last one seen; a 410 starts over) and reports each changed status up
 * through the virtual workspace, onto the queue status-up reads. A status equal to the last reported is not sent.
 */
export class StatusWatch {
  private readonly watches = new Map<string, { abort?: AbortController; resourceVersion?: string }>();
  private readonly reported = new Map<string, string>();
  private stopped = false;

  constructor(
    private readonly config: KubeConfig,
    private readonly vw: VwClient,
    private readonly log: Log,
  ) {}

  /** Makes sure `types` are watched (types already watched keep their watch). */
  ensure(types: Gvr[]): void {
    for (const type of types) {
      const key = `${type.group}/${type.version}/${type.resource}`;
      if (this.watches.has(key) || type.resource === 'namespaces') continue;
      this.watches.set(key, {});
      void this.start(key, type, 0);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watches.values()) w.abort?.abort();
  }

  private async start(key: string, type: Gvr, failures: number): Promise<void> {
    if (this.stopped) return;
    const state = this.watches.get(key);
    if (state === undefined) return;
    const restart = (after: number): void => {
      if (this.stopped) return;
      setTimeout(() => void this.start(key, type, after > 0 ? failures + 1 : 0), after).unref();
    };
    try {
      state.abort = await new Watch(this.config).watch(
        collectionPath(type),
        {
          labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
          allowWatchBookmarks: true,
          ...(state.resourceVersion ? { resourceVersion: state.resourceVersion } : {}),
        },
        (phase, object: unknown) => {
          const parsed = KubeObjectSchema.safeParse(object);
          if (!parsed.success) return;
          const rv = parsed.data.metadata.resourceVersion;
          if (typeof rv === 'string' && rv !== '') state.resourceVersion = rv;
          if (phase === 'ADDED' || phase === 'MODIFIED') void this.report(parsed.data);
          if (phase === 'ERROR') state.resourceVersion = undefined; // 410 Gone: the next watch starts from a fresh list
        },
        (err: unknown) => {
          if (err) this.log.debug('The status watch ended; resuming', { gvr: key, error: String(err) });
          // A closed watch resumes at once; one that failed backs off (bounded), a 410 having cleared the version.
          restart(err ? Math.min(30_000, 500 * 2 ** failures) : 0);
        },
      );
    } catch (err) {
      this.log.warn('Could not watch downstream status; retrying', { gvr: key, error: asTmcError(err).message });
      restart(Math.min(30_000, 500 * 2 ** failures));
    }
  }

  private async report(object: KubeObjectShape): Promise<void> {
    const ref = upstreamRefOf(object);
    const status = carriedStatus(object.status);
    if (ref === undefined || status === undefined) return;
    const key = objectKey(ref);
    const digest = createHash('sha256').update(JSON.stringify(status)).digest('hex');
    if (this.reported.get(key) === digest) return;
    try {
      const rv = object.metadata.resourceVersion;
      await this.vw.request('POST', 'status', {
        ref,
        status,
        ...(typeof rv === 'string' && rv !== '' ? { resourceVersion: rv } : {}),
      });
      this.reported.set(key, digest);
    } catch (err) {
      // Not recorded as reported: the next event or the next pass's relist sends it again.
      this.log.warn(`Could not report the status of ${describeRef(ref)}`, { error: asTmcError(err).message });
    }
  }
}
