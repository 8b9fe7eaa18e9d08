import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { z } from 'zod';
import {
  createAdmissionDispatcher,
  createWebhookFaultInjector,
  type ClosableAdmissionDispatcher,
  type WebhookFailOpen,
  type WebhookFaultInjector,
} from './admission';
import type { WebhookCredentials } from './admission/webhook-caller';
import { ApiError } from '../kube-api/api-error';
import { handleResource, readBody, type ResourceRequest, send } from './api-handler';
import { handleEventsV1, isEventsV1 } from './event-views';
import type { KubeObject } from '../kube/object';
import type { SimClusterStore, WorkloadSimulationOptions, WorkloadSimulator } from './contracts';
import { startWorkloadSimulator } from './controllers';
import {
  aggregatedDiscovery,
  apiGroupList,
  apiResourceList,
  apiVersions,
  sendAggregatedDiscovery,
  wantsAggregatedDiscovery,
} from '../kube-api/discovery';
import { openApiV3Document, openApiV3Root, sendOpenApiV2 } from '../kube-api/openapi';
import { builtinOpenApi } from './openapi/builtin-schemas';
import { FaultController, faultError, type FaultedRequest, FaultSettingsSchema } from './faults';
import { writeKubeconfigFile } from './kubeconfig';
import { ObjectSpace, type RevisionClock } from './object-space';
import { RequestLog, type RequestRecord } from './request-log';
import { impersonatedUser, TokenAuthenticator, type SimUser } from './authentication';
import { authorizeRequest, impersonationAttributes, ServiceAccountTokens } from './rbac';

export interface SimServerOptions {
  name: string;
  mode: 'kcp' | 'cluster';
  /** A webhook call that failed open (failurePolicy Ignore), as kube-apiserver logs it. */
  onWebhookFailOpen?: (failure: WebhookFailOpen) => void;
  /** 0 or absent: a free port. */
  port?: number;
  host?: string;
  /** Workload controllers (cluster mode only: kcp runs no workload controllers, status comes from tmc). */
  workloads?: Partial<WorkloadSimulationOptions> & { nodes?: number };
  /** Added to every request, to make round trips realistic. */
  latencyMs?: number;
  /** When set, requests without this bearer token get 401. */
  token?: string;
  /**
   * A managed cluster (EKS, GKE, AKS): its webhook calls carry no Authorization header whatever credentials are set,
   * as such API servers take no admission kubeconfig; only a credential in the webhook URL can authenticate them.
   */
  managed?: boolean;
  /** Watch events kept per object space (default 50,000): small values let tests reach 410 Gone quickly. */
  watchHistory?: number;
  /** How long watch events are kept (default 5 minutes, etcd's compaction interval). */
  watchHistoryMs?: number;
  /**
   * How long an Event lives after its last write before the server deletes it (kube-apiserver's `--event-ttl`,
   * default 1 hour; kcp's too).
   */
  eventTtlMs?: number;
  /** Request log records kept (default 500,000); a long-running stack that never resets the log keeps fewer. */
  requestLogLimit?: number;
  /** The admin port (`/_sim/*` only, up while the server is `down`); 0 or absent: a free port. */
  adminPort?: number;
}

export interface SimServer {
  readonly name: string;
  readonly mode: 'kcp' | 'cluster';
  readonly url: string;
  readonly port: number;
  /** Serves only `/_sim/*` (faults, request log, info) and stays up while the server is `down`. */
  readonly adminUrl: string;
  /** The object space: a logical cluster path in kcp mode (default `root`), the cluster itself otherwise. */
  store(logicalCluster?: string): SimClusterStore;
  createLogicalCluster(path: string): SimClusterStore;
  readonly faults: FaultController;
  /** Faults in front of the webhooks this server calls (a refused call is a lost admission under failurePolicy Ignore). */
  readonly webhookFaults: WebhookFaultInjector;
  readonly requests: RequestLog;
  /**
   * Makes a bearer token authenticate as `user` (kube-apiserver's `--token-auth-file`): admission webhooks see that
   * username in `request.userInfo`, and the request log records it. Unregistered tokens are `token-user`.
   */
  registerTokenUser(token: string, user: { username: string; groups?: string[] }): void;
  /** Credentials the admission dispatcher sends to webhook URLs (kube-apiserver reads them from its admission config). */
  setWebhookCredentials(fn: ((url: string) => WebhookCredentials | undefined) | undefined): void;
  /** Writes a kubeconfig for this server (kcp: for one logical cluster) with unique names. */
  writeKubeconfig(file: string, options?: { logicalCluster?: string; token?: string }): void;
  /** The server URL a client uses (kcp: `<url>/clusters/<path>`). */
  serverUrl(logicalCluster?: string): string;
  /** Every object of every object space, and the resourceVersion clock: what {@link restore} puts back. */
  snapshot(): SimSnapshot;
  /**
   * What the server holds that grows with use: watch events kept for resuming watches, request log records, and the
   * Events stored (they expire after `eventTtlMs`).
   */
  retained(): { watchEvents: number; requestRecords: number; events: number };
  /** Loads a snapshot into this (new) server; objects whose type is not served are skipped and counted. */
  restore(snapshot: SimSnapshot): { restored: number; skipped: number };
  stop(): Promise<void>;
}

/** A server's state on disk: objects by object space (a kcp logical cluster, or the cluster's own name). */
export const SimSnapshotSchema = z.object({
  resourceVersion: z.number().int().nonnegative(),
  spaces: z.record(
    z.string(),
    z.array(
      z.looseObject({
        apiVersion: z.string(),
        kind: z.string(),
        metadata: z.looseObject({ name: z.string().optional() }),
      }),
    ),
  ),
});
export type SimSnapshot = z.infer<typeof SimSnapshotSchema>;

const KNOWN_GROUP_PREFIXES = ['/api', '/apis'];

function parseResourcePath(segs: string[]): ResourceRequest | undefined {
  // segs: ['api','v1',...] or ['apis',group,version,...]
  let group = '';
  let version: string;
  let rest: string[];
  if (segs[0] === 'api') {
    version = segs[1];
    rest = segs.slice(2);
  } else {
    group = segs[1];
    version = segs[2];
    rest = segs.slice(3);
  }
  if (!version || rest.length === 0) return undefined;
  if (
    rest[0] === 'namespaces' &&
    rest.length >= 3 &&
    !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))
  ) {
    return { group, version, namespace: rest[1], resource: rest[2], name: rest[3], subresource: rest[4] };
  }
  return { group, version, resource: rest[0], name: rest[1], subresource: rest[2] };
}

/** Kubernetes' name for a request's verb, decided from the request alone (handleResource records the same). */
function kubeVerb(req: IncomingMessage, url: URL, r: ResourceRequest): string {
  const method = req.method ?? 'GET';
  if (method === 'GET')
    return r.name
      ? 'get'
      : url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1'
        ? 'watch'
        : 'list';
  if (method === 'POST') return 'create';
  if (method === 'PUT') return 'update';
  if (method === 'PATCH')
    return (req.headers['content-type'] ?? '').startsWith('application/apply-patch+yaml') ? 'apply' : 'patch';
  if (method === 'DELETE') return r.name ? 'delete' : 'deletecollection';
  return method.toLowerCase();
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

function sendError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  // A body refused before it was read in full (413) leaves unread bytes on the connection: close it after the
  // answer, as Go's server does, or the client's next request on that keep-alive socket would be garbled.
  if (!req.complete) res.setHeader('Connection', 'close');
  if (err instanceof ApiError) return send(res, err.code, err.toStatus());
  const message = err instanceof Error ? err.message : String(err);
  send(res, 500, new ApiError(500, 'InternalError', `Internal error occurred: ${message}`).toStatus());
}

/** One server's state, shared by its request handlers and its handle. */
interface ServerState {
  options: SimServerOptions;
  isKcp: boolean;
  /** The object space of requests without `/clusters/<path>`: kcp's `root`, or the cluster itself. */
  defaultSpace: string;
  /** The resourceVersion counter every object space of this server shares. */
  revision: { rv: number };
  clock: RevisionClock;
  spaces: Map<string, ObjectSpace>;
  controllers: WorkloadSimulator[];
  admission: ClosableAdmissionDispatcher;
  webhookFaults: WebhookFaultInjector;
  credentials?: (url: string) => WebhookCredentials | undefined;
  faults: FaultController;
  requests: RequestLog;
  authenticator: TokenAuthenticator;
  serviceAccountTokens: ServiceAccountTokens;
  /** Requests held by a partition, released when it ends. */
  held: Array<() => void>;
  /** The API port's open sockets (`down` destroys them). */
  sockets: Set<Socket>;
  /** Both are known once the listeners are up (the side channel answers only after that). */
  url: string;
  adminUrl: string;
  /** A socket that a `down` set over it keeps until its answer is out. */
  sparedSocket?: Socket;
}

/** Where a request goes: the path within its object space, and which space (`*`: every logical cluster, read-only). */
interface RequestTarget {
  path: string;
  logicalCluster: string;
  wildcard: boolean;
}

/** A request as the request log records it; `code` follows what the handler wrote (0: no answer, a hang or reset). */
interface TrackedRequest {
  record: Omit<RequestRecord, 'code'>;
  code: number;
}

/** A resource request's path and verb, as fault rules and the request log see it. */
interface ResourceCall {
  request: ResourceRequest;
  verb: string;
}

/** Starts one simulated API server: a kcp (logical clusters under /clusters/<path>) or a plain physical cluster. */
export async function startSimServer(options: SimServerOptions): Promise<SimServer> {
  const state = createServerState(options);
  spaceFor(state, state.defaultSpace);
  const server: Server = createServer((req, res) => void handleRequest(state, req, res));
  server.keepAliveTimeout = 65_000;
  server.on('connection', (socket) => {
    state.sockets.add(socket);
    socket.on('close', () => state.sockets.delete(socket));
  });
  const adminServer: Server = createServer((req, res) => void handleAdminRequest(state, req, res));
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port ?? 0, host);
  state.url = `http://${host}:${port}`;
  state.adminUrl = `http://${host}:${await listen(adminServer, options.adminPort ?? 0, host)}`;
  const listening = followDownFaults(state, server, port, host);
  return simServerHandle(state, { server, adminServer, port, listening });
}

function createServerState(options: SimServerOptions): ServerState {
  const revision = { rv: 0 };
  const webhookFaults = createWebhookFaultInjector();
  const authenticator = new TokenAuthenticator();
  const state: ServerState = {
    options,
    isKcp: options.mode === 'kcp',
    defaultSpace: options.mode === 'kcp' ? 'root' : options.name,
    revision,
    clock: { next: () => ++revision.rv, current: () => revision.rv },
    spaces: new Map(),
    controllers: [],
    admission: createAdmissionDispatcher({
      credentialsFor: (url) => (options.managed ? undefined : state.credentials?.(url)),
      faults: webhookFaults,
      onFailOpen: options.onWebhookFailOpen,
    }),
    webhookFaults,
    faults: new FaultController(),
    requests: new RequestLog(options.requestLogLimit),
    authenticator,
    serviceAccountTokens: new ServiceAccountTokens(authenticator),
    held: [],
    sockets: new Set(),
    url: '',
    adminUrl: '',
  };
  return state;
}

/** The object space of a logical cluster (or the cluster), created on first use with its workload controllers. */
function spaceFor(state: ServerState, name: string): ObjectSpace {
  const existing = state.spaces.get(name);
  if (existing) return existing;
  const { options, isKcp } = state;
  const space = new ObjectSpace(name, state.clock, state.admission, isKcp, {
    watchHistory: options.watchHistory,
    watchHistoryMs: options.watchHistoryMs,
    eventTtlMs: options.eventTtlMs,
  });
  state.spaces.set(name, space);
  if (!isKcp) {
    state.controllers.push(
      startWorkloadSimulator(space, {
        readyDelayMs: options.workloads?.readyDelayMs ?? 1000,
        simulatePods: options.workloads?.simulatePods ?? false,
        capacity: options.workloads?.capacity,
        nodes: options.workloads?.nodes,
      }),
    );
  }
  return space;
}

/**
 * `down` closes the API port (and every connection but the one that asked) and reopens it when cleared; a partition's
 * end releases the requests it held. Returns whether the API port listens now.
 */
function followDownFaults(state: ServerState, server: Server, port: number, host: string): () => boolean {
  let listening = true;
  state.faults.onChange((s) => {
    if (!s.partition) for (const release of state.held.splice(0)) release();
    if (s.down && listening) {
      listening = false;
      server.close();
      for (const socket of state.sockets) if (socket !== state.sparedSocket) socket.destroy();
    } else if (!s.down && !listening) {
      listening = true;
      server.listen(port, host);
    }
  });
  return () => listening;
}

/** The operator's side channel, `/_sim/*`: served on the API port and on the admin port (which `down` leaves up). */
async function serveSimChannel(
  state: ServerState,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const { options, faults } = state;
  if (path === '/_sim/requests') return send(res, 200, { items: state.requests.entries() });
  if (path === '/_sim/info')
    return send(res, 200, { name: options.name, mode: options.mode, url: state.url, adminUrl: state.adminUrl });
  if (path !== '/_sim/faults') throw ApiError.notFoundResource({ group: '', version: '', resource: path });
  if (req.method === 'PUT') await putFaults(state, req, res);
  else if (req.method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', 'GET or PUT /_sim/faults');
  return send(res, 200, faults.state());
}

/**
 * Faults at run time without code: `curl -X PUT -d '{"errorRate":0.1}' <url>/_sim/faults`. A PUT replaces the whole
 * fault state; `{}` clears it.
 */
async function putFaults(state: ServerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body: unknown;
  try {
    body = JSON.parse((await readBody(req)).toString('utf8'));
  } catch {
    throw ApiError.badRequest('PUT /_sim/faults takes a JSON object, e.g. {"errorRate":0.1,"errorCode":503}');
  }
  const parsed = FaultSettingsSchema.safeParse(body);
  if (!parsed.success)
    throw ApiError.badRequest(
      `Invalid fault settings: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  state.sparedSocket = req.socket;
  try {
    state.faults.set(parsed.data);
  } finally {
    state.sparedSocket = undefined;
  }
  // `down` sent to the API port: this answer is the last thing that connection carries.
  if (parsed.data.down && state.sockets.has(req.socket)) res.setHeader('Connection', 'close');
}

/** The API port: faults and authentication first, then the side channel, server paths, discovery or a resource. */
async function handleRequest(state: ServerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sim');
  const target = requestTarget(state, url.pathname);
  // `kubectl --as`: the request acts as the impersonated user, whom RBAC then decides for (lib/sim/rbac.ts).
  const caller = state.authenticator.userOf(req);
  const impersonated = impersonatedUser(req);
  const user = impersonated ?? caller;
  const tracked = trackRequest(state, req, res, target, user.username);
  try {
    await admitRequest(state, req, target.path);
    if (target.path.startsWith('/_sim/')) return await serveSimChannel(state, req, res, target.path);
    const segs = target.path.split('/').filter(Boolean);
    const request = KNOWN_GROUP_PREFIXES.includes(`/${segs[0]}`) ? parseResourcePath(segs) : undefined;
    const call = request ? { request, verb: kubeVerb(req, url, request) } : undefined;
    const fault = await injectFault(state, req, res, url, tracked, call);
    if (fault === 'answered') return;
    const space = spaceFor(state, target.wildcard ? state.defaultSpace : target.logicalCluster);
    if (serveServerPath(state, req, res, url, target, space)) return;
    if (KNOWN_GROUP_PREFIXES.includes(`/${segs[0]}`)) {
      if (serveGroupDiscovery(res, segs, space)) return;
      if (!call) throw ApiError.notFoundResource({ group: '', version: '', resource: target.path });
      return await serveResource(state, req, res, url, { target, space, caller, impersonated, tracked, call, fault });
    }
    throw ApiError.notFoundResource({ group: '', version: '', resource: target.path });
  } catch (err) {
    sendError(req, res, err);
  }
}

/** kcp serves each logical cluster under `/clusters/<path>`; a plain cluster serves only its own space. */
function requestTarget(state: ServerState, pathname: string): RequestTarget {
  if (!state.isKcp || !pathname.startsWith('/clusters/'))
    return { path: pathname, logicalCluster: state.defaultSpace, wildcard: false };
  const rest = pathname.slice('/clusters/'.length);
  const slash = rest.indexOf('/');
  const logicalCluster = decodeURIComponent(slash < 0 ? rest : rest.slice(0, slash));
  return { path: slash < 0 ? '/' : rest.slice(slash), logicalCluster, wildcard: logicalCluster === '*' };
}

/** Adds the request to the request log when its answer is out (or its connection closed), with the code written. */
function trackRequest(
  state: ServerState,
  req: IncomingMessage,
  res: ServerResponse,
  target: RequestTarget,
  username: string,
): TrackedRequest {
  const tracked: TrackedRequest = {
    record: {
      verb: (req.method ?? 'GET').toLowerCase(),
      group: '',
      resource: '',
      logicalCluster: target.logicalCluster,
      userAgent: req.headers['user-agent'] ?? '',
      user: username,
      at: Date.now(),
    },
    code: 200,
  };
  const origWriteHead = res.writeHead.bind(res);
  res.writeHead = ((status: number, ...rest: unknown[]) => {
    tracked.code = status;
    return (origWriteHead as (...a: unknown[]) => ServerResponse)(status, ...rest);
  }) as typeof res.writeHead;
  res.on('finish', () => state.requests.add({ ...tracked.record, code: tracked.code }));
  res.on('close', () => {
    if (!res.writableFinished) state.requests.add({ ...tracked.record, code: tracked.code });
  });
  return tracked;
}

/** Latency, a partition's hold, and the bearer token (a ServiceAccount token the server issued counts too). */
async function admitRequest(state: ServerState, req: IncomingMessage, path: string): Promise<void> {
  const { options, faults } = state;
  const latency = (options.latencyMs ?? 0) + (faults.current.latencyMs ?? 0);
  if (latency > 0) await new Promise((r) => setTimeout(r, latency));
  // /_sim/* is the operator's side channel: a partition must not cut off the request that ends it.
  if (faults.current.partition && !path.startsWith('/_sim/'))
    await new Promise<void>((resolve) => state.held.push(resolve));
  // A ServiceAccount token the server issued authenticates too (then RBAC decides: lib/sim/rbac.ts).
  if (
    options.token !== undefined &&
    req.headers.authorization !== `Bearer ${options.token}` &&
    !state.serviceAccountTokens.holds(req)
  ) {
    throw new ApiError(401, 'Unauthorized', 'Unauthorized');
  }
}

/**
 * A fault rule or the error rate, if one applies: throws the error it answers with, or holds or resets the connection
 * ('answered'), or says how the resource handler should answer (an empty or an expired list or watch).
 */
async function injectFault(
  state: ServerState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  tracked: TrackedRequest,
  call: ResourceCall | undefined,
): Promise<'answered' | 'empty' | 'expired' | undefined> {
  const { faults } = state;
  const faulted = (): FaultedRequest | undefined =>
    call && {
      verb: call.verb,
      group: call.request.group,
      resource: call.request.resource,
      name: call.request.name,
      resourceVersion: url.searchParams.get('resourceVersion') ?? undefined,
      currentResourceVersion: state.clock.current(),
    };
  const described = call && { ...tracked.record, ...describedCall(call) };
  // Name what a fault answered, so a test can count the attempts per object it refused.
  const recordResource = (): void => void (described && Object.assign(tracked.record, described));
  const rule = described ? faults.ruleFor(described) : undefined;
  if (rule) {
    recordResource();
    if (rule.respond === 'hang' || rule.respond === 'reset') {
      tracked.code = 0;
      if (rule.respond === 'reset') req.socket.resetAndDestroy();
      // Held until the client gives up or the server stops (which destroys every socket).
      else if (!res.closed) await new Promise<void>((resolve) => res.once('close', () => resolve()));
      return 'answered';
    }
    if (rule.respond === 'empty') return 'empty';
    if (rule.respond === 410 && call?.verb === 'watch') return 'expired';
    if (rule.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(rule.retryAfterSeconds));
    throw faultError(rule.respond, faulted(), rule.retryAfterSeconds);
  }
  const injected = faults.pickError();
  if (!injected) return undefined;
  if (injected.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(injected.retryAfterSeconds));
  recordResource();
  throw faultError(injected.code, faulted(), injected.retryAfterSeconds);
}

function describedCall({ request, verb }: ResourceCall): Partial<RequestRecord> {
  return {
    group: request.group,
    resource: request.resource,
    subresource: request.subresource,
    namespace: request.namespace,
    name: request.name,
    verb,
  };
}

/** Paths outside the API groups: version, health, discovery roots, OpenAPI. False when the path is none of them. */
function serveServerPath(
  state: ServerState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  { path, logicalCluster, wildcard }: RequestTarget,
  space: ObjectSpace,
): boolean {
  if (path === '/version') {
    send(res, 200, {
      major: '1',
      minor: '32',
      gitVersion: 'v1.32.0-tmc-sim',
      gitCommit: 'tmc-sim',
      platform: 'linux/amd64',
      goVersion: 'go1.23',
    });
  } else if (path === '/healthz' || path === '/livez' || path === '/readyz') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok');
  } else if ((path === '/api' || path === '/apis') && wantsAggregatedDiscovery(req.headers.accept)) {
    sendAggregatedDiscovery(req, res, aggregatedDiscovery(space.allTypes(), path === '/api' ? 'api' : 'apis'));
  } else if (path === '/api') {
    send(res, 200, apiVersions());
  } else if (path === '/apis') {
    send(res, 200, apiGroupList(space.allTypes()));
  } else if (path === '/openapi/v2') {
    sendOpenApiV2(req, res);
  } else if (path === '/openapi/v3') {
    const prefix =
      state.isKcp && !wildcard && url.pathname.startsWith('/clusters/') ? `/clusters/${logicalCluster}` : '';
    send(res, 200, openApiV3Root(space.allTypes(), prefix));
  } else if (path.startsWith('/openapi/v3/')) {
    const segs = path.split('/').filter(Boolean);
    const gv = segs[2] === 'api' ? segs[3] : `${segs[3]}/${segs[4]}`;
    const doc = openApiV3Document(space.allTypes(), gv, builtinOpenApi());
    if (!doc) throw ApiError.notFoundResource({ group: '', version: gv, resource: '' });
    send(res, 200, doc);
  } else {
    return false;
  }
  return true;
}

/** `/api/<v>`, `/apis/<group>/<v>` (resource lists) and `/apis/<group>`; false for a path below them. */
function serveGroupDiscovery(res: ServerResponse, segs: string[], space: ObjectSpace): boolean {
  const gvOnly = segs[0] === 'api' ? segs.length === 2 : segs.length === 3;
  if (gvOnly) {
    const gv = segs[0] === 'api' ? segs[1] : `${segs[1]}/${segs[2]}`;
    const list = apiResourceList(space.allTypes(), gv);
    if (!list) throw ApiError.notFoundResource({ group: segs[1] ?? '', version: gv, resource: '' });
    send(res, 200, list);
    return true;
  }
  if (segs[0] === 'apis' && segs.length === 2) {
    const group = (apiGroupList(space.allTypes()).groups as Array<{ name: string }>).find((g) => g.name === segs[1]);
    if (!group) throw ApiError.notFoundResource({ group: segs[1], version: '', resource: '' });
    send(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...group });
    return true;
  }
  return false;
}

/** A resource request: RBAC for ServiceAccount tokens, token requests, Events' v1 view, and everything else. */
async function serveResource(
  state: ServerState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  request: {
    target: RequestTarget;
    space: ObjectSpace;
    /** Who the token says the caller is, and the user it impersonates (`kubectl --as`), if any. */
    caller: SimUser;
    impersonated: SimUser | undefined;
    tracked: TrackedRequest;
    call: ResourceCall;
    fault: 'empty' | 'expired' | undefined;
  },
): Promise<void> {
  const { target, space, caller, impersonated, tracked, call, fault } = request;
  const user = impersonated ?? caller;
  const r = call.request;
  Object.assign(tracked.record, {
    group: r.group,
    resource: r.resource,
    subresource: r.subresource,
    namespace: r.namespace,
    name: r.name,
  });
  if (target.wildcard && (req.method ?? 'GET') !== 'GET')
    throw new ApiError(405, 'MethodNotAllowed', 'wildcard requests across logical clusters are read-only');
  const rbacSubject = state.serviceAccountTokens.holds(req) || impersonated !== undefined;
  if (rbacSubject) {
    tracked.record.verb = call.verb; // a refused request is logged with the verb it asked for
    // Impersonating takes the `impersonate` verb on the user (or ServiceAccount) from a token RBAC decides for.
    if (impersonated && state.serviceAccountTokens.holds(req))
      authorizeRequest(space, caller, impersonationAttributes(impersonated.username), () => true);
    authorizeRequest(space, user, { ...r, verb: call.verb }, () =>
      r.name === undefined ? false : space.get(r, r.namespace, r.name) !== undefined,
    );
  }
  if (
    r.resource === 'serviceaccounts' &&
    r.subresource === 'token' &&
    r.namespace &&
    r.name &&
    call.verb === 'create'
  ) {
    await readBody(req);
    return send(res, 201, state.serviceAccountTokens.issue(space, r.namespace, r.name));
  }
  // events.k8s.io/v1 Events are core/v1 Events converted (lib/sim/event-views.ts), as in kube-apiserver.
  return await (isEventsV1(r) ? handleEventsV1 : handleResource)(req, res, url, r, {
    space,
    admission: state.admission,
    currentRv: state.clock.current,
    setVerb: (verb) => (tracked.record.verb = verb),
    watchSpaces: target.wildcard ? [...state.spaces.values()] : [space],
    user,
    rbacSubject,
    authenticator: state.authenticator,
    fault,
  });
}

/** The admin port: only the side channel, so that a server that is `down` can still be told to come back. */
async function handleAdminRequest(state: ServerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://sim').pathname;
  try {
    if (!path.startsWith('/_sim/'))
      throw new ApiError(
        404,
        'NotFound',
        `this is the simulator's admin port: it serves only /_sim/*; the API is at ${state.url}`,
      );
    await serveSimChannel(state, req, res, path);
  } catch (err) {
    sendError(req, res, err);
  }
}

function simServerHandle(
  state: ServerState,
  listeners: { server: Server; adminServer: Server; port: number; listening: () => boolean },
): SimServer {
  const { options, isKcp, defaultSpace } = state;
  const { server, adminServer } = listeners;
  const serverUrl = (logicalCluster?: string): string =>
    isKcp ? `${state.url}/clusters/${logicalCluster ?? defaultSpace}` : state.url;
  return {
    name: options.name,
    mode: options.mode,
    url: state.url,
    port: listeners.port,
    adminUrl: state.adminUrl,
    faults: state.faults,
    webhookFaults: state.webhookFaults,
    requests: state.requests,
    store: (lc) => spaceFor(state, lc ?? defaultSpace),
    createLogicalCluster: (p) => spaceFor(state, p),
    registerTokenUser: (token, user) => state.authenticator.register(token, user),
    setWebhookCredentials: (fn) => {
      state.credentials = fn;
    },
    serverUrl,
    snapshot: () => ({
      resourceVersion: state.revision.rv,
      spaces: Object.fromEntries([...state.spaces].map(([name, space]) => [name, space.snapshot()])),
    }),
    retained: () => ({
      watchEvents: [...state.spaces.values()].reduce((n, space) => n + space.historySize, 0),
      requestRecords: state.requests.size,
      events: [...state.spaces.values()].reduce((n, space) => n + space.eventCount, 0),
    }),
    restore: (snapshot) => restoreSnapshot(state, snapshot),
    writeKubeconfig: (file, opts = {}) => {
      const name = isKcp
        ? `kcp-${(opts.logicalCluster ?? defaultSpace).replace(/:/g, '-')}`
        : `cluster-${options.name}`;
      writeKubeconfigFile(
        file,
        name,
        serverUrl(opts.logicalCluster),
        opts.token ?? options.token ?? `sim-token-${options.name}`,
      );
    },
    stop: async () => {
      for (const c of state.controllers) c.stop();
      for (const space of state.spaces.values()) space.stop();
      for (const release of state.held.splice(0)) release();
      state.admission.close();
      for (const socket of state.sockets) socket.destroy();
      adminServer.closeAllConnections();
      await new Promise<void>((resolve) => adminServer.close(() => resolve()));
      if (listeners.listening()) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function restoreSnapshot(state: ServerState, snapshot: SimSnapshot): { restored: number; skipped: number } {
  let restored = 0;
  let skipped = 0;
  state.revision.rv = Math.max(state.revision.rv, snapshot.resourceVersion);
  for (const [name, objects] of Object.entries(snapshot.spaces)) {
    const space = spaceFor(state, name);
    for (const object of objects) {
      if (space.restore(object as KubeObject)) restored++;
      else skipped++;
    }
  }
  return { restored, skipped };
}
