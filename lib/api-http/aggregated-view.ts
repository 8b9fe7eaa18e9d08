import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { LogicalClusterNameSchema } from '../api/logical-cluster';
import { asTmcError } from '../errors/tmc-error';
import type { KubeObject } from '../kube/object';
import { ApiError } from '../kube-api/api-error';
import {
  aggregatedDiscovery,
  aggregatedDiscoveryAnswer,
  apiGroupList,
  apiResourceList,
  apiVersions,
  READ_ONLY_VERBS,
  wantsAggregatedDiscovery,
} from '../kube-api/discovery';
import { parseFieldSelector } from '../kube-api/field-selector';
import { compileLabelSelector, parseLabelSelectorText } from '../kube-api/label-selector';
import { neverSyncedKind } from '../ingress/selection';
import { BUILTIN_RESOURCES } from '../kube-api/resource-catalog';
import { apiVersionOf, type ResourceInfo } from '../kube-api/resource-info';
import { toTable, wantsTable } from '../kube-api/table';
import { COPY_CLUSTER_LABEL, COPY_COLUMNS } from '../vw-user/copy-object';
import { listCopies, type AggregatedViewStores, type ClusterReadFailure, type CopyQuery } from '../vw-user/list-copies';
import type { Log } from '../observability/log';

/** Where the view is served: `<api>/services/aggregated/clusters/<workspace>` is a kubeconfig's `server`. */
export const AGGREGATED_VIEW_PREFIX = '/services/aggregated/';

/** Copies per page at most, whatever `limit` asks (kubectl asks 500): one page stays within the function's timeout. */
export const MAX_PAGE = 500;

/**
 * Kinds tmc never syncs (selection's rule: events, reviews, admission policies, …) and kinds a cluster makes for
 * itself (ReplicaSets of Deployments, Nodes): tmc keeps no copies of these, so the view does not offer them.
 */
const CLUSTER_MADE = new Set(['replicasets', 'nodes', 'csinodes', 'volumeattachments', 'csistoragecapacities']);
const SERVED: ResourceInfo[] = BUILTIN_RESOURCES.filter(
  (t) => !CLUSTER_MADE.has(t.resource) && !neverSyncedKind({ group: t.group, resource: t.resource }),
);

const READ_ONLY_MESSAGE =
  "tmc's aggregated view is read-only: it shows the copies tmc made on each cluster. Change the object in its kcp workspace instead, and tmc updates every copy";

export interface AggregatedViewDeps {
  stores: AggregatedViewStores;
  logger?: Log;
}

type Result = APIGatewayProxyStructuredResultV2;

function answer(statusCode: number, body: unknown, headers: Record<string, string> = {}): Result {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

function statusAnswer(error: ApiError, headers: Record<string, string> = {}): Result {
  return answer(error.code, error.toStatus(), headers);
}

/** RFC 7234 warn-values (`299 - "text"`), comma-joined: kubectl prints each as `Warning: text`. */
function warningHeader(failures: readonly ClusterReadFailure[]): Record<string, string> {
  if (failures.length === 0) return {};
  const quoted = (text: string): string => `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ')}"`;
  return {
    warning: failures
      .map((f) => `299 - ${quoted(`cluster ${f.cluster}: ${f.message}; its copies are not shown`)}`)
      .join(', '),
  };
}

/** What a request path asks for, below `/services/aggregated/clusters/<workspace>`. */
type Target =
  | { kind: 'discovery'; root: 'api' | 'apis' }
  | { kind: 'resources'; groupVersion: string }
  | { kind: 'version' }
  | { kind: 'objects'; info: ResourceInfo; namespace?: string; name?: string };

function findType(group: string, version: string, resource: string): ResourceInfo | undefined {
  return SERVED.find((t) => t.group === group && t.version === version && t.resource === resource);
}

function parseTarget(segments: string[]): Target | undefined {
  if (segments.length === 1 && segments[0] === 'version') return { kind: 'version' };
  if (segments.length === 1 && (segments[0] === 'api' || segments[0] === 'apis'))
    return { kind: 'discovery', root: segments[0] };
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 2) [group, version, rest] = ['', segments[1], segments.slice(2)];
  else if (segments[0] === 'apis' && segments.length >= 3)
    [group, version, rest] = [segments[1], segments[2], segments.slice(3)];
  else return undefined;
  if (rest.length === 0) return { kind: 'resources', groupVersion: group ? `${group}/${version}` : version };
  // `namespaces/<ns>/<resource>[/<name>]`, else `<resource>[/<name>]` (which includes `namespaces/<name>`).
  const namespaced = rest[0] === 'namespaces' && rest.length >= 3;
  const [namespace, resource, name, extra] = namespaced
    ? [rest[1], rest[2], rest[3], rest[4]]
    : [undefined, rest[0], rest[1], rest[2]];
  if (extra !== undefined) return undefined;
  const info = findType(group, version, resource);
  if (info === undefined || (namespace !== undefined && !info.namespaced)) return undefined;
  return {
    kind: 'objects',
    info,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
  };
}

/**
 * `-l` selects copies by their cluster only: a copy carries no labels but `tmc.kcp.io/cluster` (tmc keeps no object
 * content), so a selector on any other key is refused rather than answered with nothing. Returns the cluster filter.
 */
function clusterSelector(text: string | undefined): (cluster: string) => boolean {
  const selector = parseLabelSelectorText(text);
  const other = (selector.matchExpressions ?? []).map((r) => r.key).filter((key) => key !== COPY_CLUSTER_LABEL);
  if (other.length > 0) {
    throw ApiError.badRequest(
      `the aggregated view selects copies by the label ${COPY_CLUSTER_LABEL} only (asked: ${[...new Set(other)].join(', ')}); select by the object's own labels in its kcp workspace`,
    );
  }
  const matches = compileLabelSelector(selector);
  return (cluster) => matches({ [COPY_CLUSTER_LABEL]: cluster });
}

function pageLimit(text: string | undefined): number {
  if (text === undefined || text === '') return MAX_PAGE;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw ApiError.badRequest(`limit must be a non-negative integer, not ${text}`);
  return n === 0 ? MAX_PAGE : Math.min(n, MAX_PAGE);
}

function decodeSegments(path: string): string[] {
  try {
    return path
      .split('/')
      .filter(Boolean)
      .map((s) => decodeURIComponent(s));
  } catch {
    throw ApiError.badRequest(`the path ${path} is not valid`);
  }
}

/**
 * tmc's aggregated view (docs/virtual-workspace.md): a read-only Kubernetes API over every copy of every object of a
 * workspace on every cluster, for kubectl. The caller has authenticated; `path` starts with
 * {@link AGGREGATED_VIEW_PREFIX}.
 */
export async function serveAggregatedView(
  deps: AggregatedViewDeps,
  event: APIGatewayProxyEventV2,
  path: string,
): Promise<Result> {
  try {
    const segments = decodeSegments(path.slice(AGGREGATED_VIEW_PREFIX.length));
    if (segments[0] !== 'clusters' || segments.length < 2)
      throw new ApiError(
        404,
        'NotFound',
        `Serve the view at ${AGGREGATED_VIEW_PREFIX}clusters/<workspace>, e.g. ${AGGREGATED_VIEW_PREFIX}clusters/root:default`,
      );
    const workspace = LogicalClusterNameSchema.safeParse(segments[1]);
    if (!workspace.success) throw ApiError.badRequest(`${segments[1]} is not a workspace path (e.g. root:default)`);
    const method = event.requestContext?.http?.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD')
      throw new ApiError(405, 'MethodNotAllowed', `${READ_ONLY_MESSAGE} (${method} refused)`);
    const query = event.queryStringParameters ?? {};
    const target = parseTarget(segments.slice(2));
    if (target === undefined) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const accept = event.headers?.accept;
    switch (target.kind) {
      case 'version':
        return answer(200, {
          major: '1',
          minor: '32',
          gitVersion: 'v1.32.0-tmc-aggregated-view',
          platform: 'linux/amd64',
        });
      case 'discovery': {
        if (wantsAggregatedDiscovery(accept)) {
          const discovery = aggregatedDiscoveryAnswer(
            aggregatedDiscovery(SERVED, target.root, READ_ONLY_VERBS),
            event.headers?.['if-none-match'],
          );
          return {
            statusCode: discovery.statusCode,
            headers: { ...discovery.headers, 'cache-control': 'no-cache' },
            body: discovery.text,
          };
        }
        return answer(200, target.root === 'api' ? apiVersions() : apiGroupList(SERVED));
      }
      case 'resources': {
        const list = apiResourceList(SERVED, target.groupVersion, READ_ONLY_VERBS);
        if (list === undefined) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
        return answer(200, list);
      }
      case 'objects':
        if (query.watch === 'true' || query.watch === '1') {
          throw new ApiError(
            405,
            'MethodNotAllowed',
            'watch is not served by the aggregated view (its HTTP API answers each request whole); run kubectl get again to see newer status',
          );
        }
        return await serveObjects(deps, workspace.data, target, query, accept);
    }
  } catch (err) {
    if (err instanceof ApiError) return statusAnswer(err);
    const error = asTmcError(err);
    deps.logger?.error('Serving the aggregated view failed', { path, error: error.toJSON() });
    return statusAnswer(
      new ApiError(503, 'ServiceUnavailable', `Reading tmc's state failed, try again: ${error.message}`),
    );
  }
}

async function serveObjects(
  deps: AggregatedViewDeps,
  workspace: string,
  target: Extract<Target, { kind: 'objects' }>,
  query: Record<string, string | undefined>,
  accept: string | undefined,
): Promise<Result> {
  const { info, name } = target;
  const request: CopyQuery = {
    workspace,
    type: info,
    ...(target.namespace !== undefined ? { namespace: target.namespace } : name !== undefined ? { namespace: '' } : {}),
    ...(name !== undefined ? { name } : {}),
    selectsCluster: clusterSelector(query.labelSelector),
    limit: name !== undefined ? MAX_PAGE : pageLimit(query.limit),
    ...(query.continue ? { continueToken: query.continue } : {}),
  };
  const selectsFields = parseFieldSelector(query.fieldSelector);
  const page = await listCopies(deps.stores, request);
  const copies = page.copies.filter(selectsFields);
  const warnings = warningHeader(page.failures);
  const more = page.continueToken !== undefined ? { continue: page.continueToken } : {};

  if (name !== undefined) {
    if (copies.length === 0 && page.failures.length > 0) {
      const clusters = page.failures.map((f) => f.cluster).join(', ');
      throw new ApiError(
        503,
        'ServiceUnavailable',
        `copies of ${info.resource} "${name}" could not be read on ${clusters}: ${page.failures.map((f) => f.message).join('; ')}`,
      );
    }
    if (copies.length === 0) throw ApiError.notFound(info, name);
    // One name has a copy per cluster: one object when there is one copy, else a List of them.
    if (wantsTable(accept)) return answer(200, toTable(info, copies, '0', {}, COPY_COLUMNS), warnings);
    return answer(
      200,
      copies.length === 1 ? copies[0] : listOf({ group: '', version: 'v1', kind: '' }, copies, {}),
      warnings,
    );
  }
  if (wantsTable(accept)) return answer(200, toTable(info, copies, '0', more, COPY_COLUMNS), warnings);
  return answer(200, listOf(info, copies, more), warnings);
}

/** `<Kind>List` (a plain `List` for several copies of one name), as kube-apiserver answers a list. */
function listOf(
  info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>,
  items: KubeObject[],
  metadata: Record<string, unknown>,
): Record<string, unknown> {
  return {
    kind: `${info.kind}List`,
    apiVersion: apiVersionOf(info),
    metadata: { resourceVersion: '0', ...metadata },
    items,
  };
}
