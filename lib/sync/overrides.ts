import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import type { Override } from '../api/crds/placement';
import type { KubeObject } from '../ports/kube-client';
import { cloneJson } from '../kube/clone-json';
import { containersOf, isJsonObject, podSpecOf } from './pod-spec';

/** The part of a Placement override that changes an object; which clusters it targets is placement's business. */
export type ClusterOverride = Pick<Override, 'jsonPatch' | 'image' | 'replicas' | 'labels' | 'env'>;

function matches(container: Record<string, unknown>, name: string | undefined): boolean {
  return name === undefined || container.name === name;
}

/** Why a jsonPatch override was left out of one object's copy: the Placement must change, not the object. */
export type SkippedPatch = (reason: string) => void;

function applyOne(
  object: KubeObject,
  override: ClusterOverride,
  describe: string,
  onSkipped: SkippedPatch | undefined,
): KubeObject {
  let result = object;
  if (override.jsonPatch?.length) {
    try {
      // validate=true rejects malformed operations; mutateDocument=false leaves `object` untouched on failure.
      result = fastJsonPatch.applyPatch(result, override.jsonPatch as Operation[], true, false).newDocument;
    } catch (err) {
      const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
      // Which operation failed names the override in the Placement (its op and path), not just the object.
      const failed = err instanceof fastJsonPatch.JsonPatchError ? err.operation : undefined;
      const which = failed?.op !== undefined && failed.path !== undefined ? ` (${failed.op} ${failed.path})` : '';
      // A patch whose path this kind lacks would fail on every retry: skip it and say so, never fail the sync forever.
      onSkipped?.(
        `its jsonPatch${which} does not apply to ${describe} (${detail}); scope the override with kinds or fix its path`,
      );
    }
  }
  const podSpec = podSpecOf(result);
  if (override.image && podSpec) {
    for (const container of containersOf(podSpec)) {
      const rule = [...override.image].reverse().find((i) => matches(container, i.container));
      if (rule) container.image = rule.image;
    }
  }
  if (override.env && podSpec) {
    for (const container of containersOf(podSpec)) {
      for (const variable of override.env.filter((e) => matches(container, e.container))) {
        const env = Array.isArray(container.env) ? container.env.filter(isJsonObject) : [];
        const existing = env.find((e) => e.name === variable.name);
        if (existing) {
          delete existing.valueFrom;
          existing.value = variable.value;
        } else env.push({ name: variable.name, value: variable.value });
        container.env = env;
      }
    }
  }
  if (override.replicas !== undefined && isJsonObject(result.spec)) result.spec.replicas = override.replicas;
  if (override.labels) result.metadata.labels = { ...(result.metadata.labels ?? {}), ...override.labels };
  return result;
}

/**
 * Applies a cluster's overrides in order (later ones win). Pure: `object` is cloned first. A jsonPatch that does not
 * apply (a `test` op failing, a missing parent path) is left out and its reason passed to `onSkipped`: retrying cannot
 * fix it, the Placement must change, and the rest of the object still syncs.
 */
export function applyOverrides(
  object: KubeObject,
  overrides: readonly ClusterOverride[],
  describe: string,
  onSkipped?: SkippedPatch,
): KubeObject {
  let result: KubeObject = cloneJson(object);
  for (const override of overrides) result = applyOne(result, override, describe, onSkipped);
  return result;
}
