import type { KubeObject } from '../kube/object';
import type { ResourceInfo } from '../kube-api/resource-info';

/**
 * What kube-apiserver does to an object on every write before storing it, for the kinds users apply first: the
 * defaulting functions of k8s.io/kubernetes/pkg/apis/<group>/v1/defaults.go (the commonly visible ones), Secret
 * `stringData` folded into `data`, and a Service's cluster IP allocated. Clients see these: `kubectl describe`
 * prints `StrategyType: RollingUpdate`, `kubectl get svc` a CLUSTER-IP, a Secret's data is readable. Defaults only
 * fill what is absent, so a client's own values (and tmc's drift comparison, which ignores added fields) are kept.
 */
export interface DefaultingContext {
  /** The object being replaced (undefined on create): immutable allocations such as a cluster IP carry over. */
  current?: KubeObject;
  /** The next free cluster IP of this object space. */
  allocateClusterIp(): string;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(parent: Obj, key: string): Obj {
  const v = parent[key];
  if (isObj(v)) return v;
  const created: Obj = {};
  parent[key] = created;
  return created;
}

function setDefault(target: Obj, key: string, value: unknown): void {
  if (target[key] === undefined) target[key] = value;
}

/** A container image without a tag or with `:latest` is pulled Always, otherwise IfNotPresent (core/v1 defaults). */
function pullPolicy(image: unknown): string {
  if (typeof image !== 'string') return 'IfNotPresent';
  const withoutDigest = image.split('@')[0];
  const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const tag = lastSegment.includes(':') ? lastSegment.slice(lastSegment.indexOf(':') + 1) : '';
  return image.includes('@') ? 'IfNotPresent' : tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainers(list: unknown): void {
  if (!Array.isArray(list)) return;
  for (const c of list) {
    if (!isObj(c)) continue;
    setDefault(c, 'terminationMessagePath', '/dev/termination-log');
    setDefault(c, 'terminationMessagePolicy', 'File');
    setDefault(c, 'imagePullPolicy', pullPolicy(c.image));
    setDefault(c, 'resources', {});
    if (Array.isArray(c.ports)) for (const p of c.ports) if (isObj(p)) setDefault(p, 'protocol', 'TCP');
  }
}

function defaultPodSpec(spec: Obj, restartPolicy = 'Always'): void {
  setDefault(spec, 'restartPolicy', restartPolicy);
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  defaultContainers(spec.containers);
  defaultContainers(spec.initContainers);
}

function defaultTemplate(spec: Obj, restartPolicy?: string): void {
  const template = obj(spec, 'template');
  obj(template, 'metadata');
  defaultPodSpec(obj(template, 'spec'), restartPolicy);
}

/** Deployment strategy: RollingUpdate with 25% surge and 25% unavailable. */
function deploymentStrategy(spec: Obj): void {
  const strategy = obj(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type !== 'RollingUpdate') return;
  const ru = obj(strategy, 'rollingUpdate');
  setDefault(ru, 'maxSurge', '25%');
  setDefault(ru, 'maxUnavailable', '25%');
}

function defaultService(o: KubeObject, ctx: DefaultingContext): void {
  const spec = obj(o, 'spec');
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  if (Array.isArray(spec.ports)) {
    for (const p of spec.ports) {
      if (!isObj(p)) continue;
      setDefault(p, 'protocol', 'TCP');
      setDefault(p, 'targetPort', p.port);
    }
  }
  if (spec.type === 'ExternalName') return;
  const previous = isObj(ctx.current?.spec) ? ctx.current.spec : {};
  // A cluster IP is allocated once and immutable: an update that omits it keeps the allocated one.
  if (spec.clusterIP === undefined || spec.clusterIP === '')
    spec.clusterIP = typeof previous.clusterIP === 'string' ? previous.clusterIP : ctx.allocateClusterIp();
  setDefault(spec, 'clusterIPs', [spec.clusterIP]);
  setDefault(spec, 'ipFamilies', ['IPv4']);
  setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
  setDefault(spec, 'internalTrafficPolicy', 'Cluster');
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') setDefault(spec, 'externalTrafficPolicy', 'Cluster');
}

/** Secret `stringData` is write-only: kube-apiserver merges it into `data` (base64) and never stores it. */
function foldStringData(o: KubeObject): void {
  setDefault(o, 'type', 'Opaque');
  if (!isObj(o.stringData)) return;
  const data = obj(o, 'data');
  for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  delete o.stringData;
}

/** Applies kube-apiserver's defaults to `o` in place (built-in kinds only; CRDs have no defaulting here). */
export function applyDefaults(info: ResourceInfo, o: KubeObject, ctx: DefaultingContext): void {
  if (info.custom) return;
  // A patched object shares untouched subtrees with the stored one: defaults go onto copies, never into the store.
  for (const key of ['spec', 'data']) if (isObj(o[key])) o[key] = structuredClone(o[key]);
  switch (info.resource) {
    case 'secrets':
      foldStringData(o);
      return;
    case 'services':
      defaultService(o, ctx);
      return;
    case 'pods':
      defaultPodSpec(obj(o, 'spec'));
      return;
    case 'deployments': {
      const spec = obj(o, 'spec');
      setDefault(spec, 'replicas', 1);
      setDefault(spec, 'revisionHistoryLimit', 10);
      setDefault(spec, 'progressDeadlineSeconds', 600);
      deploymentStrategy(spec);
      defaultTemplate(spec);
      return;
    }
    case 'replicasets': {
      const spec = obj(o, 'spec');
      setDefault(spec, 'replicas', 1);
      defaultTemplate(spec);
      return;
    }
    case 'statefulsets': {
      const spec = obj(o, 'spec');
      setDefault(spec, 'replicas', 1);
      setDefault(spec, 'revisionHistoryLimit', 10);
      setDefault(spec, 'podManagementPolicy', 'OrderedReady');
      const strategy = obj(spec, 'updateStrategy');
      setDefault(strategy, 'type', 'RollingUpdate');
      if (strategy.type === 'RollingUpdate') setDefault(obj(strategy, 'rollingUpdate'), 'partition', 0);
      defaultTemplate(spec);
      return;
    }
    case 'daemonsets': {
      const spec = obj(o, 'spec');
      setDefault(spec, 'revisionHistoryLimit', 10);
      const strategy = obj(spec, 'updateStrategy');
      setDefault(strategy, 'type', 'RollingUpdate');
      if (strategy.type === 'RollingUpdate') {
        const ru = obj(strategy, 'rollingUpdate');
        setDefault(ru, 'maxUnavailable', 1);
        setDefault(ru, 'maxSurge', 0);
      }
      defaultTemplate(spec);
      return;
    }
    case 'jobs': {
      const spec = obj(o, 'spec');
      setDefault(spec, 'completions', 1);
      setDefault(spec, 'parallelism', 1);
      setDefault(spec, 'backoffLimit', 6);
      setDefault(spec, 'completionMode', 'NonIndexed');
      setDefault(spec, 'suspend', false);
      defaultTemplate(spec, 'Never');
      return;
    }
    case 'cronjobs': {
      const spec = obj(o, 'spec');
      setDefault(spec, 'concurrencyPolicy', 'Allow');
      setDefault(spec, 'suspend', false);
      setDefault(spec, 'successfulJobsHistoryLimit', 3);
      setDefault(spec, 'failedJobsHistoryLimit', 1);
      const jobSpec = obj(obj(spec, 'jobTemplate'), 'spec');
      defaultTemplate(jobSpec, 'Never');
      return;
    }
    case 'persistentvolumeclaims':
      setDefault(obj(o, 'spec'), 'volumeMode', 'Filesystem');
      return;
    case 'networkpolicies': {
      const spec = obj(o, 'spec');
      setDefault(spec, 'policyTypes', ['Ingress']);
      return;
    }
    default:
      return;
  }
}

/**
 * Cluster IPs from 10.96.0.0/12 (kube-apiserver's default service CIDR), in order; .1 is the `kubernetes` service.
 * IPs already in use (a restored snapshot's Services, a Service that asked for its own clusterIP) are skipped, so a
 * simulator restarted from its snapshot never hands out an IP a Service already holds.
 */
export class ClusterIpAllocator {
  private next = 2;
  private readonly used = new Set<string>();

  allocate(): string {
    for (;;) {
      const ip = ClusterIpAllocator.ipAt(this.next++);
      if (!this.used.has(ip)) {
        this.used.add(ip);
        return ip;
      }
    }
  }

  /** Marks an IP held by a stored Service; it is never allocated again. */
  reserve(ip: unknown): void {
    if (typeof ip === 'string' && ip !== '' && ip !== 'None') this.used.add(ip);
  }

  private static ipAt(n: number): string {
    return `10.${96 + ((n >> 16) & 0x0f)}.${(n >> 8) & 0xff}.${n & 0xff}`;
  }
}
