import type { BackoffPolicy } from '../errors/backoff';
import type { CircuitBreaker } from '../errors/circuit-breaker';
import type { ReportClusterFailure } from '../health/report-cluster-failure';
import type { Log } from '../observability/log';
import type { Clock } from '../ports/clock';
import type { EventRecorder } from '../ports/event-recorder';
import type { KubeConnector } from '../ports/kube-client';
import type { SyncStateStore } from '../ports/sync-state-store';
import type { SyncerFeed } from '../ports/syncer-feed';
import type { Metrics } from '../ports/telemetry';
import type { ContentKeySource } from '../kube/canonical-hash';
import type { KeyedLock } from './keyed-lock';
import type { StatusRefresher } from '../ports/status-refresher';

/** Everything the sync use case talks to; built once per container (lib/runtime/sync-apply.ts). */
export interface SyncApplyDeps {
  kube: KubeConnector;
  syncState: SyncStateStore;
  /** Refreshes the kcp object's status when a sync outcome changed (absent in tests that do not look at status). */
  status?: StatusRefresher;
  metrics: Metrics;
  log: Log;
  /** Namespaces known to exist downstream, per container. */
  namespaces: Set<string>;
  /** Per (object, cluster) and per namespace serialisation within the container. */
  locks: KeyedLock;
  now?: Clock;
  backoff?: BackoffPolicy;
  random?: () => number;
  /**
   * The per-cluster circuit shared by every container (DynamoDB, docs/health.md): while it is open, messages for the
   * cluster are deferred without a request, so a dead cluster costs one probe per interval instead of a timeout per
   * message. Absent: no circuit (tests of the sync logic alone).
   */
  breaker?: CircuitBreaker;
  /**
   * Feeds an unreachable cluster into its health at once (lib/health/report-cluster-failure.ts), so that failover
   * does not wait for the next health-probe tick. Absent: only the probe judges health.
   */
  reportClusterFailure?: ReportClusterFailure;
  /** The key Secret content hashes are made with (lib/kube/canonical-hash.ts); read only when a Secret is synced. */
  contentKey: ContentKeySource;
  /** Tells pull-mode SyncTargets' syncers about their work (lib/sync/forward-to-syncer.ts); absent: they find it by listing. */
  syncers?: SyncerFeed;
  /** Events on the kcp object: Applied per cluster, a Warning per distinct failure (absent: none). */
  events?: EventRecorder;
}
