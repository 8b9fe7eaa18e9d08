import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceInfo } from './resource-info';
import { apiVersionOf } from './resource-info';

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
/** The verbs a read-only server (tmc's aggregated view) declares. */
export const READ_ONLY_VERBS: readonly string[] = ['get', 'list'];

/** A resource's verbs among those the server declares (a review or a Binding is `create` only). */
const verbsOf = (t: ResourceInfo, verbs: readonly string[]): readonly string[] =>
  t.verbs ? t.verbs.filter((v) => verbs.includes(v)) : verbs;

/** A subresource's verbs among those the server declares. */
const subresourceVerbs = (verbs: readonly string[]): string[] =>
  ['get', 'patch', 'update'].filter((v) => verbs.includes(v));

export function groupVersions(types: ResourceInfo[]): Map<string, ResourceInfo[]> {
  const byGv = new Map<string, ResourceInfo[]>();
  for (const t of types) {
    const gv = apiVersionOf(t);
    byGv.set(gv, [...(byGv.get(gv) ?? []), t]);
  }
  return byGv;
}

export function apiVersions(): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }],
  };
}

/** Plain APIGroupList: kubectl accepts it when it asked for aggregated discovery. */
export function apiGroupList(types: ResourceInfo[]): Record<string, unknown> {
  const groups = new Map<string, string[]>();
  for (const t of types) {
    if (!t.group) continue;
    const versions = groups.get(t.group) ?? [];
    if (!versions.includes(t.version)) versions.push(t.version);
    groups.set(t.group, versions);
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups.entries()].map(([name, versions]) => ({
      name,
      versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
    })),
  };
}

export function apiResourceList(
  types: ResourceInfo[],
  groupVersion: string,
  verbs: readonly string[] = VERBS,
): Record<string, unknown> | undefined {
  const list = groupVersions(types).get(groupVersion);
  if (!list) return undefined;
  const resources: Array<Record<string, unknown>> = [];
  for (const t of list) {
    resources.push({
      name: t.resource,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: verbsOf(t, verbs),
      ...(t.shortNames ? { shortNames: t.shortNames } : {}),
      ...(t.categories ? { categories: t.categories } : {}),
    });
    if (t.hasStatus)
      resources.push({
        name: `${t.resource}/status`,
        singularName: '',
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: subresourceVerbs(verbs),
      });
    if (t.hasScale)
      resources.push({
        name: `${t.resource}/scale`,
        singularName: '',
        namespaced: t.namespaced,
        group: 'autoscaling',
        version: 'v1',
        kind: 'Scale',
        verbs: subresourceVerbs(verbs),
      });
    for (const sub of t.subresources ?? [])
      resources.push({
        name: `${t.resource}/${sub.name}`,
        singularName: '',
        namespaced: t.namespaced,
        kind: sub.kind,
        verbs: sub.verbs.filter((v) => verbs.includes(v)),
      });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

export const AGGREGATED_DISCOVERY_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** kubectl 1.32 asks `/api` and `/apis` for aggregated discovery first (and falls back to APIGroupList). */
export function wantsAggregatedDiscovery(accept: string | undefined): boolean {
  return Boolean(accept && /g=apidiscovery\.k8s\.io;\s*v=v2;\s*as=APIGroupDiscoveryList/.test(accept));
}

/**
 * apidiscovery.k8s.io/v2 APIGroupDiscoveryList for `/api` (the core group) or `/apis` (every other group): every
 * resource of every version in one response. kubectl revalidates it on every run with its ETag, so a CRD created or
 * deleted a moment ago is seen at once, as with kube-apiserver (the plain per-group-version documents are cached).
 */
export function aggregatedDiscovery(
  types: ResourceInfo[],
  root: 'api' | 'apis',
  verbs: readonly string[] = VERBS,
): Record<string, unknown> {
  const groups = new Map<string, Map<string, ResourceInfo[]>>();
  for (const t of types) {
    if ((root === 'api') !== (t.group === '')) continue;
    const versions = groups.get(t.group) ?? new Map<string, ResourceInfo[]>();
    versions.set(t.version, [...(versions.get(t.version) ?? []), t]);
    groups.set(t.group, versions);
  }
  const items = [...groups.entries()].map(([group, versions]) => ({
    metadata: { name: group, creationTimestamp: null },
    versions: [...versions.entries()].map(([version, list]) => ({
      version,
      resources: list.map((t) => ({
        resource: t.resource,
        responseKind: { group: t.group, version: t.version, kind: t.kind },
        scope: t.namespaced ? 'Namespaced' : 'Cluster',
        singularResource: t.singular,
        verbs: verbsOf(t, verbs),
        ...(t.shortNames ? { shortNames: t.shortNames } : {}),
        ...(t.categories ? { categories: t.categories } : {}),
        subresources: [
          ...(t.hasStatus
            ? [
                {
                  subresource: 'status',
                  responseKind: { group: t.group, version: t.version, kind: t.kind },
                  verbs: subresourceVerbs(verbs),
                },
              ]
            : []),
          ...(t.hasScale
            ? [
                {
                  subresource: 'scale',
                  responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
                  verbs: subresourceVerbs(verbs),
                },
              ]
            : []),
          ...(t.subresources ?? []).map((sub) => ({
            subresource: sub.name,
            responseKind: { group: t.group, version: t.version, kind: sub.kind },
            verbs: sub.verbs.filter((v) => verbs.includes(v)),
          })),
        ],
      })),
      freshness: 'Current',
    })),
  }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items };
}

/** An aggregated discovery answer: 304 when the client's ETag (`If-None-Match`) is current, else the document. */
export function aggregatedDiscoveryAnswer(
  body: Record<string, unknown>,
  ifNoneMatch: string | undefined,
): { statusCode: 200 | 304; headers: Record<string, string>; text: string } {
  const text = JSON.stringify(body);
  const etag = `"${createHash('sha256').update(text).digest('hex').slice(0, 32)}"`;
  if (ifNoneMatch === etag) return { statusCode: 304, headers: { ETag: etag }, text: '' };
  return { statusCode: 200, headers: { 'Content-Type': AGGREGATED_DISCOVERY_CONTENT_TYPE, ETag: etag }, text };
}

/** Sends an aggregated discovery document with an ETag, answering 304 when the client's copy is current. */
export function sendAggregatedDiscovery(
  req: IncomingMessage,
  res: ServerResponse,
  body: Record<string, unknown>,
): void {
  const answer = aggregatedDiscoveryAnswer(body, req.headers['if-none-match']);
  if (answer.statusCode === 304) {
    res.writeHead(304, answer.headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...answer.headers, 'Content-Length': Buffer.byteLength(answer.text) });
  res.end(answer.text);
}
