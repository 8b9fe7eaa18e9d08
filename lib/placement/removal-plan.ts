import type { ObjectRef } from '../api/object-ref';
import type { StoredDecision } from '../ports/decision-store';

/** A removal a change will make: the object leaves the cluster. */
export interface PlannedLeave {
  ref: ObjectRef;
  cluster: string;
}

const isNamespaceRef = (ref: ObjectRef): boolean => ref.group === '' && ref.resource === 'namespaces';

/**
 * The removals that follow from namespaces leaving clusters (`left`: namespace name → clusters it leaves): every
 * object placed in such a namespace on such a cluster leaves with it, since objects follow their namespace's
 * clusters. Namespaces themselves are not counted (their removal deletes nothing downstream). Pure: the fan-out counts
 * these with the un-placement gate before any of its messages goes out (docs/recovery.md, "Un-placement").
 */
export function removalsFollowingNamespaces(
  decisions: readonly StoredDecision[],
  left: ReadonlyMap<string, readonly string[]>,
): PlannedLeave[] {
  const plan: PlannedLeave[] = [];
  for (const d of decisions) {
    if (d.ref.namespace === undefined || isNamespaceRef(d.ref) || d.reason === 'Deleted') continue;
    const leaving = left.get(d.ref.namespace);
    if (!leaving?.length) continue;
    for (const c of d.clusters) if (leaving.includes(c.name)) plan.push({ ref: d.ref, cluster: c.name });
  }
  return plan;
}
