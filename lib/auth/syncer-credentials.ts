import type { StatusCredentialStore } from '../ports/status-credential-store';
import type { SyncerCredentialSecrets } from '../ports/syncer-credential-secrets';
import { syncerSubject } from '../vw/syncer-view';
import { newStatusCredential, statusCredentialDigest } from './status-credentials';

/**
 * The Secrets Manager name of a SyncTarget's syncer credential in a deployed stage: `tmc/<stage>/syncers/<workspace
 * path, ':' as '/'>/<SyncTarget>` (Secrets Manager names allow no ':'; a SyncTarget's name is the last segment).
 */
export function syncerSecretName(stage: string, workspace: string, syncTarget: string): string {
  return `tmc/${stage}/syncers/${workspace.split(':').join('/')}/${syncTarget}`;
}

/**
 * A deployed stack's syncer credential for one SyncTarget: the stored one, or with `rotate` a new one. A new
 * credential is stored in Secrets Manager before its digest is accepted, so a failure in between leaves the running
 * syncer's credential working and is mended by running the rotation again; the previous credential stays accepted for
 * the digest store's grace period.
 */
export async function syncerCredential(
  deps: { digests: StatusCredentialStore; secrets: SyncerCredentialSecrets },
  target: { stage: string; workspace: string; syncTarget: string; rotate: boolean },
): Promise<string> {
  const name = syncerSecretName(target.stage, target.workspace, target.syncTarget);
  if (!target.rotate) {
    const stored = await deps.secrets.read(name);
    if (stored === undefined)
      throw new Error(
        `No syncer credentials for ${target.syncTarget} in Secrets Manager (${name}): issue them with --rotate`,
      );
    return stored;
  }
  const credential = newStatusCredential();
  await deps.secrets.write(name, credential);
  await deps.digests.add(syncerSubject(target.workspace, target.syncTarget), statusCredentialDigest(credential));
  return credential;
}
