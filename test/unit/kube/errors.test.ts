import { parseRetryAfter, translateHttpError, translateNetworkError } from '../../../lib/adapters/kube/errors';
import { kcpBaseUrl, kcpWorkspaceUrl, loadKubeconfig } from '../../../lib/adapters/kube/kubeconfig';

const ctx = { target: 'east', object: 'apps/v1/deployments default/web' };

describe('translateHttpError', () => {
  it.each([
    [400, undefined, 'ValidationError'],
    [422, undefined, 'ValidationError'],
    [401, undefined, 'ClusterAuthenticationError'],
    [403, undefined, 'PermissionError'],
    [404, undefined, 'NotFoundError'],
    [409, undefined, 'ConflictError'],
    [429, undefined, 'ClusterThrottledError'],
    [500, undefined, 'ClusterUnavailableError'],
    [503, undefined, 'ClusterUnavailableError'],
    [504, undefined, 'ClusterUnavailableError'],
    [409, { details: { causes: [{ type: 'FieldManagerConflict', field: '.spec.replicas' }] } }, 'ConflictError'],
  ])('%d → %s', (code, body, name) => {
    const err = translateHttpError(code, body as never, undefined, ctx);
    expect(err.name).toBe(name);
    expect(err).toMatchObject({ cluster: 'east', object: ctx.object, statusCode: code });
  });

  it('an apply 409 with a field-manager conflict is a SyncConflictError', () => {
    const err = translateHttpError(409, { details: { causes: [{ type: 'FieldManagerConflict' }] } }, undefined, {
      ...ctx,
      apply: true,
    });
    expect(err.name).toBe('SyncConflictError');
  });

  it('keeps the API message for validation errors', () => {
    const err = translateHttpError(422, { message: 'spec.replicas: Invalid value: -1' }, undefined, ctx);
    expect(err.message).toContain('spec.replicas: Invalid value: -1');
  });

  it('carries Retry-After on 429', () => {
    expect(translateHttpError(429, undefined, '7', ctx).retryAfterSeconds).toBe(7);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it.each([
    ['5', 5],
    [' 12 ', 12],
    ['Wed, 01 Jan 2025 00:00:30 GMT', 30],
    ['Tue, 31 Dec 2024 23:59:00 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
  ])('%s → %s', (value, expected) => expect(parseRetryAfter(value, now)).toBe(expected));
});

describe('translateNetworkError', () => {
  it.each(['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'ECONNRESET'])('%s → ClusterUnreachableError', (code) => {
    const err = translateNetworkError(Object.assign(new Error('x'), { code }), ctx);
    expect(err.name).toBe('ClusterUnreachableError');
    expect(err).toMatchObject({ cluster: 'east', object: ctx.object });
  });
  it('an abort is unreachable too', () => {
    const abort = new Error('aborted');
    abort.name = 'AbortError';
    expect(translateNetworkError(abort, ctx).name).toBe('ClusterUnreachableError');
  });
});

describe('kubeconfig', () => {
  const text = `apiVersion: v1
kind: Config
clusters:
- name: shared
  cluster: {server: "https://kcp.example.com:6443/clusters/root:org", certificate-authority-data: "Zm9v"}
users:
- name: shared
  user: {token: secret-token}
contexts:
- name: shared
  context: {cluster: shared, user: shared}
current-context: shared
`;
  it('renames everything to the unique name and rewrites the server', () => {
    const { config, server } = loadKubeconfig(text, {
      uniqueName: 'tmc-kcp:root:a',
      server: (s) => kcpWorkspaceUrl(s, 'root:a'),
    });
    expect(server).toBe('https://kcp.example.com:6443/clusters/root:org');
    expect(config.getCurrentCluster()).toMatchObject({
      name: 'tmc-kcp:root:a',
      server: 'https://kcp.example.com:6443/clusters/root:a',
      caData: 'Zm9v',
    });
    expect(config.getCurrentUser()).toMatchObject({ name: 'tmc-kcp:root:a', token: 'secret-token' });
    expect(config.getContexts()).toHaveLength(1);
  });
  it.each([
    ['not yaml', '::: ['],
    ['no clusters', 'apiVersion: v1\nclusters: []\n'],
    ['bad server', 'clusters:\n- name: a\n  cluster: {server: "not a url"}\n'],
  ])('rejects %s without echoing the content', (_why, bad) => {
    expect(() => loadKubeconfig(bad, { uniqueName: 'east' })).toThrow(
      expect.objectContaining({ name: 'ClusterConfigurationError', cluster: 'east' }),
    );
  });
  it.each([
    ['https://kcp:6443', 'https://kcp:6443'],
    ['https://kcp:6443/', 'https://kcp:6443'],
    ['https://kcp:6443/clusters/root:org:ws', 'https://kcp:6443'],
  ])('base of %s is %s', (server, base) => expect(kcpBaseUrl(server)).toBe(base));
});
