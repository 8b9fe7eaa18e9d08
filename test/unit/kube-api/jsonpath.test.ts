import { findJsonPathResults, JsonPathSyntaxError } from '../../../lib/kube-api/jsonpath';

const target = {
  metadata: { name: 'east', labels: { 'topology.kubernetes.io/region': 'us-east-1', app: 'web' } },
  spec: {
    replicas: 3,
    unschedulable: false,
    ports: [
      { name: 'http', port: 80 },
      { name: 'https', port: 443 },
    ],
  },
  status: {
    conditions: [
      { type: 'HeartbeatHealthy', status: 'True' },
      { type: 'Ready', status: 'False', reason: 'NoHeartbeat' },
    ],
  },
};

// The printer-column dialect of k8s.io/client-go/util/jsonpath, case by case.
describe('Kubernetes JSONPath', () => {
  it.each([
    ['.metadata.name', ['east']],
    ['{.metadata.name}', ['east']],
    ['$.metadata.name', ['east']],
    ['.metadata.labels.topology\\.kubernetes\\.io/region', ['us-east-1']],
    [".metadata.labels['topology.kubernetes.io/region']", ['us-east-1']],
    ['.status.conditions[?(@.type=="Ready")].status', ['False']],
    [".status.conditions[?(@.type == 'Ready')].reason", ['NoHeartbeat']],
    ['.status.conditions[?(@.reason)].type', ['Ready']],
    ['.status.conditions[?(@.type!="Ready")].type', ['HeartbeatHealthy']],
    ['.spec.ports[?(@.port>100)].name', ['https']],
    ['.spec.ports[*].port', [80, 443]],
    ['.spec.ports[0].name', ['http']],
    ['.spec.ports[-1].name', ['https']],
    ['.spec.ports[0:1].name', ['http']],
    ['.spec.ports[0,1].port', [80, 443]],
    ['..port', [80, 443]],
    ['.spec.unschedulable', [false]],
    ['.spec.missing', []],
    ['.status.conditions[?(@.type=="Gone")].status', []],
    // Fields do not fan out over a list: only [*], slices and filters do.
    ['.spec.ports.name', []],
  ])('%s', (path, expected) => {
    expect(findJsonPathResults(target, path)).toEqual(expected);
  });

  it.each(['.a[', '.a[?(x)]', '.a[abc]', ".a['b"])('rejects %s', (path) => {
    expect(() => findJsonPathResults(target, path)).toThrow(JsonPathSyntaxError);
  });
});
