import { randomUUID } from 'node:crypto';
import type { GroupVersionResource, KubeObject } from '../kube/object';
import type { AdmissionDispatcher, SimClusterStore, StoreEvent, WatchEventType } from './contracts';
import { apiVersionOf, gvrId, type ResourceInfo, resourcesFromCrd } from '../kube-api/resource-info';
import { BUILTIN_RESOURCES } from '../kube-api/resource-catalog';
import { ApiError } from '../kube-api/api-error';
import { applyDefaults, ClusterIpAllocator } from './defaults';

/** One monotonic resourceVersion per server, shared by all its object spaces (as etcd's revision is). */
export interface RevisionClock {
  next(): number;
  current(): number;
}

export interface HistoryEntry extends StoreEvent {
  rv: number;
  gvrKey: string;
  /** When it happened (epoch ms): the history keeps a window of time, as etcd does. */
  at: number;
}

/** Watch events kept per object space at most; an older resourceVersion gets 410 Gone. */
export const DEFAULT_WATCH_HISTORY = 50_000;
/**
 * And no older than this: kube-apiserver compacts etcd every 5 minutes, so a watch resuming from an older
 * resourceVersion gets 410 Gone and relists. Without it a stack left running under churn holds 50,000 old object
 * versions per object space.
 */
export const DEFAULT_WATCH_HISTORY_MS = 5 * 60_000;
/**
 * How long an Event lives after its last write: kube-apiserver's `--event-ttl` (default 1 h), which stores each Event
 * with an etcd lease of that length, renewed by every write; kcp serves Events the same way.
 */
export const DEFAULT_EVENT_TTL_MS = 60 * 60_000;
/** The limits and clock of an object space; tests shorten them. */
export interface ObjectSpaceOptions {
  /** Watch events kept at most (default {@link DEFAULT_WATCH_HISTORY}). */
  watchHistory?: number;
  /** And for at most this long (default {@link DEFAULT_WATCH_HISTORY_MS}). */
  watchHistoryMs?: number;
  /** Events are deleted this long after their last write (default {@link DEFAULT_EVENT_TTL_MS}). */
  eventTtlMs?: number;
  /** Epoch ms: the watch window's and the Event TTL's clock (the timers are Node's, which jest's fake timers drive). */
  now?: () => number;
}
const EVENTS_GVR = { group: '', version: 'v1', resource: 'events' };
/** The longest delay setTimeout takes (2^31 - 1 ms, ≈24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** How long the simulated namespace controller waits before emptying a deleted namespace (kube's takes seconds). */
const NAMESPACE_CLEANUP_DELAY_MS = 1000;
/** The longest wait between its attempts while admission refuses some of the deletes. */
const NAMESPACE_CLEANUP_MAX_DELAY_MS = 16_000;
/** Who kube's namespace controller is when its deletes go through admission. */
const NAMESPACE_CONTROLLER_USER = {
  username: 'system:serviceaccount:kube-system:namespace-controller',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
};
const CRD_GVR = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' };
const NAMESPACE_GVR = { group: '', version: 'v1', resource: 'namespaces' };

function key(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

const isEvents = (info: GroupVersionResource): boolean => info.group === '' && info.resource === 'events';

/** An Event's newest timestamp (epoch ms): its creation, last occurrence, series or managed-fields time. */
function lastWrittenAt(event: KubeObject): number | undefined {
  const series = event.series;
  const times = [
    event.metadata.creationTimestamp,
    event.lastTimestamp,
    event.eventTime,
    typeof series === 'object' && series !== null && 'lastObservedTime' in series ? series.lastObservedTime : undefined,
    ...(event.metadata.managedFields ?? []).map((entry) => entry.time),
  ]
    .map((t) => (typeof t === 'string' ? Date.parse(t) : NaN))
    .filter((t) => Number.isFinite(t));
  return times.length ? Math.max(...times) : undefined;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Everything but metadata and status: a change here bumps metadata.generation. */
function specOf(obj: KubeObject): string {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return JSON.stringify(rest);
}

/**
 * Equal but for resourceVersion and managedFields timestamps: kube-apiserver drops such an update as a no-op (its
 * managed-fields timestamp transformer), so re-applying the same manifest later writes nothing.
 */
function sameContent(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject): string =>
    JSON.stringify({ ...o, metadata: { ...o.metadata, resourceVersion: undefined, managedFields: undefined } });
  const fields = (o: KubeObject): string =>
    JSON.stringify((o.metadata.managedFields ?? []).map((entry) => ({ ...entry, time: undefined })));
  return strip(a) === strip(b) && fields(a) === fields(b);
}

/**
 * One isolated object space: a plain cluster or one kcp logical cluster. Holds objects, served types (built-ins plus
 * CRDs stored here), the watch history, and the semantics every write shares: uid, resourceVersion, generation,
 * finalizers and deletionTimestamp, namespace existence and namespace deletion.
 */
export class ObjectSpace implements SimClusterStore {
  private readonly types = new Map<string, ResourceInfo>();
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  /**
   * The same objects by type, then namespace: a namespaced list or watch replay reads only its namespace, not every
   * object of the type (benchmarks keep tens of thousands of objects in one space).
   */
  private readonly byNamespace = new Map<string, Map<string, Map<string, KubeObject>>>();
  private readonly history: HistoryEntry[] = [];
  private readonly listeners = new Set<(event: HistoryEntry) => void>();
  private oldestRv = 0;
  private readonly pendingNamespaceCleanups = new Set<string>();
  private readonly cleanupTimers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** Objects per namespace: an O(1) emptiness check instead of a scan of every type on each delete. */
  private readonly namespaceCounts = new Map<string, number>();
  /** Cluster IPs for Services created in this object space. */
  private readonly clusterIps = new ClusterIpAllocator();
  readonly allocateClusterIp = (): string => this.clusterIps.allocate();
  private readonly historyLimit: number;
  private readonly historyMaxAgeMs: number;
  private readonly eventTtlMs: number;
  private readonly now: () => number;
  /**
   * Each stored Event's expiry (epoch ms) by key, in write order: with one TTL for all, the first entry expires first
   * (a write moves its Event to the end). One timer waits for the first.
   */
  private readonly eventExpiries = new Map<string, number>();
  private eventTimer: { timer: NodeJS.Timeout; dueAt: number } | undefined;
  /** The last entry's expiry in {@link eventExpiries} (or later): what keeps the map in expiry order. */
  private newestEventExpiry = 0;

  constructor(
    readonly name: string,
    private readonly clock: RevisionClock,
    private readonly admission: AdmissionDispatcher,
    private readonly annotateCluster: boolean,
    options: ObjectSpaceOptions = {},
  ) {
    this.historyLimit = options.watchHistory ?? DEFAULT_WATCH_HISTORY;
    this.historyMaxAgeMs = options.watchHistoryMs ?? DEFAULT_WATCH_HISTORY_MS;
    this.eventTtlMs = options.eventTtlMs ?? DEFAULT_EVENT_TTL_MS;
    this.now = options.now ?? Date.now;
    for (const info of BUILTIN_RESOURCES) this.types.set(gvrId(info), info);
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      this.insert(this.info({ group: '', version: 'v1', resource: 'namespaces' }), {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      });
    }
  }

  // ---- types ----

  resolve(gvr: GroupVersionResource): { kind: string; namespaced: boolean; hasStatus: boolean } | undefined {
    return this.types.get(gvrId(gvr));
  }

  info(gvr: GroupVersionResource): ResourceInfo {
    const info = this.types.get(gvrId(gvr));
    if (!info) throw ApiError.notFoundResource(gvr);
    return info;
  }

  allTypes(): ResourceInfo[] {
    return [...this.types.values()];
  }

  /** The type for `kind` in `apiVersion`, for bodies that name a kind (apply, create). */
  typeForKind(apiVersion: string, kind: string): ResourceInfo | undefined {
    for (const t of this.types.values()) if (apiVersionOf(t) === apiVersion && t.kind === kind) return t;
    return undefined;
  }

  // ---- reads ----

  get(gvr: GroupVersionResource, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(gvrId(gvr))?.get(key(namespace, name));
  }

  list(gvr: GroupVersionResource, namespace?: string): KubeObject[] {
    const id = gvrId(gvr);
    if (namespace) return [...(this.byNamespace.get(id)?.get(namespace)?.values() ?? [])];
    return [...(this.objects.get(id)?.values() ?? [])];
  }

  /** Watch events after `rv`, or undefined when the history no longer reaches back that far (410 Gone). */
  eventsSince(rv: number): HistoryEntry[] | undefined {
    if (rv < this.oldestRv - 1) return undefined;
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid].rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  /** Watch events held for watches that resume from a resourceVersion: what the history costs in memory. */
  get historySize(): number {
    return this.history.length;
  }

  /** Events stored now (each deleted {@link ObjectSpaceOptions.eventTtlMs} after its last write). */
  get eventCount(): number {
    return this.eventExpiries.size;
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- snapshot (the local stack keeps kcp and its clusters across restarts) ----

  /** Every stored object, CRDs first and namespaces next, so that restoring in this order serves every type. */
  snapshot(): KubeObject[] {
    const rank = (id: string): number => (id === gvrId(CRD_GVR) ? 0 : id === gvrId(NAMESPACE_GVR) ? 1 : 2);
    return [...this.objects.entries()]
      .sort(([a], [b]) => rank(a) - rank(b))
      .flatMap(([, bucket]) => [...bucket.values()]);
  }

  /**
   * Puts back an object exactly as {@link snapshot} saw it (uid, resourceVersion, generation, finalizers), with no
   * admission and no watch event: watches older than the restore get 410 Gone and relist, as after an etcd restore.
   * False when its type is not served (its CRD was not restored first).
   */
  restore(object: KubeObject): boolean {
    const info = this.typeForKind(object.apiVersion, object.kind);
    if (!info) return false;
    const k = key(info.namespaced ? object.metadata.namespace : undefined, object.metadata.name ?? '');
    if (isEvents(info)) {
      // The lease's start was not saved: the Event's newest timestamp stands for its last write. One that would have
      // expired while the process was down is not restored, as etcd would have deleted it.
      const expiresAt = Math.min(lastWrittenAt(object) ?? this.now(), this.now()) + this.eventTtlMs;
      if (expiresAt <= this.now()) return true;
      this.put(info, k, object);
      this.trackEventExpiry(k, expiresAt);
      return true;
    }
    this.put(info, k, object);
    if (info.resource === 'customresourcedefinitions') this.serveCrd(object);
    this.oldestRv = Math.max(this.oldestRv, Number(object.metadata.resourceVersion ?? 0) + 1);
    // A namespace that was terminating when the snapshot was taken: the namespace controller resumes emptying it, as
    // kube's does after a restart (its pending work was lost with the process).
    if (info.resource === 'namespaces' && !info.namespaced && object.metadata.deletionTimestamp)
      this.scheduleNamespaceCleanup(object.metadata.name ?? '', NAMESPACE_CLEANUP_DELAY_MS);
    return true;
  }

  // ---- writes without admission (the server's own controllers) ----

  create(gvr: GroupVersionResource, object: KubeObject): KubeObject {
    const info = this.info(gvr);
    this.checkNamespace(info, object.metadata.namespace);
    if (this.get(gvr, object.metadata.namespace, object.metadata.name ?? ''))
      throw ApiError.alreadyExists(info, object.metadata.name ?? '');
    return this.insert(info, object);
  }

  async updateStatus(gvr: GroupVersionResource, object: KubeObject): Promise<KubeObject | undefined> {
    const info = this.info(gvr);
    const current = this.get(gvr, object.metadata.namespace, object.metadata.name ?? '');
    if (!current) return undefined;
    const candidate: KubeObject = { ...current, status: object.status };
    const outcome = await this.admission.admit({
      store: this,
      operation: 'UPDATE',
      gvr,
      kind: { group: info.group, version: info.version, kind: info.kind },
      subResource: 'status',
      namespace: current.metadata.namespace,
      name: current.metadata.name ?? '',
      object: candidate,
      oldObject: current,
      userInfo: {
        username: 'system:serviceaccount:kube-system:simulated-controller',
        groups: ['system:serviceaccounts'],
      },
      dryRun: false,
    });
    if (!outcome.allowed)
      throw new ApiError(outcome.status.code, outcome.status.reason ?? 'Forbidden', outcome.status.message);
    // The object may have changed while admission ran: status is written onto the newest version.
    const latest = this.get(gvr, object.metadata.namespace, object.metadata.name ?? '');
    if (!latest) return undefined;
    return this.replace(info, latest, { ...latest, status: (outcome.object ?? candidate).status });
  }

  delete(gvr: GroupVersionResource, namespace: string | undefined, name: string): void {
    const info = this.info(gvr);
    const current = this.get(gvr, namespace, name);
    if (current) this.remove(info, current);
  }

  // ---- the primitives the HTTP layer uses after admission ----

  checkNamespace(info: ResourceInfo, namespace: string | undefined): void {
    if (!info.namespaced) return;
    if (!namespace)
      throw ApiError.badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    const ns = this.get({ group: '', version: 'v1', resource: 'namespaces' }, undefined, namespace);
    if (!ns)
      throw new ApiError(404, 'NotFound', `namespaces "${namespace}" not found`, {
        name: namespace,
        kind: 'namespaces',
      });
    // kube's NamespaceLifecycle admission refuses every create here, Events included.
    if (ns.metadata.deletionTimestamp) {
      throw new ApiError(
        403,
        'Forbidden',
        `${info.resource} "${''}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
      );
    }
  }

  /** Stores a new object: uid, resourceVersion, creationTimestamp, generation 1. */
  insert(info: ResourceInfo, object: KubeObject): KubeObject {
    // Every stored object carries its defaults, as objects in etcd do (the server's own controllers write here too).
    object = { ...object };
    applyDefaults(info, object, { allocateClusterIp: this.allocateClusterIp });
    const meta = { ...object.metadata };
    meta.uid = randomUUID();
    meta.creationTimestamp = now();
    meta.generation = 1;
    delete meta.deletionTimestamp;
    if (this.annotateCluster) meta.annotations = { ...(meta.annotations ?? {}), 'kcp.io/cluster': this.name };
    meta.resourceVersion = String(this.clock.next());
    const stored: KubeObject = { ...object, apiVersion: apiVersionOf(info), kind: info.kind, metadata: meta };
    if (!info.namespaced) delete stored.metadata.namespace;
    this.put(info, key(stored.metadata.namespace, meta.name ?? ''), stored);
    if (isEvents(info))
      this.trackEventExpiry(key(stored.metadata.namespace, meta.name ?? ''), this.now() + this.eventTtlMs);
    this.record(info, 'ADDED', stored);
    if (info.resource === 'customresourcedefinitions') this.serveCrd(stored);
    return stored;
  }

  /**
   * Replaces a stored object: bumps resourceVersion, bumps generation when anything but metadata and status
   * changed, and removes the object when it is being deleted and its last finalizer is gone.
   */
  replace(info: ResourceInfo, current: KubeObject, next: KubeObject): KubeObject {
    const meta = { ...next.metadata };
    meta.uid = current.metadata.uid;
    meta.creationTimestamp = current.metadata.creationTimestamp;
    meta.name = current.metadata.name;
    meta.namespace = current.metadata.namespace;
    meta.deletionTimestamp = current.metadata.deletionTimestamp;
    meta.generation = (current.metadata.generation ?? 1) + (specOf(next) !== specOf(current) ? 1 : 0);
    if (this.annotateCluster) meta.annotations = { ...(meta.annotations ?? {}), 'kcp.io/cluster': this.name };
    if (!meta.annotations || Object.keys(meta.annotations).length === 0) delete meta.annotations;
    if (!meta.labels || Object.keys(meta.labels).length === 0) delete meta.labels;
    if (!meta.finalizers || meta.finalizers.length === 0) delete meta.finalizers;
    const stored: KubeObject = { ...next, apiVersion: apiVersionOf(info), kind: info.kind, metadata: meta };
    if (!info.namespaced) delete stored.metadata.namespace;
    if (stored.metadata.deletionTimestamp && !stored.metadata.finalizers?.length) {
      this.remove(info, stored);
      return stored;
    }
    // An update that changes nothing is a no-op, as in kube-apiserver: no new resourceVersion, no watch event.
    if (sameContent(stored, current)) return current;
    meta.resourceVersion = String(this.clock.next());
    this.put(info, key(meta.namespace, meta.name ?? ''), stored);
    // Every write renews an Event's lease, as kube's Event storage does.
    if (isEvents(info)) this.trackEventExpiry(key(meta.namespace, meta.name ?? ''), this.now() + this.eventTtlMs);
    this.record(info, 'MODIFIED', stored);
    if (info.resource === 'customresourcedefinitions') this.serveCrd(stored);
    return stored;
  }

  /** Deletes as the API does: with finalizers the object only gets a deletionTimestamp. */
  requestDeletion(info: ResourceInfo, current: KubeObject): { object: KubeObject; removed: boolean } {
    if (info.resource === 'namespaces') return { object: this.terminateNamespace(current), removed: false };
    if (current.metadata.finalizers?.length) {
      if (current.metadata.deletionTimestamp) return { object: current, removed: false };
      const marked = { ...current, metadata: { ...current.metadata, deletionTimestamp: now() } };
      const meta = marked.metadata;
      meta.resourceVersion = String(this.clock.next());
      this.put(info, key(meta.namespace, meta.name ?? ''), marked);
      if (isEvents(info)) this.trackEventExpiry(key(meta.namespace, meta.name ?? ''), this.now() + this.eventTtlMs);
      this.record(info, 'MODIFIED', marked);
      return { object: marked, removed: false };
    }
    this.remove(info, current);
    return { object: current, removed: true };
  }

  // ---- internals ----

  private remove(info: ResourceInfo, object: KubeObject): void {
    const meta = object.metadata;
    const k = key(meta.namespace, meta.name ?? '');
    if (!this.bucket(info).delete(k)) return;
    if (isEvents(info)) this.eventExpiries.delete(k);
    if (info.namespaced && meta.namespace) {
      this.countInNamespace(meta.namespace, -1);
      const inNamespace = this.byNamespace.get(gvrId(info));
      inNamespace?.get(meta.namespace)?.delete(k);
      if (inNamespace?.get(meta.namespace)?.size === 0) inNamespace.delete(meta.namespace);
    }
    const removed = { ...object, metadata: { ...meta, resourceVersion: String(this.clock.next()) } };
    this.record(info, 'DELETED', removed);
    if (info.resource === 'customresourcedefinitions') this.unserveCrd(object);
    if (info.namespaced && meta.namespace) this.finishNamespaceIfEmpty(meta.namespace);
  }

  private terminateNamespace(ns: KubeObject): KubeObject {
    const name = ns.metadata.name ?? '';
    let marked = ns;
    if (!ns.metadata.deletionTimestamp) {
      marked = {
        ...ns,
        metadata: { ...ns.metadata, deletionTimestamp: now(), resourceVersion: String(this.clock.next()) },
        status: { phase: 'Terminating' },
      };
      this.bucket(this.info({ group: '', version: 'v1', resource: 'namespaces' })).set(name, marked);
      this.record(this.info({ group: '', version: 'v1', resource: 'namespaces' }), 'MODIFIED', marked);
    }
    this.finishNamespaceIfEmpty(name);
    // kube-apiserver only marks the namespace; its namespace controller empties it a moment later. Doing it in the
    // same request would make `kubectl delete -f` of a file that starts with its Namespace fail on every other object
    // (already gone). Until then the namespace is Terminating and refuses new content.
    if (this.get(NAMESPACE_GVR, undefined, name)) this.scheduleNamespaceCleanup(name, NAMESPACE_CLEANUP_DELAY_MS);
    return marked;
  }

  /** Stops the namespace controller's pending work and the Events' expiry (the server is stopping). */
  stop(): void {
    this.stopped = true;
    for (const timer of this.cleanupTimers) clearTimeout(timer);
    this.cleanupTimers.clear();
    if (this.eventTimer) clearTimeout(this.eventTimer.timer);
    this.eventTimer = undefined;
  }

  /**
   * Deletes every Event whose TTL has passed, with a DELETED watch event each, as etcd's lease expiry does (no
   * admission, finalizers not consulted). Returns how many went.
   */
  expireEvents(): number {
    const at = this.now();
    const info = this.info(EVENTS_GVR);
    let expired = 0;
    for (const [k, expiresAt] of this.eventExpiries) {
      if (expiresAt > at) break;
      const current = this.bucket(info).get(k);
      if (current) this.remove(info, current);
      this.eventExpiries.delete(k);
      expired++;
    }
    this.scheduleEventExpiry();
    return expired;
  }

  /** (Re)starts an Event's TTL: written now, or restored with its own expiry. */
  private trackEventExpiry(k: string, expiresAt: number): void {
    this.eventExpiries.delete(k);
    // Restored Events may come in any order; keeping the map in expiry order lets the timer look at its first entry
    // only, at the cost of a restored Event living until the one before it expires (never past the restore + TTL).
    this.newestEventExpiry = Math.max(this.newestEventExpiry, expiresAt);
    this.eventExpiries.set(k, this.newestEventExpiry);
    this.scheduleEventExpiry();
  }

  /** One timer, due when the first Event expires; none while no Event is stored. */
  private scheduleEventExpiry(): void {
    const first = this.eventExpiries.values().next();
    if (this.stopped || first.done) {
      if (this.eventTimer) clearTimeout(this.eventTimer.timer);
      this.eventTimer = undefined;
      return;
    }
    if (this.eventTimer?.dueAt === first.value) return;
    if (this.eventTimer) clearTimeout(this.eventTimer.timer);
    const timer = setTimeout(
      () => {
        this.eventTimer = undefined;
        this.expireEvents();
      },
      // Node fires a longer timeout at once; a capped one fires early, finds nothing due and waits again.
      Math.min(Math.max(0, first.value - this.now()), MAX_TIMEOUT_MS),
    );
    timer.unref();
    this.eventTimer = { timer, dueAt: first.value };
  }

  private scheduleNamespaceCleanup(name: string, delayMs: number): void {
    if (this.stopped || this.pendingNamespaceCleanups.has(name)) return;
    this.pendingNamespaceCleanups.add(name);
    const timer = setTimeout(() => {
      this.cleanupTimers.delete(timer);
      // Like kube's namespace controller, it tries again with a growing delay while a delete was refused or failed.
      const retry = (complete: boolean): void => {
        this.pendingNamespaceCleanups.delete(name);
        if (!complete) this.scheduleNamespaceCleanup(name, Math.min(delayMs * 2, NAMESPACE_CLEANUP_MAX_DELAY_MS));
      };
      this.emptyNamespace(name).then(retry, () => retry(false));
    }, delayMs);
    timer.unref();
    this.cleanupTimers.add(timer);
  }

  /**
   * Kube's namespace controller: deletes every object in a terminating namespace through admission, as the
   * controller's deletes pass kube-apiserver's (a DELETE with the object as oldObject, so webhooks see each one).
   * Objects with finalizers only get a deletionTimestamp and keep the namespace until they are gone; an object
   * already being deleted is not sent again. False when admission refused a delete (to be tried again).
   */
  private async emptyNamespace(name: string): Promise<boolean> {
    let complete = true;
    for (const info of [...this.types.values()]) {
      if (!info.namespaced) continue;
      for (const obj of this.list(info, name)) {
        if (this.stopped || !this.get(NAMESPACE_GVR, undefined, name)?.metadata.deletionTimestamp) return true;
        if (obj.metadata.deletionTimestamp) continue;
        if (!(await this.admitControllerDelete(info, obj))) {
          complete = false;
          continue;
        }
        // Admission takes a while: delete what is stored now, unless the object went or was replaced meanwhile.
        const current = this.get(info, name, obj.metadata.name ?? '');
        if (current && current.metadata.uid === obj.metadata.uid && !current.metadata.deletionTimestamp)
          this.requestDeletion(info, current);
      }
    }
    this.finishNamespaceIfEmpty(name);
    // Like kube's namespace controller, it comes back while anything is left (an object waiting for its finalizers,
    // or content stored after this pass by a write admitted before the namespace was marked).
    return complete && !this.holdsContent(name);
  }

  private holdsContent(namespace: string): boolean {
    return (
      !!this.get(NAMESPACE_GVR, undefined, namespace)?.metadata.deletionTimestamp &&
      (this.namespaceCounts.get(namespace) ?? 0) > 0
    );
  }

  private async admitControllerDelete(info: ResourceInfo, obj: KubeObject): Promise<boolean> {
    const outcome = await this.admission.admit({
      store: this,
      operation: 'DELETE',
      gvr: { group: info.group, version: info.version, resource: info.resource },
      kind: { group: info.group, version: info.version, kind: info.kind },
      namespace: obj.metadata.namespace,
      name: obj.metadata.name ?? '',
      oldObject: obj,
      userInfo: { username: NAMESPACE_CONTROLLER_USER.username, groups: [...NAMESPACE_CONTROLLER_USER.groups] },
      dryRun: false,
    });
    return outcome.allowed;
  }

  private finishNamespaceIfEmpty(namespace: string): void {
    const nsType = this.info({ group: '', version: 'v1', resource: 'namespaces' });
    const ns = this.get(nsType, undefined, namespace);
    if (!ns?.metadata.deletionTimestamp) return;
    if ((this.namespaceCounts.get(namespace) ?? 0) > 0) return;
    this.remove(nsType, ns);
  }

  /**
   * Stores under `k`, keeping the namespace index, the per-namespace object counts that tell when a terminating
   * namespace is empty, and the cluster IPs in use (restored Services included).
   */
  private put(info: ResourceInfo, k: string, object: KubeObject): void {
    const bucket = this.bucket(info);
    const namespace = info.namespaced ? object.metadata.namespace : undefined;
    if (!bucket.has(k) && namespace) this.countInNamespace(namespace, 1);
    bucket.set(k, object);
    if (namespace) {
      const id = gvrId(info);
      let inType = this.byNamespace.get(id);
      if (!inType) this.byNamespace.set(id, (inType = new Map()));
      let inNamespace = inType.get(namespace);
      if (!inNamespace) inType.set(namespace, (inNamespace = new Map()));
      inNamespace.set(k, object);
    }
    if (info.resource === 'services' && info.group === '') {
      const spec = (object.spec ?? {}) as { clusterIP?: unknown; clusterIPs?: unknown };
      this.clusterIps.reserve(spec.clusterIP);
      if (Array.isArray(spec.clusterIPs)) for (const ip of spec.clusterIPs) this.clusterIps.reserve(ip);
    }
  }

  private countInNamespace(namespace: string, delta: number): void {
    const n = (this.namespaceCounts.get(namespace) ?? 0) + delta;
    if (n > 0) this.namespaceCounts.set(namespace, n);
    else this.namespaceCounts.delete(namespace);
  }

  private bucket(info: GroupVersionResource): Map<string, KubeObject> {
    const id = gvrId(info);
    let b = this.objects.get(id);
    if (!b) {
      b = new Map();
      this.objects.set(id, b);
    }
    return b;
  }

  private record(info: ResourceInfo, type: WatchEventType, object: KubeObject): void {
    const entry: HistoryEntry = {
      type,
      object,
      gvr: { group: info.group, version: info.version, resource: info.resource },
      rv: Number(object.metadata.resourceVersion),
      gvrKey: gvrId(info),
      at: this.now(),
    };
    this.history.push(entry);
    // Aged events go a tenth of the window at a time, not one splice of the whole array per write.
    const horizon = entry.at - this.historyMaxAgeMs;
    let aged = 0;
    if (this.history[0].at < horizon - this.historyMaxAgeMs / 10) while (this.history[aged].at < horizon) aged++;
    const cut = Math.max(aged, this.history.length - this.historyLimit);
    if (cut > 0) {
      const dropped = this.history.splice(0, cut);
      this.oldestRv = dropped[dropped.length - 1].rv + 1;
    }
    for (const listener of this.listeners) listener(entry);
  }

  private serveCrd(crd: KubeObject): void {
    for (const info of resourcesFromCrd(crd)) this.types.set(gvrId(info), info);
    // A CRD is Established at once: no API aggregation to wait for.
    const status = (crd.status ?? {}) as Record<string, unknown>;
    if (!Array.isArray(status.conditions) || status.conditions.length === 0) {
      const spec = (crd.spec ?? {}) as Record<string, any>;
      crd.status = {
        conditions: [
          {
            type: 'NamesAccepted',
            status: 'True',
            reason: 'NoConflicts',
            message: 'no conflicts found',
            lastTransitionTime: now(),
          },
          {
            type: 'Established',
            status: 'True',
            reason: 'InitialNamesAccepted',
            message: 'the initial names have been accepted',
            lastTransitionTime: now(),
          },
        ],
        acceptedNames: spec.names ?? {},
        storedVersions: (spec.versions ?? []).filter((v: any) => v.storage).map((v: any) => v.name),
      };
    }
  }

  private unserveCrd(crd: KubeObject): void {
    for (const info of resourcesFromCrd(crd)) {
      this.types.delete(gvrId(info));
      if (info.namespaced)
        for (const o of this.objects.get(gvrId(info))?.values() ?? [])
          if (o.metadata.namespace) this.countInNamespace(o.metadata.namespace, -1);
      this.objects.delete(gvrId(info));
      this.byNamespace.delete(gvrId(info));
    }
  }
}
