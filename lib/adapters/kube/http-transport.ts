import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface KubeHttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query below the server URL, starting with `/`. */
  path: string;
  body?: unknown;
  contentType?: string;
  /**
   * How long the request may wait on its socket: for the TCP connect, and then between any two reads or writes. A
   * request ends with a code ETIMEDOUT error when either passes it; a slow answer that keeps arriving is bounded by
   * the invocation's deadline (`signal`) only.
   */
  timeoutMs: number;
  /** Aborts the request (the invocation's deadline); the request fails with the signal's AbortError. */
  signal?: AbortSignal;
}

export interface KubeHttpResponse {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON when the server sent JSON, else undefined. */
  json: unknown;
}

/** What a request carries from the KubeConfig: its headers (auth, impersonation) and the TLS material for the agent. */
interface RequestAuth {
  headers: Readonly<Record<string, string>>;
  tls: https.RequestOptions;
}

/**
 * One keep-alive connection pool per endpoint. client-node's own request path builds a new Agent for every call
 * (no connection reuse), so tmc takes the TLS material and auth headers from the KubeConfig and sends the request over
 * its own long-lived Agent. A user with an exec plugin or an auth provider (OIDC, a token file through
 * `auth-provider`) is asked for its headers on every request, so its tokens refresh; any other user's credentials are
 * fixed when the kubeconfig is loaded (a token, a client certificate, basic auth), so they are read once.
 */
export class KubeHttpTransport {
  private readonly base: URL;
  /** The server URL's path (kcp: /clusters/<workspace>) without its trailing slash: request paths are appended. */
  private readonly basePath: string;
  private readonly isHttps: boolean;
  /** Whether the user's credentials can change between requests (exec plugin, auth provider). */
  private readonly refreshesAuth: boolean;
  private fixedAuth: Promise<RequestAuth> | undefined;
  private agent: http.Agent | undefined;

  constructor(
    private readonly config: KubeConfig,
    private readonly maxSockets: number,
    private readonly bearerToken?: () => Promise<string>,
  ) {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error('KubeConfig has no current cluster');
    this.base = new URL(cluster.server);
    this.basePath = this.base.pathname.replace(/\/+$/, '');
    this.isHttps = this.base.protocol === 'https:';
    const user = config.getCurrentUser();
    this.refreshesAuth = user?.exec !== undefined || user?.authProvider !== undefined;
  }

  /** Closes idle sockets (for tests and for `forget`). */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  async request(req: KubeHttpRequest): Promise<KubeHttpResponse> {
    const auth = await this.auth();
    const agent = this.agentFor(auth.tls);
    const headers: Record<string, string> = { ...auth.headers };
    if (this.bearerToken) headers.Authorization = `Bearer ${await this.bearerToken()}`;
    let payload: Buffer | undefined;
    if (req.body !== undefined) {
      payload = Buffer.from(JSON.stringify(req.body));
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const isHttps = this.isHttps;
    const send = isHttps ? https.request : http.request;
    return new Promise<KubeHttpResponse>((resolve, reject) => {
      const request = send(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port || (isHttps ? 443 : 80),
          method: req.method,
          path: `${this.basePath}${req.path}`,
          headers,
          agent,
          servername: auth.tls.servername,
          signal: req.signal,
          // Set on a new socket before it connects: `setTimeout` below starts only once the socket is connected, so a
          // cluster whose connect hangs (a firewall dropping packets, a full accept queue) would otherwise hold the
          // request until the invocation's deadline or the kernel's connect timeout (about two minutes on Linux).
          timeout: req.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            if (text && (res.headers['content-type'] ?? '').includes('json')) {
              try {
                json = JSON.parse(text);
              } catch {
                json = undefined;
              }
            }
            resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, json });
          });
        },
      );
      request.setTimeout(req.timeoutMs, () => {
        const err = new Error(`request timed out after ${req.timeoutMs} ms`) as Error & { code: string };
        err.code = 'ETIMEDOUT';
        request.destroy(err);
      });
      request.on('error', reject);
      request.end(payload);
    });
  }

  /** The user's headers and TLS material: asked for per request when they can change, else once (until one fails). */
  private auth(): Promise<RequestAuth> {
    if (this.refreshesAuth) return this.readAuth();
    if (this.fixedAuth === undefined) {
      const reading = this.readAuth();
      this.fixedAuth = reading;
      reading.catch(() => {
        if (this.fixedAuth === reading) this.fixedAuth = undefined;
      });
    }
    return this.fixedAuth;
  }

  private async readAuth(): Promise<RequestAuth> {
    const opts: https.RequestOptions = { headers: {} };
    await this.config.applyToHTTPSOptions(opts);
    const headers: Record<string, string> = { Accept: 'application/json' };
    for (const [key, value] of Object.entries(opts.headers ?? {})) {
      if (typeof value === 'string' || typeof value === 'number') headers[key] = String(value);
    }
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    return { headers, tls: opts };
  }

  private agentFor(opts: https.RequestOptions): http.Agent {
    if (this.agent) return this.agent;
    const common = { keepAlive: true, maxSockets: this.maxSockets };
    this.agent =
      this.base.protocol === 'https:'
        ? new https.Agent({
            ...common,
            ca: opts.ca,
            cert: opts.cert,
            key: opts.key,
            rejectUnauthorized: opts.rejectUnauthorized,
            servername: opts.servername,
          })
        : new http.Agent(common);
    return this.agent;
  }
}
