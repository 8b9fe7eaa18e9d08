export { runRecoverySweep } from './sweep';
export { DEFAULT_RECOVERY_SETTINGS, type RecoverySettings, type RecoverySweepDeps, type RecoverySweepReport } from './deps';
export { DeletionGuard, confirmDeletions, scopeFields, typeScope, vanishedScope, workspaceScope, type VanishedObjectGuard, type VanishedVerdict } from './deletion-guard';
export { DEFAULT_GUARD, absenceConfirmed, copyReady, deletionsSuspicious, evacuationReason, isStuck, type GuardSettings } from './rules';
