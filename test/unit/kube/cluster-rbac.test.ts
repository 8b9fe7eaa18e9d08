import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

const Rule = z.object({
  apiGroups: z.array(z.string()).optional(),
  resources: z.array(z.string()).optional(),
  nonResourceURLs: z.array(z.string()).optional(),
  verbs: z.array(z.string()),
});
const Doc = z.looseObject({
  kind: z.string(),
  metadata: z.object({ name: z.string() }),
  rules: z.array(Rule).optional(),
  roleRef: z.looseObject({ name: z.string() }).optional(),
  subjects: z.array(z.looseObject({ kind: z.string(), name: z.string() })).optional(),
});

// The verbs behind every request the kube adapter sends to a cluster (lib/adapters/kube/kube-cluster-client.ts):
// GET of an object or a list (get, list), server-side apply and merge patches (patch; apply may create), DELETE.
const NEEDED = ['get', 'list', 'patch', 'create', 'delete'];

describe('config/cluster/tmc-rbac.yaml', () => {
  const docs = parseAllDocuments(readFileSync(join(__dirname, '../../../config/cluster/tmc-rbac.yaml'), 'utf8')).map(
    (d) => Doc.parse(d.toJSON()),
  );
  const role = docs.find((d) => d.kind === 'ClusterRole');
  const binding = docs.find((d) => d.kind === 'ClusterRoleBinding');

  it('lets tmc do on every resource what the kube adapter asks of a cluster, and read /readyz', () => {
    const everything = role?.rules?.find((r) => r.apiGroups?.includes('*') && r.resources?.includes('*'));
    expect(everything?.verbs).toEqual(expect.arrayContaining(NEEDED));
    expect(role?.rules?.some((r) => r.nonResourceURLs?.includes('/readyz') && r.verbs.includes('get'))).toBe(true);
  });

  it('binds the role to the group an EKS access entry maps the functions role to', () => {
    expect(binding?.roleRef?.name).toBe(role?.metadata.name);
    expect(binding?.subjects).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'Group', name: 'tmc:syncers' })]),
    );
  });
});
