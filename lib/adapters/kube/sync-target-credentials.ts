import { z } from 'zod';
import { CredentialsSchema, SyncModeSchema } from '../../api/crds/sync-target';

/**
 * Where a SyncTarget's cluster credentials live (`spec.workloadCluster.credentials`): the schema admission validates
 * (lib/api/crds/sync-target.ts), so the connector accepts exactly what was admitted. Exactly one form is used:
 * - `secretRef {namespace, name}`: a Secret in the SyncTarget's kcp workspace whose `data.kubeconfig` is a kubeconfig
 *   (what the local stack writes);
 * - `secretsManagerArn`: a Secrets Manager secret whose string is a kubeconfig (the cloud), under the workspace's part
 *   of the cluster-credentials prefix (lib/api/cluster-credentials.ts);
 * - `eks {clusterName, region, roleArn?}`: an EKS cluster reached with an IAM token (shape accepted; see docs/webhooks.md).
 * Only references live in kcp and DynamoDB; credentials themselves never do.
 */
export const SyncTargetCredentialsSchema = CredentialsSchema;

export const SyncTargetConnectionSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string() }),
  spec: z.looseObject({
    workloadCluster: z.looseObject({
      name: z.string().optional(),
      endpoint: z.string().optional(),
      credentials: SyncTargetCredentialsSchema.optional(),
    }),
    syncMode: SyncModeSchema.optional(),
  }),
});
