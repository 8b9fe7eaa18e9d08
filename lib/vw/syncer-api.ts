import type { Log } from '../observability/log';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { bearerToken } from '../auth/constant-time';
import { ObjectRefSchema } from '../api/object-ref';
import { asTmcError } from '../errors/tmc-error';
import { SyncRecordSchema } from '../ports/sync-state-store';
import {
  FinalizerReleaseSchema,
  ReadRequestSchema,
  StatusReportSchema,
  SyncerScopeError,
  SyncerView,
  syncerSubject,
  type SyncerViewDeps,
} from './syncer-view';

/** Checks a presented credential against the digests stored for a subject (lib/auth/status-credentials.ts). */
export interface SyncerAuthenticator {
  authenticate(subject: string, presented: string): Promise<boolean>;
}

export interface SyncerApiDeps extends SyncerViewDeps {
  authenticator: SyncerAuthenticator;
  logger?: Log;
}

export type SyncerApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** `/syncers/<workspace>/<cluster>[/<operation>]`: the syncer protocol's paths (lib/runtime/resources.ts ROUTES). */
const PATH = /^\/syncers\/([^/]+)\/([^/]+)(?:\/([a-z-]+))?$/;

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: JSON_HEADERS, body: JSON.stringify(body) };
}

function failure(statusCode: number, reason: string, message: string): APIGatewayProxyStructuredResultV2 {
  return json(statusCode, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: statusCode, reason, message });
}

function bodyOf(event: APIGatewayProxyEventV2): unknown {
  const text =
    event.body === undefined
      ? ''
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  return text === '' ? {} : JSON.parse(text);
}

/**
 * The syncer's protocol (docs/virtual-workspace.md): JSON over the HTTP API, authenticated by the SyncTarget's own
 * bearer credential, which is checked against the (workspace, cluster) in the path before anything is read.
 */
export function makeSyncerApiHandler(deps: SyncerApiDeps): SyncerApiHandler {
  return async (event) => {
    const method = event.requestContext?.http?.method ?? 'GET';
    const match = PATH.exec(event.rawPath ?? '/');
    if (match === null) return failure(404, 'NotFound', `No route for ${event.rawPath}`);
    const scope = { workspace: decodeURIComponent(match[1]), cluster: decodeURIComponent(match[2]) };
    const operation = match[3] ?? 'info';
    const header = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
    const token = bearerToken(header);
    if (
      token === undefined ||
      !(await deps.authenticator.authenticate(syncerSubject(scope.workspace, scope.cluster), token))
    ) {
      return failure(
        401,
        'Unauthorized',
        `Credentials for SyncTarget ${scope.cluster} in ${scope.workspace} are required`,
      );
    }
    const view = new SyncerView(deps, scope);
    try {
      if (method === 'GET' && operation === 'info') return json(200, await view.info());
      if (method === 'GET' && operation === 'work') {
        const query = z
          .object({ after: z.string().optional(), limit: z.coerce.number().int().positive().optional() })
          .parse(event.queryStringParameters ?? {});
        return json(200, await view.work(query));
      }
      if (method !== 'POST') return failure(405, 'MethodNotAllowed', `${method} is not allowed on ${event.rawPath}`);
      const body = bodyOf(event);
      switch (operation) {
        case 'read':
          return json(200, await view.read(ReadRequestSchema.parse(body)));
        case 'records':
          await view.putRecord(SyncRecordSchema.parse(body));
          return json(200, { ok: true });
        case 'object': {
          const object = await view.object(ObjectRefSchema.parse(body));
          return object === undefined ? failure(404, 'NotFound', 'kcp has no such object') : json(200, object);
        }
        case 'release-finalizer': {
          const request = FinalizerReleaseSchema.parse(body);
          const object = await view.releaseFinalizer(request.ref, request.resourceVersion);
          return object === undefined ? failure(404, 'NotFound', 'kcp has no such object') : json(200, object);
        }
        case 'status':
          await view.reportStatus(StatusReportSchema.parse(body));
          return json(202, { ok: true });
        case 'heartbeat':
          await view.heartbeat();
          return json(200, { ok: true });
        default:
          return failure(404, 'NotFound', `No operation ${operation}`);
      }
    } catch (err) {
      if (err instanceof SyncerScopeError) {
        deps.logger?.warn('Refusing a syncer request outside its SyncTarget', {
          workspace: scope.workspace,
          cluster: scope.cluster,
          operation,
          reason: err.message,
        });
        return failure(403, 'Forbidden', err.message);
      }
      if (err instanceof z.ZodError || err instanceof SyntaxError)
        return failure(400, 'BadRequest', `Malformed ${operation} request: ${err.message.slice(0, 300)}`);
      const tmc = asTmcError(err);
      if (tmc.category === 'stale') return failure(409, 'Conflict', tmc.message);
      deps.logger?.error('A syncer request failed', {
        workspace: scope.workspace,
        cluster: scope.cluster,
        operation,
        error: tmc.toJSON(),
      });
      return failure(
        tmc.statusCode !== undefined && tmc.statusCode >= 400 ? tmc.statusCode : 500,
        tmc.name,
        tmc.message,
      );
    }
  };
}
