import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrdFiles } from '../../../lib/api/crds/crd-builder';
import { parseAllDocuments } from 'yaml';
import { validateTmcObject } from '../../../lib/api/crds';
import { SyncTargetSpecSchema, syncModeOf } from '../../../lib/api/crds/sync-target';

const syncTarget = (spec: Record<string, unknown>): Record<string, unknown> => ({
  apiVersion: 'workload.kcp.io/v1alpha1',
  kind: 'SyncTarget',
  metadata: { name: 'east', labels: { 'topology.kubernetes.io/region': 'us-east-1' } },
  spec: {
    workloadCluster: {
      name: 'east',
      endpoint: 'https://east.example:6443',
      credentials: { secretRef: { namespace: 'tmc', name: 'east' } },
    },
    ...spec,
  },
});
const placement = (spec: Record<string, unknown>): Record<string, unknown> => ({
  apiVersion: 'scheduling.kcp.io/v1alpha1',
  kind: 'Placement',
  metadata: { name: 'web' },
  spec,
});

describe('CRDs in config/tmc', () => {
  it('match what the zod schemas generate (run `npx tsx lib/api/crds/generate.ts` after changing a schema)', () => {
    const dir = join(__dirname, '../../../config/tmc');
    const expected = renderCrdFiles();
    // Beside the generated CRDs: tmc's namespace and RBAC (test/unit/local/tmc-config.test.ts).
    expect(
      readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
    ).toEqual([...Object.keys(expected), 'tmc-rbac.yaml'].sort());
    for (const [file, text] of Object.entries(expected)) {
      expect(readFileSync(join(dir, file), 'utf8')).toBe(text);
    }
  });

  /** Every named field without a description, as `kubectl explain` would show it (list items and map values excepted). */
  function undescribed(node: Record<string, unknown>, path: string, out: string[]): string[] {
    if (typeof node.description !== 'string' || node.description.trim() === '') out.push(path);
    const properties = (node.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const [key, child] of Object.entries(properties)) undescribed(child, `${path}.${key}`, out);
    const items = node.items as Record<string, unknown> | undefined;
    if (items?.properties)
      for (const [key, child] of Object.entries(items.properties)) {
        undescribed(child as Record<string, unknown>, `${path}[].${key}`, out);
      }
    const values = node.additionalProperties as Record<string, unknown> | undefined;
    if (values?.properties)
      for (const [key, child] of Object.entries(values.properties)) {
        undescribed(child as Record<string, unknown>, `${path}.*.${key}`, out);
      }
    return out;
  }

  it.each(Object.keys(renderCrdFiles()))('%s describes every field (kubectl explain)', (file) => {
    const crd = parseAllDocuments(readFileSync(join(__dirname, '../../../config/tmc', file), 'utf8'))[0].toJS() as {
      spec: { names: { kind: string }; versions: Array<{ schema: { openAPIV3Schema: Record<string, unknown> } }> };
    };
    for (const version of crd.spec.versions) {
      expect(undescribed(version.schema.openAPIV3Schema, crd.spec.names.kind, [])).toEqual([]);
    }
  });
});

describe('validateTmcObject', () => {
  it.each([
    ['a minimal SyncTarget', syncTarget({}), []],
    [
      'a SyncTarget with EKS credentials',
      syncTarget({
        workloadCluster: {
          name: 'e',
          endpoint: 'https://x',
          credentials: { eks: { clusterName: 'c', region: 'eu-west-1' } },
        },
      }),
      [],
    ],
    [
      'two credential kinds',
      syncTarget({
        workloadCluster: {
          name: 'e',
          endpoint: 'https://x',
          credentials: {
            secretRef: { namespace: 'a', name: 'b' },
            secretsManagerArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x',
          },
        },
      }),
      ['spec.workloadCluster.credentials'],
    ],
    ['a bad evictAfter', syncTarget({ evictAfter: 'five minutes' }), ['spec.evictAfter']],
    ['a bad taint effect', syncTarget({ taints: [{ key: 'gpu', effect: 'Never' }] }), ['spec.taints[0].effect']],
    ['a minimal Placement', placement({}), []],
    ['numberOfClusters 0', placement({ numberOfClusters: 0 }), ['spec.numberOfClusters']],
    ['numberOfClusters as text', placement({ numberOfClusters: 'two' }), ['spec.numberOfClusters']],
    [
      'In without values',
      placement({ clusterSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }),
      ['spec.clusterSelector.matchExpressions[0].values'],
    ],
    [
      'weights with Duplicated',
      placement({ replicas: { mode: 'Duplicated', weights: [{ cluster: 'a', weight: 1 }] } }),
      ['spec.replicas.mode'],
    ],
    [
      'a weight naming no cluster',
      placement({ replicas: { mode: 'Divided', weights: [{ weight: 1 }] } }),
      ['spec.replicas.weights[0]'],
    ],
    [
      'an override with an empty kinds list',
      placement({ overrides: [{ clusters: ['east'], kinds: [], replicas: 1 }] }),
      ['spec.overrides[0].kinds'],
    ],
    ['an override with no target', placement({ overrides: [{ replicas: 1 }] }), ['spec.overrides[0].clusters']],
    [
      'tolerationSeconds without NoExecute',
      placement({ tolerations: [{ key: 'k', operator: 'Exists', tolerationSeconds: 5 }] }),
      ['spec.tolerations[0].tolerationSeconds'],
    ],
    [
      'a full Placement',
      placement({
        namespaceSelector: { matchLabels: { team: 'a' } },
        objectSelectors: [{ group: 'apps', kind: 'Deployment' }],
        clusterConstraints: { regions: ['eu-west-1'] },
        numberOfClusters: 2,
        affinity: { preferred: [{ weight: 10, preference: { matchLabels: { tier: 'gold' } } }] },
        tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }],
        spreadConstraints: [{ topologyKey: 'region', maxSkew: 1 }],
        strategy: 'Spread',
        replicas: { mode: 'Divided', weights: [{ cluster: 'east', weight: 2 }] },
        overrides: [
          {
            clusters: ['east'],
            kinds: ['Deployment'],
            image: [{ image: 'nginx:1.28' }],
            jsonPatch: [{ op: 'add', path: '/metadata/labels/x', value: 'y' }],
          },
        ],
      }),
      [],
    ],
    [
      'a Location without resource',
      { apiVersion: 'scheduling.kcp.io/v1alpha1', kind: 'Location', metadata: { name: 'eu' }, spec: {} },
      ['spec.resource'],
    ],
    ['a kind tmc does not own', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } }, []],
  ])('%s', (_label, obj, fields) => {
    const result = validateTmcObject(obj);
    if (fields.length === 0) expect(result).toEqual({ ok: true });
    else {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.errors.map((e) => e.field)).toEqual(fields);
    }
  });
});

describe('examples/', () => {
  const dir = join(__dirname, '../../../examples');
  // Every example folder, its subfolders (cloud/) included.
  const docs = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => [f, d.toJS()] as [string, unknown]),
    );
  it('finds the examples in their folders', () => {
    expect(docs.map(([f]) => f)).toEqual(
      expect.arrayContaining(['basic-setup/nginx.yaml', 'multi-cluster-deployment/placement-two-regions.yaml']),
    );
  });
  it.each(docs.filter(([, d]) => d !== null))('%s validates', (_file, doc) => {
    expect(validateTmcObject(doc)).toEqual({ ok: true });
  });
  // `kubectl apply -f examples/<folder>/` (not recursive) must not register or replace a cluster: no SyncTarget or
  // Secret at a folder's top level; the one cloud SyncTarget sits in cloud/ with an endpoint that cannot resolve.
  it('keeps clusters out of what a user applies wholesale', () => {
    const kindOf = (d: unknown): unknown => (typeof d === 'object' && d !== null ? Reflect.get(d, 'kind') : undefined);
    const wholesale = docs.filter(([f]) => f.split('/').length === 2);
    expect(wholesale.filter(([, d]) => ['SyncTarget', 'Secret'].includes(String(kindOf(d))))).toEqual([]);
    const elsewhere = docs.filter(([f, d]) => f.split('/').length > 2 && kindOf(d) === 'SyncTarget');
    expect(elsewhere.map(([f]) => f)).toEqual(['basic-setup/cloud/synctarget-eks.yaml']);
    for (const [, d] of elsewhere)
      expect(
        new URL(SyncTargetSpecSchema.parse(Reflect.get(Object(d), 'spec')).workloadCluster.endpoint).hostname,
      ).toMatch(/\.invalid$/);
  });
});

describe('SyncTarget sync mode', () => {
  const upstream = { name: 'east', endpoint: 'https://east.example:6443' };
  const withSecret = { ...upstream, credentials: { secretRef: { namespace: 'tmc', name: 'east' } } };
  it.each([
    // The documented upstream form: a cluster's name and endpoint, no credentials.
    ['the upstream form (no credentials)', { workloadCluster: upstream }, 'Pull'],
    ['credentials, no mode', { workloadCluster: withSecret }, 'Push'],
    ['explicit Pull', { workloadCluster: upstream, syncMode: 'Pull' }, 'Pull'],
    ['explicit Push', { workloadCluster: withSecret, syncMode: 'Push' }, 'Push'],
  ])('%s is admitted in %s mode', (_label, spec, mode) => {
    const object = syncTarget(spec);
    expect(validateTmcObject(object)).toEqual({ ok: true });
    expect(syncModeOf(SyncTargetSpecSchema.parse(object.spec))).toBe(mode);
  });

  it.each([
    ['Pull with credentials', { workloadCluster: withSecret, syncMode: 'Pull' }, 'pull mode'],
    ['Push without credentials', { workloadCluster: upstream, syncMode: 'Push' }, 'required in push mode'],
  ])('%s is denied', (_label, spec, says) => {
    const result = validateTmcObject(syncTarget(spec));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0].field).toBe('spec.workloadCluster.credentials');
    expect(result.errors[0].message).toContain(says);
  });
});

describe('SyncTarget credentials denial', () => {
  it.each([['empty credentials', { name: 'east', endpoint: 'https://east.example:6443', credentials: {} }]])(
    '%s names every accepted form',
    (_label, workloadCluster) => {
      const result = validateTmcObject(syncTarget({ workloadCluster }));
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.errors).toHaveLength(1);
      expect(result.errors[0].field).toBe('spec.workloadCluster.credentials');
      for (const form of ['secretRef {namespace, name}', 'secretsManagerArn', 'eks {clusterName, region}'])
        expect(result.errors[0].message).toContain(form);
    },
  );
});
