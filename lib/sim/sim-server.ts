import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { z } from 'zod';
import {
  createAdmissionDispatcher,
  createWebhookFaultInjector,
  type ClosableAdmissionDispatcher,
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
import { impersonatedUser, TokenAuthenticator } from './authentication';
import { authorizeRequest, impersonationAttributes, ServiceAccountTokens } from './rbac';

export interface SimServerOptions {
  name: string;
  mode: 'kcp' | 'cluster';
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
  /** What the server holds beyond its objects: watch events kept for resuming watches, request log records. */
  retained(): { watchEvents: number; requestRecords: number };
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

/** Starts one simulated API server: a kcp (logical clusters under /clusters/<path>) or a plain physical cluster. */
export async function startSimServer(options: SimServerOptions): Promise<SimServer> {
  let rv = 0;
  const clock: RevisionClock = { next: () => ++rv, current: () => rv };
  let credentials: ((url: string) => WebhookCredentials | undefined) | undefined;
  const webhookFaults = createWebhookFaultInjector();
  const admission: ClosableAdmissionDispatcher = createAdmissionDispatcher({
    credentialsFor: (url) => (options.managed ? undefined : credentials?.(url)),
    faults: webhookFaults,
  });
  const spaces = new Map<string, ObjectSpace>();
  const controllers: WorkloadSimulator[] = [];
  const faults = new FaultController();
  const requests = new RequestLog(options.requestLogLimit);
  const authenticator = new TokenAuthenticator();
  const serviceAccountTokens = new ServiceAccountTokens(authenticator);
  const isKcp = options.mode === 'kcp';
  const defaultSpace = isKcp ? 'root' : options.name;

  const spaceFor = (name: string): ObjectSpace => {
    let space = spaces.get(name);
    if (!space) {
      space = new ObjectSpace(name, clock, admission, isKcp, options.watchHistory, options.watchHistoryMs);
      spaces.set(name, space);
      if (!isKcp) {
        controllers.push(
          startWorkloadSimulator(space, {
            readyDelayMs: options.workloads?.readyDelayMs ?? 1000,
            simulatePods: options.workloads?.simulatePods ?? false,
            capacity: options.workloads?.capacity,
            nodes: options.workloads?.nodes,
          }),
        );
      }
    }
    return space;
  };
  spaceFor(defaultSpace);

  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();

  // Both are known once the listeners are up (the side channel answers only after that).
  let url = '';
  let adminUrl = '';
  /** A socket that a `down` set over it keeps until its answer is out. */
  let sparedSocket: Socket | undefined;

  /** The operator's side channel, `/_sim/*`: served on the API port and on the admin port (which `down` leaves up). */
  const serveSimChannel = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (path === '/_sim/requests') return send(res, 200, { items: requests.entries() });
    if (path === '/_sim/info') return send(res, 200, { name: options.name, mode: options.mode, url, adminUrl });
    if (path !== '/_sim/faults') throw ApiError.notFoundResource({ group: '', version: '', resource: path });
    // Faults at run time without code: `curl -X PUT -d '{"errorRate":0.1}' <url>/_sim/faults`. A PUT replaces the
    // whole fault state; `{}` clears it.
    if (req.method === 'PUT') {
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
      sparedSocket = req.socket;
      try {
        faults.set(parsed.data);
      } finally {
        sparedSocket = undefined;
      }
      // `down` sent to the API port: this answer is the last thing that connection carries.
      if (parsed.data.down && sockets.has(req.socket)) res.setHeader('Connection', 'close');
    } else if (req.method !== 'GET') {
      throw new ApiError(405, 'MethodNotAllowed', 'GET or PUT /_sim/faults');
    }
    return send(res, 200, faults.state());
  };

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim');
    let path = url.pathname;
    let logicalCluster = defaultSpace;
    let wildcard = false;
    if (isKcp && path.startsWith('/clusters/')) {
      const rest = path.slice('/clusters/'.length);
      const slash = rest.indexOf('/');
      logicalCluster = decodeURIComponent(slash < 0 ? rest : rest.slice(0, slash));
      path = slash < 0 ? '/' : rest.slice(slash);
      wildcard = logicalCluster === '*';
    }
    // `kubectl --as`: the request acts as the impersonated user, whom RBAC then decides for (lib/sim/rbac.ts).
    const caller = authenticator.userOf(req);
    const impersonated = impersonatedUser(req);
    const user = impersonated ?? caller;
    const record: Omit<RequestRecord, 'code'> = {
      verb: (req.method ?? 'GET').toLowerCase(),
      group: '',
      resource: '',
      logicalCluster,
      userAgent: req.headers['user-agent'] ?? '',
      user: user.username,
      at: Date.now(),
    };
    let code = 200;
    const origWriteHead = res.writeHead.bind(res);
    res.writeHead = ((status: number, ...rest: unknown[]) => {
      code = status;
      return (origWriteHead as (...a: unknown[]) => ServerResponse)(status, ...rest);
    }) as typeof res.writeHead;
    res.on('finish', () => requests.add({ ...record, code }));
    res.on('close', () => {
      if (!res.writableFinished) requests.add({ ...record, code });
    });

    try {
      const latency = (options.latencyMs ?? 0) + (faults.current.latencyMs ?? 0);
      if (latency > 0) await new Promise((r) => setTimeout(r, latency));
      // /_sim/* is the operator's side channel: a partition must not cut off the request that ends it.
      if (faults.current.partition && !path.startsWith('/_sim/'))
        await new Promise<void>((resolve) => held.push(resolve));
      // A ServiceAccount token the server issued authenticates too (then RBAC decides: lib/sim/rbac.ts).
      if (
        options.token !== undefined &&
        req.headers.authorization !== `Bearer ${options.token}` &&
        !serviceAccountTokens.holds(req)
      ) {
        throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      }
      if (path.startsWith('/_sim/')) return await serveSimChannel(req, res, path);
      const segs = path.split('/').filter(Boolean);
      const resourceRequest = KNOWN_GROUP_PREFIXES.includes(`/${segs[0]}`) ? parseResourcePath(segs) : undefined;
      const verb = resourceRequest ? kubeVerb(req, url, resourceRequest) : undefined;
      const faulted = (): FaultedRequest | undefined =>
        resourceRequest && verb
          ? {
              verb,
              group: resourceRequest.group,
              resource: resourceRequest.resource,
              name: resourceRequest.name,
              resourceVersion: url.searchParams.get('resourceVersion') ?? undefined,
              currentResourceVersion: clock.current(),
            }
          : undefined;
      const described =
        resourceRequest && verb
          ? {
              ...record,
              group: resourceRequest.group,
              resource: resourceRequest.resource,
              subresource: resourceRequest.subresource,
              namespace: resourceRequest.namespace,
              name: resourceRequest.name,
              verb,
            }
          : undefined;
      // Name what a fault answered, so a test can count the attempts per object it refused.
      const recordResource = (): void => void (described && Object.assign(record, described));
      const rule = described ? faults.ruleFor(described) : undefined;
      let respondEmpty = false;
      if (rule) {
        recordResource();
        if (rule.respond === 'hang' || rule.respond === 'reset') {
          code = 0;
          if (rule.respond === 'reset') return void req.socket.resetAndDestroy();
          // Held until the client gives up or the server stops (which destroys every socket).
          if (!res.closed) await new Promise<void>((resolve) => res.once('close', () => resolve()));
          return;
        }
        if (rule.respond === 'empty') respondEmpty = true;
        else if (rule.respond !== 410 || verb !== 'watch') {
          if (rule.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(rule.retryAfterSeconds));
          throw faultError(rule.respond, faulted(), rule.retryAfterSeconds);
        }
      }
      const injected = rule ? undefined : faults.pickError();
      if (injected) {
        if (injected.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(injected.retryAfterSeconds));
        recordResource();
        throw faultError(injected.code, faulted(), injected.retryAfterSeconds);
      }
      const space = wildcard ? spaceFor(defaultSpace) : spaceFor(logicalCluster);
      if (path === '/version')
        return send(res, 200, {
          major: '1',
          minor: '32',
          gitVersion: 'v1.32.0-tmc-sim',
          gitCommit: 'tmc-sim',
          platform: 'linux/amd64',
          goVersion: 'go1.23',
        });
      if (path === '/healthz' || path === '/livez' || path === '/readyz') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return void res.end('ok');
      }
      if ((path === '/api' || path === '/apis') && wantsAggregatedDiscovery(req.headers.accept)) {
        return sendAggregatedDiscovery(
          req,
          res,
          aggregatedDiscovery(space.allTypes(), path === '/api' ? 'api' : 'apis'),
        );
      }
      if (path === '/api') return send(res, 200, apiVersions());
      if (path === '/apis') return send(res, 200, apiGroupList(space.allTypes()));
      if (path === '/openapi/v2') return sendOpenApiV2(req, res);
      if (path === '/openapi/v3')
        return send(
          res,
          200,
          openApiV3Root(
            space.allTypes(),
            isKcp && !wildcard && url.pathname.startsWith('/clusters/') ? `/clusters/${logicalCluster}` : '',
          ),
        );
      if (path.startsWith('/openapi/v3/')) {
        const gv = segs[2] === 'api' ? segs[3] : `${segs[3]}/${segs[4]}`;
        const doc = openApiV3Document(space.allTypes(), gv, builtinOpenApi());
        if (!doc) throw ApiError.notFoundResource({ group: '', version: gv, resource: '' });
        return send(res, 200, doc);
      }
      if (KNOWN_GROUP_PREFIXES.includes(`/${segs[0]}`)) {
        const gvOnly = segs[0] === 'api' ? segs.length === 2 : segs.length === 3;
        if (gvOnly) {
          const gv = segs[0] === 'api' ? segs[1] : `${segs[1]}/${segs[2]}`;
          const list = apiResourceList(space.allTypes(), gv);
          if (!list) throw ApiError.notFoundResource({ group: segs[1] ?? '', version: gv, resource: '' });
          return send(res, 200, list);
        }
        if (segs[0] === 'apis' && segs.length === 2) {
          const group = (apiGroupList(space.allTypes()).groups as Array<{ name: string }>).find(
            (g) => g.name === segs[1],
          );
          if (!group) throw ApiError.notFoundResource({ group: segs[1], version: '', resource: '' });
          return send(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...group });
        }
        const r = resourceRequest;
        if (!r) throw ApiError.notFoundResource({ group: '', version: '', resource: path });
        Object.assign(record, {
          group: r.group,
          resource: r.resource,
          subresource: r.subresource,
          namespace: r.namespace,
          name: r.name,
        });
        if (wildcard && (req.method ?? 'GET') !== 'GET')
          throw new ApiError(405, 'MethodNotAllowed', 'wildcard requests across logical clusters are read-only');
        const rbacSubject = serviceAccountTokens.holds(req) || impersonated !== undefined;
        if (rbacSubject) {
          if (verb) record.verb = verb; // a refused request is logged with the verb it asked for
          // Impersonating takes the `impersonate` verb on the user (or ServiceAccount) from a token RBAC decides for.
          if (impersonated && serviceAccountTokens.holds(req))
            authorizeRequest(space, caller, impersonationAttributes(impersonated.username), () => true);
          authorizeRequest(space, user, { ...r, verb: verb ?? 'get' }, () =>
            r.name === undefined ? false : space.get(r, r.namespace, r.name) !== undefined,
          );
        }
        if (
          r.resource === 'serviceaccounts' &&
          r.subresource === 'token' &&
          r.namespace &&
          r.name &&
          verb === 'create'
        ) {
          await readBody(req);
          return send(res, 201, serviceAccountTokens.issue(space, r.namespace, r.name));
        }
        // events.k8s.io/v1 Events are core/v1 Events converted (lib/sim/event-views.ts), as in kube-apiserver.
        return await (isEventsV1(r) ? handleEventsV1 : handleResource)(req, res, url, r, {
          space,
          admission,
          currentRv: clock.current,
          setVerb: (verb) => (record.verb = verb),
          watchSpaces: wildcard ? [...spaces.values()] : [space],
          user,
          rbacSubject,
          authenticator,
          fault: respondEmpty ? 'empty' : rule?.respond === 410 ? 'expired' : undefined,
        });
      }
      throw ApiError.notFoundResource({ group: '', version: '', resource: path });
    } catch (err) {
      sendError(req, res, err);
    }
  };

  /** The admin port: only the side channel, so that a server that is `down` can still be told to come back. */
  const adminHandler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    try {
      if (!path.startsWith('/_sim/'))
        throw new ApiError(
          404,
          'NotFound',
          `this is the simulator's admin port: it serves only /_sim/*; the API is at ${url}`,
        );
      await serveSimChannel(req, res, path);
    } catch (err) {
      sendError(req, res, err);
    }
  };

  const server: Server = createServer((req, res) => void handler(req, res));
  server.keepAliveTimeout = 65_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const adminServer: Server = createServer((req, res) => void adminHandler(req, res));
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port ?? 0, host);
  url = `http://${host}:${port}`;
  adminUrl = `http://${host}:${await listen(adminServer, options.adminPort ?? 0, host)}`;
  let listening = true;

  faults.onChange((s) => {
    if (!s.partition) for (const release of held.splice(0)) release();
    if (s.down && listening) {
      listening = false;
      server.close();
      for (const socket of sockets) if (socket !== sparedSocket) socket.destroy();
    } else if (!s.down && !listening) {
      listening = true;
      server.listen(port, host);
    }
  });

  const serverUrl = (logicalCluster?: string): string =>
    isKcp ? `${url}/clusters/${logicalCluster ?? defaultSpace}` : url;

  return {
    name: options.name,
    mode: options.mode,
    url,
    port,
    adminUrl,
    faults,
    webhookFaults,
    requests,
    store: (lc) => spaceFor(lc ?? defaultSpace),
    createLogicalCluster: (p) => spaceFor(p),
    registerTokenUser: (token, user) => authenticator.register(token, user),
    setWebhookCredentials: (fn) => {
      credentials = fn;
    },
    serverUrl,
    snapshot: () => ({
      resourceVersion: rv,
      spaces: Object.fromEntries([...spaces].map(([name, space]) => [name, space.snapshot()])),
    }),
    retained: () => ({
      watchEvents: [...spaces.values()].reduce((n, space) => n + space.historySize, 0),
      requestRecords: requests.size,
    }),
    restore: (snapshot) => {
      let restored = 0;
      let skipped = 0;
      rv = Math.max(rv, snapshot.resourceVersion);
      for (const [name, objects] of Object.entries(snapshot.spaces)) {
        const space = spaceFor(name);
        for (const object of objects) {
          if (space.restore(object as KubeObject)) restored++;
          else skipped++;
        }
      }
      return { restored, skipped };
    },
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
      for (const c of controllers) c.stop();
      for (const space of spaces.values()) space.stop();
      for (const release of held.splice(0)) release();
      admission.close();
      for (const socket of sockets) socket.destroy();
      adminServer.closeAllConnections();
      await new Promise<void>((resolve) => adminServer.close(() => resolve()));
      if (listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
