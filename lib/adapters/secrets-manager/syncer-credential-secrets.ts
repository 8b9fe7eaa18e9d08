import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import type { SyncerCredentialSecrets } from '../../ports/syncer-credential-secrets';

const SecretValueSchema = z.looseObject({ SecretString: z.string().optional() });

/** The part of SecretsManagerClient used here (tests pass a fake). */
export interface SecretsManagerSender {
  send(command: GetSecretValueCommand | PutSecretValueCommand | CreateSecretCommand): Promise<unknown>;
}

/** Secrets Manager by secret name; a secret that does not exist reads as undefined and is created by the first write. */
export class SecretsManagerSyncerCredentials implements SyncerCredentialSecrets {
  constructor(private readonly client: SecretsManagerSender) {}

  async read(name: string): Promise<string | undefined> {
    try {
      return SecretValueSchema.parse(await this.client.send(new GetSecretValueCommand({ SecretId: name })))
        .SecretString;
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return undefined;
      throw err;
    }
  }

  async write(name: string, credential: string): Promise<void> {
    try {
      await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: credential }));
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err;
      await this.client.send(
        new CreateSecretCommand({
          Name: name,
          SecretString: credential,
          Description: "A pull-mode SyncTarget's syncer credential for tmc's virtual workspace (tmc syncer kubeconfig)",
        }),
      );
    }
  }
}
