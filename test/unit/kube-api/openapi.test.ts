import { gvkKey, openApiV3Document, openApiV3Root } from '../../../lib/kube-api/openapi';
import { BUILTIN_RESOURCES } from '../../../lib/kube-api/resource-catalog';
import { resourcesFromCrd, type ResourceInfo } from '../../../lib/kube-api/resource-info';
import { unknownFields } from '../../../lib/sim/field-validation';
import { builtinOpenApi } from '../../../lib/sim/openapi/builtin-schemas';
import { gadgetCrd } from '../../support/builders';

const info = (group: string, version: string, kind: string): ResourceInfo => {
  const found = BUILTIN_RESOURCES.find((r) => r.group === group && r.version === version && r.kind === kind);
  if (!found) throw new Error(`${group}/${version}/${kind} is not served`);
  return found;
};

describe('the generated built-in OpenAPI schemas (scripts/generate-kube-openapi.ts)', () => {
  it('cover every served built-in kind (regenerate after adding one to the resource catalog)', () => {
    const spec = builtinOpenApi();
    const missing = BUILTIN_RESOURCES.filter((r) => !spec.schemas[spec.kinds[gvkKey(r)] ?? '']).map(gvkKey);
    expect(missing).toEqual([]);
  });

  it('carry the enums a 1.32 server publishes with OpenAPIEnums on (values, and the description kubectl prints)', () => {
    const schemas = builtinOpenApi().schemas as Record<string, any>;
    expect(schemas['io.k8s.api.apps.v1.DeploymentStrategy'].properties.type).toEqual({
      type: 'string',
      enum: ['Recreate', 'RollingUpdate'],
      description:
        'Type of deployment. Can be "Recreate" or "RollingUpdate". Default is RollingUpdate.\n\nPossible enum values:\n - `"Recreate"` Kill all existing pods before creating new ones.\n - `"RollingUpdate"` Replace the old ReplicaSets by new one using rolling update i.e gradually scale down the old ReplicaSets and scale up the new one.',
    });
    expect(schemas['io.k8s.api.core.v1.PersistentVolumeClaimSpec'].properties.accessModes.items.enum).toEqual([
      'ReadOnlyMany',
      'ReadWriteMany',
      'ReadWriteOnce',
      'ReadWriteOncePod',
    ]);
    expect(schemas['io.k8s.api.core.v1.EphemeralContainer'].properties.imagePullPolicy.enum).toEqual([
      'Always',
      'IfNotPresent',
      'Never',
    ]);
  });

  it('resolve every reference they make', () => {
    const spec = builtinOpenApi();
    const refs = [...JSON.stringify(spec.schemas).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)];
    expect(refs.length).toBeGreaterThan(100);
    expect(refs.map((m) => m[1]).filter((name) => !spec.schemas[name])).toEqual([]);
  });
});

describe('openApiV3Document', () => {
  const crd = resourcesFromCrd(gadgetCrd('integer'));
  const types = [...BUILTIN_RESOURCES, ...crd];

  it("serves a built-in kind's published schema, its references and strategic merge patch", () => {
    const doc = openApiV3Document(types, 'apps/v1', builtinOpenApi()) as any;
    const schemas = doc.components.schemas;
    expect(schemas['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind']).toEqual([
      { group: 'apps', version: 'v1', kind: 'Deployment' },
    ]);
    expect(schemas['io.k8s.api.core.v1.Container'].properties.imagePullPolicy.description).toMatch(
      /^Image pull policy/,
    );
    const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    expect(patch.parameters.map((p: { name: string }) => p.name)).toContain('fieldValidation');
    expect(Object.keys(patch.requestBody.content)).toContain('application/strategic-merge-patch+json');
  });

  it("serves a custom resource's CRD schema with apiVersion, kind and ObjectMeta, without strategic merge patch", () => {
    const doc = openApiV3Document(types, 'example.com/v1', builtinOpenApi()) as any;
    const gadget = doc.components.schemas['com.example.v1.Gadget'];
    expect(gadget.properties.spec.properties.size).toEqual({ type: 'integer' });
    expect(gadget.properties.metadata.allOf).toEqual([
      { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' },
    ]);
    expect(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']).toBeDefined();
    const patch = doc.paths['/apis/example.com/v1/namespaces/{namespace}/gadgets/{name}'].patch;
    expect(Object.keys(patch.requestBody.content)).not.toContain('application/strategic-merge-patch+json');
  });

  it("changes a group version's hash when a CRD's schema changes, and only that group version's", () => {
    const before = openApiV3Root(types, '').paths as Record<string, { serverRelativeURL: string }>;
    const after = openApiV3Root([...BUILTIN_RESOURCES, ...resourcesFromCrd(gadgetCrd('string'))], '').paths as Record<
      string,
      { serverRelativeURL: string }
    >;
    expect(after['apis/example.com/v1'].serverRelativeURL).not.toBe(before['apis/example.com/v1'].serverRelativeURL);
    expect(after['apis/apps/v1'].serverRelativeURL).toBe(before['apis/apps/v1'].serverRelativeURL);
  });
});

describe('unknownFields', () => {
  const deploymentInfo = info('apps', 'v1', 'Deployment');
  const gadget = resourcesFromCrd(gadgetCrd('integer'))[0];

  it.each<[string, ResourceInfo, Record<string, unknown>, string[]]>([
    [
      'a known object',
      deploymentInfo,
      { spec: { replicas: 1, template: { spec: { containers: [{ name: 'a' }] } } } },
      [],
    ],
    [
      'a misspelt container field, by index',
      deploymentInfo,
      { spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'b', imagePullPolicyy: 'Always' }] } } } },
      ['spec.template.spec.containers[1].imagePullPolicyy'],
    ],
    [
      'top-level and metadata fields',
      deploymentInfo,
      { metadata: { nmae: 'x' }, extra: 1 },
      ['metadata.nmae', 'extra'],
    ],
    [
      'map values are free keys (labels), int-or-string and quantities take any scalar',
      deploymentInfo,
      {
        metadata: { labels: { anything: 'x' } },
        spec: {
          strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
          template: { spec: { containers: [{ name: 'a', resources: { limits: { cpu: '1' } } }] } },
        },
      },
      [],
    ],
    [
      'an object schema without fields takes anything (managedFields.fieldsV1)',
      deploymentInfo,
      { metadata: { managedFields: [{ manager: 'm', fieldsV1: { 'f:spec': {} } }] } },
      [],
    ],
    ['a custom resource against its CRD', gadget, { spec: { size: 1, colour: 'red' } }, ['spec.colour']],
    ['x-kubernetes-preserve-unknown-fields', gadget, { spec: { extra: { anything: { deep: 1 } } } }, []],
  ])('%s', (_name, kind, obj, expected) => {
    expect(unknownFields(kind, obj)).toEqual(expected);
  });

  it('names an associative list element by its keys for server-side apply, and prunes on request', () => {
    const obj = { spec: { template: { spec: { containers: [{ name: 'web', imagePullPolicyy: 'Always' }] } } } };
    expect(unknownFields(deploymentInfo, obj, { keyedLists: true, prune: true })).toEqual([
      'spec.template.spec.containers[name="web"].imagePullPolicyy',
    ]);
    expect(obj.spec.template.spec.containers[0]).toEqual({ name: 'web' });
  });
});
