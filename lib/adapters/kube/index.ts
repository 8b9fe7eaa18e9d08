export { KubeClusterClient, collectionPath, objectPath, type KubeClusterClientOptions } from './kube-cluster-client';
export { KubeConnectorImpl, type KcpKubeconfigSource, type KubeConnectorOptions } from './kube-connector';
export { kcpBaseUrl, kcpWorkspaceUrl, loadKubeconfig } from './kubeconfig';
export { SecretsManagerSecretReader, type SecretReader } from './secret-reader';
export { SyncTargetCredentialsSchema } from './sync-target-credentials';
export { parseRetryAfter, translateHttpError, translateNetworkError } from './errors';
