export { decide, SCORE_WEIGHTS, STABILITY_BONUS, DEFAULT_EVICT_AFTER_SECONDS, DEFAULT_PLACEMENT_NAME } from './engine';
export { diffDecisions } from './diff';
export type { DecisionDiff } from './diff';
export { divideReplicas } from './replicas';
export { governingPlacement, placementSelects, compilePolicy } from './policy';
export { topologyValue, TOPOLOGY_LABELS } from './topology';
export { parseResources } from './quantity';
export type * from './types';
