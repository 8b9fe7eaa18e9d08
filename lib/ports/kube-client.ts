import type { KubeObject } from '../kube/object';
import type { SyncMode } from '../api/crds/sync-target';

export type { KubeObject };

export interface ResourceType {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  /** What the API server allows on the type (`list`, `patch`, …), when discovery said. */
  verbs?: string[];
}

export interface ResourceName {
  group: string;
  version: string;
  resource: string;
  namespace?: string;
  name: string;
}

/**
 * One Kubernetes API endpoint: a kcp logical cluster or a physical cluster. Adapters translate client errors into
 * lib/errors (404 on get → undefined; 404 on delete → 'absent'; 409 → ConflictError; 429 → ClusterThrottledError …).
 */
export interface KubeClient {
  /** `kcp:root:default` or the SyncTarget's name: how logs and errors name this endpoint. */
  readonly target: string;
  get(name: ResourceName): Promise<KubeObject | undefined>;
  list(
    type: Omit<ResourceType, 'kind' | 'namespaced'>,
    options?: { namespace?: string; labelSelector?: string },
  ): Promise<KubeObject[]>;
  /**
   * Server-side apply with tmc's one field manager; creates when missing. With `resourceVersion`, conditional on it as a
   * merge patch is (ConflictError when the object changed since).
   */
  apply(
    type: Omit<ResourceType, 'namespaced'>,
    object: KubeObject,
    options?: { force?: boolean; resourceVersion?: string },
  ): Promise<KubeObject>;
  /**
   * JSON merge patch of the main resource (labels, annotations, finalizers). A patch carrying
   * `metadata.resourceVersion` is conditional on it: the object changed since then → ConflictError (409).
   */
  mergePatch(name: ResourceName, patch: Record<string, unknown>): Promise<KubeObject>;
  /**
   * JSON merge patch of the status subresource; with `resourceVersion`, conditional on it as a merge patch is
   * (ConflictError when the object changed since).
   */
  patchStatus(
    name: ResourceName,
    status: Record<string, unknown>,
    options?: { resourceVersion?: string },
  ): Promise<KubeObject>;
  /** Deleting what is already gone succeeds. With `resourceVersion`, only that version is deleted (else ConflictError). */
  delete(name: ResourceName, options?: { resourceVersion?: string }): Promise<'deleted' | 'absent'>;
  /**
   * Served resource types (discovery), cached by the adapter. `refresh` asks again (bounded by the adapter, so a cluster
   * missing a CRD is not rediscovered per message): a CRD installed after the last discovery is found.
   */
  resources(options?: { refresh?: boolean }): Promise<ResourceType[]>;
  /** GET /readyz with a short timeout. */
  ready(): Promise<{ ok: boolean; latencyMs: number; detail?: string }>;
}

/** Finds clients: kcp by workspace path, physical clusters by SyncTarget name. Clients are cached per container. */
export interface KubeConnector {
  kcp(workspace: string): Promise<KubeClient>;
  cluster(workspace: string, syncTarget: string): Promise<KubeClient>;
  /**
   * The SyncTarget's mode (lib/api/crds/sync-target.ts `syncModeOf`): in `Pull` no function calls the cluster. Absent
   * on connectors that only ever reach push clusters (the syncer's own, tests).
   */
  syncMode?(workspace: string, syncTarget: string): Promise<SyncMode>;
  /** Drops the cached client (credentials changed, SyncTarget deleted). */
  forget(workspace: string, syncTarget: string): void;
}
