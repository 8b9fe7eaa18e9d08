/**
 * Which cluster credentials a workspace may use. A SyncTarget names its credentials; tmc's functions can read every
 * cluster's (IAM grants the whole `tmc/<stage>/clusters/` prefix, as they serve every workspace), so the workspace
 * boundary is enforced here, at admission and again when a cluster client is built:
 * - `secretRef` names a Secret in the SyncTarget's own workspace and is read through that workspace's kcp path, so it
 *   cannot reach another workspace's Secrets;
 * - `secretsManagerArn` must name a secret under `tmc/<stage>/clusters/<workspace>/`, the workspace written with `.`
 *   for `:` (Secrets Manager names allow no `:`, and logical cluster paths have no `.`, so the mapping is one to one).
 */

/** Where operators put cluster credentials in Secrets Manager; IAM grants the functions that reach clusters this prefix. */
export function clusterSecretPrefix(stage: string): string {
  return `tmc/${stage}/clusters/`;
}

/** `root:org:team` → `root.org.team`: a workspace as one Secrets Manager name segment. */
export function workspaceSecretSegment(workspace: string): string {
  return workspace.replaceAll(':', '.');
}

/** The Secrets Manager name a workspace's cluster credentials go under, e.g. `tmc/prod/clusters/root.org/east`. */
export function clusterSecretName(stage: string, workspace: string, cluster: string): string {
  return `${clusterSecretPrefix(stage)}${workspaceSecretSegment(workspace)}/${cluster}`;
}

/** The secret name in a Secrets Manager ARN (`arn:aws:secretsmanager:<region>:<account>:secret:<name>`), or the name given. */
export function secretNameOf(arnOrName: string): string {
  const marker = ':secret:';
  const at = arnOrName.startsWith('arn:') ? arnOrName.indexOf(marker) : -1;
  return at < 0 ? arnOrName : arnOrName.slice(at + marker.length);
}

// `tmc/<stage>/clusters/<workspace segment>/<name>`; the stage is IAM's boundary, the workspace is checked here.
const CLUSTER_SECRET_NAME = /^tmc\/[^/]+\/clusters\/([^/]+)\/[^/]/;

/**
 * Why a SyncTarget in `workspace` may not use a Secrets Manager secret, or undefined when it may: the secret must sit
 * under that workspace's part of the cluster-credentials prefix.
 */
export function secretOutsideWorkspace(arnOrName: string, workspace: string): string | undefined {
  const name = secretNameOf(arnOrName);
  const expected = workspaceSecretSegment(workspace);
  const match = CLUSTER_SECRET_NAME.exec(name);
  if (match?.[1] === expected) return undefined;
  const owner = match ? ` (it belongs to workspace ${match[1].replaceAll('.', ':')})` : '';
  return `secret ${name} is not one of this workspace's cluster credentials${owner}: a SyncTarget in ${workspace} may use only secrets named tmc/<stage>/clusters/${expected}/<name>`;
}
