import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTmcConfig } from '../../../lib/local/kcp-bootstrap';
import { DEFAULT_TMC_USER } from '../../../lib/webhooks';

const CONFIG = join(__dirname, '..', '..', '..', 'config', 'tmc');

/** config/tmc/ is what `kubectl apply -f config/tmc/` installs into a workspace and what the local stack bootstraps. */
describe('config/tmc', () => {
  const manifests = readTmcConfig(CONFIG);
  const names = manifests.map((m) => `${m.resource.kind}/${m.object.metadata.name}`);

  it("holds tmc's CRDs first, then its namespace and the RBAC for tmc's identity", () => {
    expect(names).toEqual([
      'CustomResourceDefinition/locations.scheduling.kcp.io',
      'CustomResourceDefinition/placements.scheduling.kcp.io',
      'CustomResourceDefinition/synctargets.workload.kcp.io',
      'Namespace/tmc-system',
      'ClusterRole/tmc',
      'ClusterRoleBinding/tmc',
    ]);
  });

  it("binds the role to the user tmc's functions reach kcp as", () => {
    const binding = manifests.find((m) => m.resource.kind === 'ClusterRoleBinding')?.object;
    expect(binding?.subjects).toEqual([
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: DEFAULT_TMC_USER },
    ]);
  });

  it('refuses a kind it does not install, such as a webhook configuration (those come from tmc webhooks install)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tmc-config-'));
    writeFileSync(
      join(dir, 'hooks.yaml'),
      'apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: { name: tmc }\nwebhooks: []\n',
    );
    expect(() => readTmcConfig(dir)).toThrow(
      'admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration tmc is not a kind config/tmc/ installs',
    );
  });
});
