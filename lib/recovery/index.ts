export { runRecoverySweep } from './sweep';
export { DEFAULT_RECOVERY_SETTINGS, type RecoverySettings, type RecoverySweepDeps, type RecoverySweepReport } from './deps';
export { DeletionGuard, confirmDeletions, clusterScope, workspaceScope, type VanishedObjectGuard } from './deletion-guard';
export { DEFAULT_GUARD, copyReady, deletionsSuspicious, evacuationReason, isStuck, type GuardSettings } from './rules';
