import { z } from 'zod';
import type { GroupVersionResource, KubeObject } from '../../kube/object';
import type { SimClusterStore } from '../contracts';
import { type CompiledMatchCondition, compileMatchConditions } from './match-conditions';

/** metav1.LabelSelector as stored in webhook configurations; lib/kube-api/label-selector evaluates it. */
const labelSelectorSchema = z.object({
  matchLabels: z.record(z.string(), z.string()).nullish(),
  matchExpressions: z
    .array(z.object({ key: z.string(), operator: z.string(), values: z.array(z.string()).nullish() }))
    .nullish(),
});

const ruleSchema = z.object({
  operations: z.array(z.string()).nullish(),
  apiGroups: z.array(z.string()).nullish(),
  apiVersions: z.array(z.string()).nullish(),
  resources: z.array(z.string()).nullish(),
  scope: z.enum(['Cluster', 'Namespaced', '*']).nullish(),
});

export type RuleWithOperations = z.infer<typeof ruleSchema>;

const webhookSchema = z.object({
  name: z.string(),
  clientConfig: z.object({
    url: z.string().nullish(),
    service: z
      .object({ namespace: z.string(), name: z.string(), path: z.string().nullish(), port: z.number().int().nullish() })
      .nullish(),
    caBundle: z.string().nullish(),
  }),
  rules: z.array(ruleSchema).nullish(),
  failurePolicy: z.enum(['Fail', 'Ignore']).nullish(),
  matchPolicy: z.enum(['Exact', 'Equivalent']).nullish(),
  namespaceSelector: labelSelectorSchema.nullish(),
  objectSelector: labelSelectorSchema.nullish(),
  sideEffects: z.string().nullish(),
  timeoutSeconds: z.number().int().nullish(),
  reinvocationPolicy: z.enum(['Never', 'IfNeeded']).nullish(),
  matchConditions: z.array(z.object({ name: z.string(), expression: z.string() })).nullish(),
});

const configurationSchema = z.object({
  metadata: z.object({ name: z.string() }),
  webhooks: z.array(z.unknown()).nullish(),
});

export type WebhookType = 'mutating' | 'validating';

/** One webhook of a stored configuration, with the v1 defaults kube-apiserver applies on create. */
export interface Webhook {
  type: WebhookType;
  configurationName: string;
  name: string;
  url?: string;
  service?: { namespace: string; name: string; path?: string; port: number };
  caBundle?: string;
  rules: RuleWithOperations[];
  failurePolicy: 'Fail' | 'Ignore';
  namespaceSelector?: z.infer<typeof labelSelectorSchema>;
  objectSelector?: z.infer<typeof labelSelectorSchema>;
  sideEffects?: string;
  timeoutSeconds: number;
  reinvocationPolicy: 'Never' | 'IfNeeded';
  /** Compiled once per configuration version (the lister's cache), evaluated per request after the selectors. */
  matchConditions: CompiledMatchCondition[];
}

const GROUP = 'admissionregistration.k8s.io';
export const MUTATING_WEBHOOKS: GroupVersionResource = {
  group: GROUP,
  version: 'v1',
  resource: 'mutatingwebhookconfigurations',
};
export const VALIDATING_WEBHOOKS: GroupVersionResource = {
  group: GROUP,
  version: 'v1',
  resource: 'validatingwebhookconfigurations',
};

// kube-apiserver clamps nothing (validation rejects values outside 1..30); the simulator store may not validate,
// so out-of-range values are clamped instead of being trusted.
const DEFAULT_TIMEOUT_SECONDS = 10;
const MAX_TIMEOUT_SECONDS = 30;

/**
 * The webhooks of one kind stored in a cluster, in the order kube-apiserver calls them: configurations sorted by
 * name, webhooks in their declared order. A webhook that does not parse is skipped and reported through `onInvalid`.
 */
export function listWebhooks(
  store: SimClusterStore,
  type: WebhookType,
  onInvalid?: (message: string) => void,
): Webhook[] {
  const gvr = type === 'mutating' ? MUTATING_WEBHOOKS : VALIDATING_WEBHOOKS;
  if (!store.resolve(gvr)) return [];
  return webhooksOf(store.list(gvr), type, onInvalid);
}

/** Reads a cluster's webhooks of one kind; see {@link cachedWebhookLister}. */
export type WebhookLister = (store: SimClusterStore, type: WebhookType) => readonly Webhook[];

/**
 * {@link listWebhooks}, parsed again only when a configuration changed. kube-apiserver keeps its webhook list from an
 * informer rather than reading it per request; the simulator parsed every configuration on every admission (0.7 s of
 * a 100×3 benchmark). Every write of an object gives it a new resourceVersion (and a re-created one has a new uid),
 * so configurations with the same uids and resourceVersions are the same webhooks; a write, delete or restore is
 * seen at the next admission. `onInvalid` hears of a skipped webhook once per version of its configuration.
 */
export function cachedWebhookLister(onInvalid?: (message: string) => void): WebhookLister {
  const cache = new WeakMap<SimClusterStore, Map<WebhookType, { versions: string; webhooks: readonly Webhook[] }>>();
  return (store, type) => {
    const gvr = type === 'mutating' ? MUTATING_WEBHOOKS : VALIDATING_WEBHOOKS;
    if (!store.resolve(gvr)) return [];
    const configurations = store.list(gvr);
    // An object without a resourceVersion cannot be told apart from its next version: such a list is not cached.
    const versioned = configurations.every((c) => c.metadata.resourceVersion);
    const versions = configurations.map((c) => `${c.metadata.uid ?? ''}@${c.metadata.resourceVersion ?? ''}`).join(',');
    let byType = cache.get(store);
    const cached = byType?.get(type);
    if (versioned && cached?.versions === versions) return cached.webhooks;
    const webhooks = webhooksOf(configurations, type, onInvalid);
    if (!byType) cache.set(store, (byType = new Map()));
    if (versioned) byType.set(type, { versions, webhooks });
    return webhooks;
  };
}

function webhooksOf(
  objects: KubeObject[],
  type: WebhookType,
  onInvalid: ((message: string) => void) | undefined,
): Webhook[] {
  const webhooks: Webhook[] = [];
  const configurations = objects
    .map((object) => configurationSchema.safeParse(object))
    .flatMap((parsed) => (parsed.success ? [parsed.data] : []))
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  for (const configuration of configurations) {
    for (const raw of configuration.webhooks ?? []) {
      const parsed = webhookSchema.safeParse(raw);
      if (!parsed.success) {
        onInvalid?.(
          `Skipping invalid webhook in ${type} configuration ${configuration.metadata.name}: ${parsed.error.message}`,
        );
        continue;
      }
      const hook = parsed.data;
      webhooks.push({
        type,
        configurationName: configuration.metadata.name,
        name: hook.name,
        url: hook.clientConfig.url ?? undefined,
        service: hook.clientConfig.service
          ? {
              ...hook.clientConfig.service,
              path: hook.clientConfig.service.path ?? undefined,
              port: hook.clientConfig.service.port ?? 443,
            }
          : undefined,
        caBundle: hook.clientConfig.caBundle ?? undefined,
        rules: hook.rules ?? [],
        failurePolicy: hook.failurePolicy ?? 'Fail',
        namespaceSelector: hook.namespaceSelector ?? undefined,
        objectSelector: hook.objectSelector ?? undefined,
        sideEffects: hook.sideEffects ?? undefined,
        timeoutSeconds: Math.min(Math.max(hook.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS, 1), MAX_TIMEOUT_SECONDS),
        reinvocationPolicy: hook.reinvocationPolicy ?? 'Never',
        matchConditions: compileMatchConditions(hook.matchConditions ?? []),
      });
    }
  }
  return webhooks;
}
