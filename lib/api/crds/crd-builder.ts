import { z } from 'zod';
import { stringify } from 'yaml';
import { API_VERSION_DESCRIPTION, KIND_DESCRIPTION, METADATA_DESCRIPTION } from '../../kube-api/openapi';
import {
  LocationSpecSchema,
  LocationStatusSchema,
  LOCATION_KIND,
  LOCATION_RESOURCE,
  SCHEDULING_GROUP,
  SCHEDULING_VERSION,
} from './location';
import { PlacementSpecSchema, PlacementStatusSchema, PLACEMENT_KIND, PLACEMENT_RESOURCE } from './placement';
import {
  SyncTargetSpecSchema,
  SyncTargetStatusSchema,
  SYNC_TARGET_GROUP,
  SYNC_TARGET_KIND,
  SYNC_TARGET_RESOURCE,
  SYNC_TARGET_VERSION,
} from './sync-target';

/**
 * Builds tmc's CustomResourceDefinitions from the zod schemas, so what kcp validates and what tmc parses cannot
 * drift: `npx tsx lib/api/crds/generate.ts` writes config/tmc/, and a unit test regenerates and compares.
 *
 * zod's JSON Schema is turned into a Kubernetes *structural* schema: every node typed, no `propertyNames`, no
 * `additionalProperties` beside `properties`, string|number unions as `x-kubernetes-int-or-string`, and untyped
 * nodes (`z.unknown()`, JSON patch values) as `x-kubernetes-preserve-unknown-fields`.
 */

type JsonSchema = Record<string, unknown>;

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

interface CrdDefinition {
  group: string;
  version: string;
  kind: string;
  /** What one object is, for `kubectl explain`. */
  description: string;
  plural: string;
  singular: string;
  shortNames?: string[];
  categories?: string[];
  spec: z.ZodType;
  status: z.ZodType;
  printerColumns: PrinterColumn[];
}

export const CRD_DEFINITIONS: CrdDefinition[] = [
  {
    group: SYNC_TARGET_GROUP,
    version: SYNC_TARGET_VERSION,
    kind: SYNC_TARGET_KIND,
    description: 'SyncTarget is one physical cluster tmc may place work on, and how tmc reaches it.',
    plural: SYNC_TARGET_RESOURCE,
    singular: 'synctarget',
    categories: ['tmc'],
    spec: SyncTargetSpecSchema,
    status: SyncTargetStatusSchema,
    printerColumns: [
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: 'Mode', type: 'string', jsonPath: '.status.syncMode' },
      { name: 'Region', type: 'string', jsonPath: '.metadata.labels.topology\\.kubernetes\\.io/region' },
      { name: 'Last Heartbeat', type: 'date', jsonPath: '.status.lastSyncerHeartbeatTime' },
      { name: 'Unschedulable', type: 'boolean', jsonPath: '.spec.unschedulable', priority: 1 },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  },
  {
    group: SCHEDULING_GROUP,
    version: SCHEDULING_VERSION,
    kind: LOCATION_KIND,
    description: 'Location is a named set of SyncTargets chosen by label; Placements select Locations by label.',
    plural: LOCATION_RESOURCE,
    singular: 'location',
    categories: ['tmc'],
    spec: LocationSpecSchema,
    status: LocationStatusSchema,
    printerColumns: [
      { name: 'Resource', type: 'string', jsonPath: '.spec.resource.resource' },
      { name: 'Available', type: 'integer', jsonPath: '.status.availableInstances' },
      { name: 'Instances', type: 'integer', jsonPath: '.status.instances' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  },
  {
    group: SCHEDULING_GROUP,
    version: SCHEDULING_VERSION,
    kind: PLACEMENT_KIND,
    description: "Placement says which of a workspace's namespaces and objects go to which clusters, and how.",
    plural: PLACEMENT_RESOURCE,
    singular: 'placement',
    categories: ['tmc'],
    spec: PlacementSpecSchema,
    status: PlacementStatusSchema,
    printerColumns: [
      { name: 'Clusters', type: 'string', jsonPath: '.status.selectedClusters' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  },
];

const SCALAR_NUMBER_TYPES = new Set(['number', 'integer']);

function isIntOrString(types: unknown[]): boolean {
  return types.length === 2 && types.includes('string') && types.some((t) => SCALAR_NUMBER_TYPES.has(String(t)));
}

/** One JSON Schema node (zod's draft 2020-12 output) as a structural OpenAPI v3 node. */
export function toStructural(node: JsonSchema, path = ''): JsonSchema {
  const out: JsonSchema = {};
  if (typeof node.description === 'string') out.description = node.description;

  const branches = (node.anyOf ?? node.oneOf) as JsonSchema[] | undefined;
  if (branches) {
    const types = branches.map((b) => b.type);
    if (isIntOrString(types)) return { ...out, 'x-kubernetes-int-or-string': true };
    throw new Error(`${path || '<root>'}: unions of ${JSON.stringify(types)} cannot be a structural schema`);
  }
  if (Array.isArray(node.type)) {
    if (isIntOrString(node.type)) return { ...out, 'x-kubernetes-int-or-string': true };
    throw new Error(`${path || '<root>'}: type ${JSON.stringify(node.type)} cannot be a structural schema`);
  }
  if (node.type === undefined) return { ...out, 'x-kubernetes-preserve-unknown-fields': true };

  out.type = node.type;
  for (const key of ['enum', 'pattern', 'minLength', 'maxLength', 'minItems', 'maxItems', 'format']) {
    if (node[key] !== undefined) out[key] = node[key];
  }
  for (const key of ['minimum', 'maximum']) {
    const value = node[key];
    // zod bounds every int to the safe-integer range; that is noise in a CRD.
    if (typeof value === 'number' && Math.abs(value) < Number.MAX_SAFE_INTEGER) out[key] = value;
  }
  if (node.type === 'array' && node.items) out.items = toStructural(node.items as JsonSchema, `${path}[]`);
  if (node.type === 'object') {
    const properties = node.properties as Record<string, JsonSchema> | undefined;
    if (properties) {
      out.properties = Object.fromEntries(
        Object.entries(properties).map(([k, v]) => [k, toStructural(v, path ? `${path}.${k}` : k)]),
      );
      if (Array.isArray(node.required) && node.required.length > 0) out.required = node.required;
    } else if (node.additionalProperties && typeof node.additionalProperties === 'object') {
      out.additionalProperties = toStructural(node.additionalProperties as JsonSchema, `${path}.*`);
    } else {
      out['x-kubernetes-preserve-unknown-fields'] = true;
    }
  }
  return out;
}

function schemaOf(zodSchema: z.ZodType, path: string): JsonSchema {
  // io 'input': what a user may write (optional fields stay optional even when tmc fills in defaults).
  return toStructural(
    z.toJSONSchema(zodSchema, { io: 'input', unrepresentable: 'any', reused: 'inline' }) as JsonSchema,
    path,
  );
}

export function buildCrd(def: CrdDefinition): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${def.group}` },
    spec: {
      group: def.group,
      scope: 'Cluster',
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        ...(def.shortNames ? { shortNames: def.shortNames } : {}),
        ...(def.categories ? { categories: def.categories } : {}),
      },
      versions: [
        {
          name: def.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: {
            openAPIV3Schema: {
              description: def.description,
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: API_VERSION_DESCRIPTION },
                kind: { type: 'string', description: KIND_DESCRIPTION },
                metadata: { type: 'object', description: METADATA_DESCRIPTION },
                spec: { ...schemaOf(def.spec, 'spec'), description: `The desired state of the ${def.kind}.` },
                status: {
                  ...schemaOf(def.status, 'status'),
                  description: `The observed state of the ${def.kind}, written by tmc.`,
                },
              },
            },
          },
        },
      ],
    },
  };
}

const HEADER = '# Generated by `npx tsx lib/api/crds/generate.ts` from the zod schemas in lib/api/crds. Do not edit.\n';

/** File name (controller-gen style, `<group>_<plural>.yaml`) → YAML text, for every tmc CRD. */
export function renderCrdFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const def of CRD_DEFINITIONS) {
    files[`${def.group}_${def.plural}.yaml`] = HEADER + stringify(buildCrd(def), { lineWidth: 0 });
  }
  return files;
}
