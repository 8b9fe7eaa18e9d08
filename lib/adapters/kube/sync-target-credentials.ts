import { z } from 'zod';

/**
 * Where a SyncTarget's cluster credentials live (`spec.workloadCluster.credentials`); exactly one form is used:
 * - `secretRef {namespace, name}`: a Secret in the SyncTarget's kcp workspace whose `data.kubeconfig` is a kubeconfig
 *   (what the local stack writes).
 * - `secretsManagerArn`: a Secrets Manager secret whose string is a kubeconfig (the cloud).
 * - `eks {clusterName, region, roleArn?}`: an EKS cluster reached with an IAM token (shape accepted; see docs/webhooks.md).
 * Only references live in kcp and DynamoDB; credentials themselves never do.
 */
export const SyncTargetCredentialsSchema = z.union([
  z.object({ secretRef: z.object({ namespace: z.string().min(1), name: z.string().min(1) }) }),
  z.object({ secretsManagerArn: z.string().min(1) }),
  z.object({ eks: z.object({ clusterName: z.string().min(1), region: z.string().min(1), roleArn: z.string().optional() }) }),
]);
export type SyncTargetCredentials = z.infer<typeof SyncTargetCredentialsSchema>;

export const SyncTargetConnectionSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string() }),
  spec: z.looseObject({
    workloadCluster: z.looseObject({
      name: z.string().optional(),
      endpoint: z.string().optional(),
      credentials: SyncTargetCredentialsSchema,
    }),
  }),
});
