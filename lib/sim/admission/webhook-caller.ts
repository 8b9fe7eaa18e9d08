import http from 'node:http';
import https from 'node:https';
import type { WebhookFault } from './webhook-faults';

/** Credentials for a webhook URL, as kube-apiserver takes them from its admission kubeconfig. */
export interface WebhookCredentials {
  token?: string;
}

export interface WebhookCall {
  url: string;
  body: unknown;
  timeoutSeconds: number;
  caBundle?: string;
  credentials?: WebhookCredentials;
  fault?: WebhookFault;
}

/** The parsed JSON body of a 2xx answer, or the reason the call failed worded as Go's client words it. */
export type WebhookCallResult = { ok: true; body: unknown } | { ok: false; reason: string };

const MAX_RESPONSE_BYTES = 3 * 1024 * 1024;
/** How a request fails when the server closed its connection before answering. */
const CLOSED_BY_PEER: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE']);

/**
 * POSTs admission reviews. node:http(s) rather than fetch: a webhook's caBundle must be trusted for that
 * webhook only, which fetch cannot express without undici's dispatcher; keep-alive agents are reused per CA.
 */
export interface WebhookCaller {
  call(request: WebhookCall): Promise<WebhookCallResult>;
  close(): void;
}

export function createWebhookCaller(): WebhookCaller {
  const httpAgent = new http.Agent({ keepAlive: true });
  const httpsAgents = new Map<string, https.Agent>();

  function agentFor(url: URL, caBundle: string | undefined): http.Agent {
    if (url.protocol !== 'https:') return httpAgent;
    const key = caBundle ?? '';
    let agent = httpsAgents.get(key);
    if (!agent) {
      agent = new https.Agent({
        keepAlive: true,
        ...(caBundle ? { ca: Buffer.from(caBundle, 'base64').toString('utf8') } : {}),
      });
      httpsAgents.set(key, agent);
    }
    return agent;
  }

  async function call(request: WebhookCall): Promise<WebhookCallResult> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return { ok: false, reason: `failed to call webhook: parse "${request.url}": invalid URL` };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return {
        ok: false,
        reason: `failed to call webhook: Post "${request.url}": unsupported protocol scheme "${url.protocol.replace(':', '')}"`,
      };
    }
    // kube-apiserver tells the webhook its deadline in a `timeout` query parameter.
    url.searchParams.set('timeout', `${request.timeoutSeconds}s`);
    const post = (detail: string): WebhookCallResult => ({
      ok: false,
      reason: `failed to call webhook: Post "${url.toString()}": ${detail}`,
    });
    const timeoutMs = request.timeoutSeconds * 1000;
    const deadline = post('context deadline exceeded');
    const started = Date.now();

    const fault = request.fault;
    if (fault?.kind === 'refuse') return post(`dial tcp ${url.host}: connect: connection refused`);
    if (fault?.kind === 'hang') return sleep(timeoutMs).then(() => deadline);
    if (fault?.kind === 'status') return fromStatus(fault.code, fault.body ?? 'injected fault');
    if (fault?.kind === 'latency') {
      if (fault.ms >= timeoutMs) return sleep(timeoutMs).then(() => deadline);
      await sleep(fault.ms);
    }

    const remainingMs = Math.max(1, timeoutMs - (Date.now() - started));
    const payload = JSON.stringify(request.body);
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/json',
      accept: 'application/json, */*',
      'content-length': Buffer.byteLength(payload),
      'user-agent': 'kube-apiserver-admission',
    };
    if (request.credentials?.token) headers.authorization = `Bearer ${request.credentials.token}`;
    const transport = url.protocol === 'https:' ? https : http;

    // One deadline for the call, however many connections it takes.
    const signal = AbortSignal.timeout(remainingMs);
    const agent = agentFor(url, request.caBundle);
    for (;;) {
      const attempt = await postOnce();
      if (attempt !== 'server-closed-idle') return attempt;
    }

    /**
     * One POST. 'server-closed-idle' when it went out on a kept-alive connection that the server closed without
     * answering: kube-apiserver's client (Go's transport) sees a server close an idle connection as it happens and
     * never sends on it, while node's agent learns of it only when this thread next reads the socket, which a busy
     * thread does seconds late (the local stack's webhook server and this caller share a thread, and a status report
     * lost this way was only brought back by the backstop). So the call goes again on another connection, as node's
     * documentation of `request.reusedSocket` advises, instead of failing open on a call the webhook never answered.
     * Should the server have read it after all, a second call is harmless: kube-apiserver may call a webhook more than
     * once for one write, and tmc's webhooks are idempotent.
     */
    function postOnce(): Promise<WebhookCallResult | 'server-closed-idle'> {
      return new Promise((resolve) => {
        const req = transport.request(url, { method: 'POST', headers, agent, signal }, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              req.destroy(new Error('webhook response exceeds the size limit'));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const code = res.statusCode ?? 0;
            if (code < 200 || code > 299) {
              resolve(fromStatus(code, text));
              return;
            }
            try {
              resolve({ ok: true, body: JSON.parse(text) as unknown });
            } catch (error) {
              resolve({
                ok: false,
                reason: `failed to call webhook: couldn't get version/kind; json parse error: ${(error as Error).message}`,
              });
            }
          });
          res.on('error', (error) => resolve(transportError(error)));
        });
        req.on('error', (error: NodeJS.ErrnoException) =>
          resolve(
            req.reusedSocket && !signal.aborted && CLOSED_BY_PEER.has(error.code ?? '')
              ? 'server-closed-idle'
              : transportError(error),
          ),
        );
        req.end(payload);
      });
    }

    function transportError(error: NodeJS.ErrnoException): WebhookCallResult {
      if (error.name === 'AbortError' || error.name === 'TimeoutError') return deadline;
      if (error.code === 'ECONNREFUSED') return post(`dial tcp ${url.host}: connect: connection refused`);
      if (error.code === 'ECONNRESET') return post('EOF');
      if (error.code === 'ENOTFOUND') return post(`dial tcp: lookup ${url.hostname}: no such host`);
      return post(error.message);
    }
  }

  return {
    call,
    close: (): void => {
      httpAgent.destroy();
      for (const agent of httpsAgents.values()) agent.destroy();
      httpsAgents.clear();
    },
  };
}

/** client-go's rest client turns a non-2xx answer without a Status body into these messages. */
function fromStatus(code: number, text: string): WebhookCallResult {
  try {
    const status = JSON.parse(text) as { kind?: unknown; message?: unknown };
    if (status.kind === 'Status' && typeof status.message === 'string')
      return { ok: false, reason: `failed to call webhook: ${status.message}` };
  } catch {
    // not a Status body: fall through to client-go's generic wording
  }
  if (code === 404)
    return { ok: false, reason: 'failed to call webhook: the server could not find the requested resource' };
  if (code === 401) return { ok: false, reason: 'failed to call webhook: Unauthorized' };
  const body = text.trim().slice(0, 1024);
  return {
    ok: false,
    reason: `failed to call webhook: an error on the server ("${body}") has prevented the request from succeeding`,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
