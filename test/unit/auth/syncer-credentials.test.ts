import {
  type CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-secrets-manager';
import { SecretsManagerSyncerCredentials } from '../../../lib/adapters/secrets-manager/syncer-credential-secrets';
import { StatusCredentialAuthenticator } from '../../../lib/auth/status-credentials';
import { syncerCredential, syncerSecretName } from '../../../lib/auth/syncer-credentials';
import type { StatusCredentialStore } from '../../../lib/ports/status-credential-store';
import { syncerSubject } from '../../../lib/vw/syncer-view';

/** Secrets Manager in memory, answering a missing secret as the service does; every call recorded. */
function secretsManager() {
  const secrets = new Map<string, string>();
  const calls: string[] = [];
  const missing = (): ResourceNotFoundException =>
    new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });
  return {
    secrets,
    calls,
    send: async (command: GetSecretValueCommand | PutSecretValueCommand | CreateSecretCommand): Promise<unknown> => {
      if (command instanceof GetSecretValueCommand) {
        calls.push(`get ${command.input.SecretId}`);
        const value = secrets.get(command.input.SecretId!);
        if (value === undefined) throw missing();
        return { SecretString: value, $metadata: {} };
      }
      if (command instanceof PutSecretValueCommand) {
        calls.push(`put ${command.input.SecretId}`);
        if (!secrets.has(command.input.SecretId!)) throw missing();
        secrets.set(command.input.SecretId!, command.input.SecretString!);
        return {};
      }
      calls.push(`create ${command.input.Name}`);
      secrets.set(command.input.Name!, command.input.SecretString!);
      return {};
    },
  };
}

/** Digests in memory: the newest two accepted, as DynamoStatusCredentialStore keeps them within its grace period. */
function digestStore(): StatusCredentialStore & { failAdd?: boolean } {
  const digests = new Map<string, string[]>();
  const store: StatusCredentialStore & { failAdd?: boolean } = {
    digests: async (subject) => digests.get(subject) ?? [],
    add: async (subject, digest) => {
      if (store.failAdd) throw new Error('ProvisionedThroughputExceededException');
      digests.set(subject, [digest, ...(digests.get(subject) ?? [])].slice(0, 2));
    },
    revoke: async (subject) => void digests.delete(subject),
  };
  return store;
}

const TARGET = { stage: 'prod', workspace: 'root:org:team-a', syncTarget: 'lab' };
const SUBJECT = syncerSubject(TARGET.workspace, TARGET.syncTarget);

describe("a deployed stack's syncer credentials (Secrets Manager + digests in the table)", () => {
  it('names the secret under the stage, the workspace path as folders (Secrets Manager allows no colon)', () => {
    expect(syncerSecretName('prod', 'root:org:team-a', 'lab')).toBe('tmc/prod/syncers/root/org/team-a/lab');
  });

  it('issues a credential with --rotate: stored in a new secret, its digest accepted; printing it again reads the secret', async () => {
    const sm = secretsManager();
    const digests = digestStore();
    const deps = { digests, secrets: new SecretsManagerSyncerCredentials(sm) };
    const issued = await syncerCredential(deps, { ...TARGET, rotate: true });
    expect(sm.calls).toEqual([
      'put tmc/prod/syncers/root/org/team-a/lab',
      'create tmc/prod/syncers/root/org/team-a/lab',
    ]);
    expect(await new StatusCredentialAuthenticator(digests).authenticate(SUBJECT, issued)).toBe(true);
    // The table holds only a digest, never the credential.
    expect(await digests.digests(SUBJECT)).not.toContain(issued);
    await expect(syncerCredential(deps, { ...TARGET, rotate: false })).resolves.toBe(issued);
  });

  it('rotates into the same secret, and the previous credential keeps working for the grace period', async () => {
    const sm = secretsManager();
    const digests = digestStore();
    const deps = { digests, secrets: new SecretsManagerSyncerCredentials(sm) };
    const first = await syncerCredential(deps, { ...TARGET, rotate: true });
    const second = await syncerCredential(deps, { ...TARGET, rotate: true });
    expect(second).not.toBe(first);
    expect(sm.secrets.get('tmc/prod/syncers/root/org/team-a/lab')).toBe(second);
    const authenticator = new StatusCredentialAuthenticator(digests, 0);
    expect(await authenticator.authenticate(SUBJECT, second)).toBe(true);
    expect(await authenticator.authenticate(SUBJECT, first)).toBe(true);
    expect(await authenticator.authenticate(syncerSubject(TARGET.workspace, 'east'), second)).toBe(false);
  });

  it('says how to issue credentials when none were, without creating any', async () => {
    const sm = secretsManager();
    await expect(
      syncerCredential(
        { digests: digestStore(), secrets: new SecretsManagerSyncerCredentials(sm) },
        { ...TARGET, rotate: false },
      ),
    ).rejects.toThrow(/No syncer credentials for lab .*--rotate/);
    expect(sm.calls).toEqual(['get tmc/prod/syncers/root/org/team-a/lab']);
  });

  it('stores the new credential before accepting its digest, so a failed rotation never strands the running syncer', async () => {
    const sm = secretsManager();
    const digests = digestStore();
    const deps = { digests, secrets: new SecretsManagerSyncerCredentials(sm) };
    const first = await syncerCredential(deps, { ...TARGET, rotate: true });
    digests.failAdd = true;
    await expect(syncerCredential(deps, { ...TARGET, rotate: true })).rejects.toThrow(
      'ProvisionedThroughputExceededException',
    );
    expect(await new StatusCredentialAuthenticator(digests, 0).authenticate(SUBJECT, first)).toBe(true);
    digests.failAdd = false;
    const mended = await syncerCredential(deps, { ...TARGET, rotate: true });
    expect(await syncerCredential(deps, { ...TARGET, rotate: false })).toBe(mended);
  });

  it('lets a Secrets Manager failure other than a missing secret through', async () => {
    const failing = {
      send: async (): Promise<unknown> => {
        throw new Error('AccessDeniedException');
      },
    };
    await expect(new SecretsManagerSyncerCredentials(failing).read('x')).rejects.toThrow('AccessDeniedException');
    await expect(new SecretsManagerSyncerCredentials(failing).write('x', 'y')).rejects.toThrow('AccessDeniedException');
  });
});
