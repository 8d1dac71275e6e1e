/**
 * Every read of the cluster, in one place. Each is a list by the chart's
 * labels (or one object by name), sent once per command run and shared until
 * something is written (kube/api.ts readOnce), so the plan, the pre-flight,
 * the endpoint diff and the first poll of a wait never ask twice. Failures are
 * wrapped once, naming what was read ("list pods in namespace game"). What a
 * command needs is shaped by the projections in views.ts; writes are in writes.ts.
 */
import type {
  V1Deployment,
  V1DeploymentList,
  V1EndpointSlice,
  V1EndpointSliceList,
  V1NodeList,
  V1PersistentVolumeClaim,
  V1PersistentVolumeClaimList,
  V1Pod,
  V1PodList,
  V1Service,
  V1ServiceList,
  V1StatefulSet,
  V1StatefulSetList,
} from '@kubernetes/client-node';
import type { ServiceCIDRView } from '../core/budget.js';
import { parseKubeProxyConfig, type KubeProxyView } from '../core/nodeport-scope.js';
import type { EndpointsInput } from '../core/endpoints.js';
import type {
  EndpointView,
  NodeView,
  PodView,
  RedisView,
  ServiceView,
  StatefulSetView,
} from '../core/model.js';
import { recoverNodeOf, type RecoverNode, type RecoverPod } from '../core/recover.js';
import { scaleObjectsOf, type ScaleObjects } from '../core/scale.js';
import {
  chartMadeClaims,
  chartMadeSecrets,
  type LiveOwnership,
  type ManifestObject,
  type ManifestView,
} from '../core/release-change.js';
import {
  ALLOCATED,
  ALLOCATION_ID_ANNOTATION,
  CORDONED_LABEL,
  DRAINING_LABEL,
  STATE_LABEL,
} from '../core/rooms.js';
import { tolerationObjectsOf } from '../core/tolerations.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { AUTOSCALER_POLICY_ANNOTATION } from '../core/autoscale.js';
import { autoscalerStatusOf, type AutoscalerStatus } from '../core/status.js';
import { autoscalerLeaseName } from '../core/permissions.js';
import { kubeApis, listJson, metadataItems, metadataNames, readOnce, releaseSelector } from './api.js';
import type { ResolvedKube } from './config.js';
import { KubeApiError, toKubeError } from './errors.js';
import {
  nodeView,
  ofRelease,
  podView,
  podViewsOf,
  endOnRestartOf,
  redisClaimOf,
  redisSecretOf,
  redisView,
  roomObjectsOf,
  serviceView,
  statefulSetView,
  pvcView,
  releaseObjectsFrom,
  podsPerNode,
  serviceCidrView,
  helmServicesOf,
  labelledView,
  type RoomObjects,
  progressObjectsOf,
  type ProgressObjects,
} from './views.js';

/** The release has no StatefulSet here: not installed, or another namespace. */
export function noStatefulSet(release: string, namespace: string): ExposePodsError {
  return new ExposePodsError(
    `release ${release} has no StatefulSet in namespace ${namespace}`,
    ExitCode.NOT_FOUND,
    `Is it installed there? Check with: kubectl expose-pods status ${release} -n ${namespace}`,
  );
}

/** A read a user may not be allowed to make: undefined on 403, any other failure as it was. */
export function unlessForbidden<T>(read: Promise<T>): Promise<T | undefined> {
  return read.catch((e: unknown) => {
    if (e instanceof KubeApiError && e.httpCode === 403) return undefined;
    throw e;
  });
}

/**
 * One release's objects, one method per resource, each found by the chart's
 * labels (app.kubernetes.io/instance, and the component) and each failure
 * wrapped once, naming what was being done ("list pods in namespace game").
 * Every command that reads a release asks this for what it needs; none of its
 * requests grows with the number of rooms. Each list is sent once per command
 * run until a write or a refresh (readOnce), unless `fresh` (a reflector's
 * list, which must see now).
 */
export interface ReleaseReader {
  namespace: string;
  release: string;
  statefulSets: () => Promise<V1StatefulSetList>;
  /** The release's StatefulSet, or undefined. */
  statefulSet: () => Promise<V1StatefulSet | undefined>;
  /** The release's StatefulSet, or NOT_FOUND naming the release and namespace. */
  requireStatefulSet: () => Promise<V1StatefulSet & { metadata: { name: string } }>;
  /** The room pods; with `selector`, only those its labels also match (kubectl's syntax, checked by the API server). */
  roomPods: (selector?: string) => Promise<V1PodList>;
  /** The per-pod Services (and, for a LoadBalancer release, only those). */
  podServices: () => Promise<V1ServiceList>;
  /** The per-pod Services' EndpointSlices. */
  podEndpointSlices: () => Promise<V1EndpointSliceList>;
  /** Every claim carrying the release's instance label. */
  claims: () => Promise<V1PersistentVolumeClaimList>;
  redisDeployments: () => Promise<V1DeploymentList>;
  redisPods: () => Promise<V1PodList>;
  /** Every node: cluster-scoped, so a namespaced user may get a 403 (see unlessForbidden). */
  nodes: () => Promise<V1NodeList>;
}

export async function releaseReader(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  opts: { fresh?: boolean; cached?: boolean } = {},
): Promise<ReleaseReader> {
  const { core, apps, discovery, call } = await kubeApis(kube);
  const where = `in namespace ${namespace}`;
  const once = <T>(key: string, read: () => Promise<T>) => (opts.fresh ? read() : readOnce(kube, key, read));
  /** One list of the release's objects of a kind, by the chart's labels (of one component, or all). */
  const list =
    <T>(
      resource: string,
      request: (q: { namespace: string; labelSelector: string; resourceVersion?: string }) => Promise<T>,
      component?: string,
    ) =>
    (selector?: string) => {
      const labelSelector = narrowed(releaseSelector(release, component), selector);
      // resourceVersion 0: the API server's watch cache answers, without a read of etcd.
      const rv = opts.cached ? { resourceVersion: '0' } : {};
      return once(`list ${resource} ${namespace} ${labelSelector}${opts.cached ? ' cached' : ''}`, () =>
        call(`list ${resource} ${where}`, request({ namespace, labelSelector, ...rv })),
      );
    };
  const statefulSets = list('statefulsets', (q) => apps.listNamespacedStatefulSet(q), 'room');
  const statefulSet = async () => (await statefulSets()).items[0];
  return {
    namespace,
    release,
    statefulSets,
    statefulSet,
    requireStatefulSet: async () => {
      const set = await statefulSet();
      if (!set?.metadata?.name) throw noStatefulSet(release, namespace);
      return set as V1StatefulSet & { metadata: { name: string } };
    },
    roomPods: list('pods', (q) => core.listNamespacedPod(q), 'room'),
    podServices: list('services', (q) => core.listNamespacedService(q), 'pod-service'),
    podEndpointSlices: list('endpointslices', (q) => discovery.listNamespacedEndpointSlice(q), 'pod-service'),
    claims: list('persistentvolumeclaims', (q) => core.listNamespacedPersistentVolumeClaim(q)),
    redisDeployments: list('deployments', (q) => apps.listNamespacedDeployment(q), 'redis'),
    redisPods: list('pods', (q) => core.listNamespacedPod(q), 'redis'),
    nodes: () => nodeList(kube, opts),
  };
}

/** Every node: the one list of nodes, cluster-scoped (a namespaced user may get a 403: see unlessForbidden). */
async function nodeList(kube: ResolvedKube, opts: { fresh?: boolean } = {}): Promise<V1NodeList> {
  const { core, call } = await kubeApis(kube);
  const read = () => call('list nodes', core.listNode());
  return opts.fresh ? read() : readOnce(kube, 'list nodes', read);
}

/**
 * What the cluster-wide budgets are worked out from (core/budget.ts). Each
 * cluster-wide list a namespaced user may not make is optional: a 403 leaves
 * that budget unknown, never fails the command.
 */
export interface BudgetObjects {
  nodes: NodeView[];
  /** Every Service in the cluster; undefined when RBAC hides them. */
  allServices?: ServiceView[];
  /** Non-terminal pods bound to each node, in every namespace; undefined when RBAC hides them. */
  boundPerNode?: Map<string, number>;
  /** ServiceCIDRs and the allocated IPs (IPAddress names), or why they cannot be read. */
  serviceIPs: { cidrs: ServiceCIDRView[]; addresses: string[] } | { unknown: string };
}

/** Five lists, whatever the number of rooms: nodes, Services, pods, ServiceCIDRs and IPAddresses. */
export async function readBudgetObjects(kube: ResolvedKube): Promise<BudgetObjects> {
  const [nodes, allServices, boundPerNode, serviceIPs] = await Promise.all([
    listNodes(kube),
    listAllServices(kube),
    boundPodsPerNode(kube),
    readServiceIPs(kube),
  ]);
  return { nodes, allServices, boundPerNode, serviceIPs };
}

export async function listNodes(kube: ResolvedKube): Promise<NodeView[]> {
  return (await nodeList(kube)).items.map(nodeView);
}

/** Every Service in the cluster, for nodePort collisions and the NodePort budget. */
export async function listAllServices(kube: ResolvedKube): Promise<ServiceView[] | undefined> {
  const { call } = await kubeApis(kube);
  const list = await unlessForbidden(
    readOnce(kube, 'list services', () =>
      call('list services in all namespaces', listJson(kube, '/api/v1/services')),
    ),
  );
  return (list?.items as V1Service[] | undefined)?.map(serviceView);
}

/** Pods that hold a node slot (phase not Succeeded or Failed), counted per node. */
async function boundPodsPerNode(kube: ResolvedKube): Promise<Map<string, number> | undefined> {
  const { call } = await kubeApis(kube);
  const list = await unlessForbidden(
    readOnce(kube, 'list bound pods', () =>
      call(
        'list pods in all namespaces',
        listJson(kube, '/api/v1/pods', {
          fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed',
        }),
      ),
    ),
  );
  return list && podsPerNode(list.items as V1Pod[]);
}

/**
 * The Service CIDRs and the IPs allocated from them, from the ServiceCIDR and
 * IPAddress objects (networking.k8s.io/v1, Kubernetes 1.33+). Older API servers
 * (404) and users who may not list them (403) get the reason instead.
 */
async function readServiceIPs(kube: ResolvedKube): Promise<BudgetObjects['serviceIPs']> {
  const { networking, server, metadataOnly } = await kubeApis(kube);
  try {
    const [cidrs, addresses] = await Promise.all([
      readOnce(kube, 'list servicecidrs', () => networking.listServiceCIDR()),
      // An IPAddress is named by its IP: names alone count them (one per ClusterIP, thousands at fleet size).
      readOnce(kube, 'list ipaddresses', () => networking.listIPAddress({}, metadataOnly.list)),
    ]);
    return {
      cidrs: cidrs.items.map(serviceCidrView),
      addresses: metadataNames(addresses).filter(Boolean),
    };
  } catch (e) {
    const err = toKubeError(e, 'list servicecidrs and ipaddresses', server);
    if (err.httpCode === 404)
      return { unknown: 'the API server has no ServiceCIDR objects (they come with Kubernetes 1.33)' };
    if (err.httpCode === 403)
      return {
        unknown:
          'not allowed to list servicecidrs and ipaddresses (networking.k8s.io; rbac --cluster-budget grants it)',
      };
    throw err;
  }
}

/** Everything `status` reads from the cluster about one release, found by the chart's labels. */
export interface ReleaseObjects {
  statefulSet?: StatefulSetView;
  pods: PodView[];
  services: ServiceView[];
  endpoints: EndpointView[];
  redis?: RedisView;
  /** The cluster-wide lists the budgets need (nodes, every Service, ...). */
  cluster: BudgetObjects;
  /** The StatefulSet's pod template, for where rooms may be scheduled. */
  template?: unknown;
}

/** Reads the release's objects; every call runs in parallel and names itself in errors. */
export async function readReleaseObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<ReleaseObjects> {
  const { core, server, metadataOnly } = await kubeApis(kube);
  const where = `in namespace ${namespace}`;
  const read = await releaseReader(kube, namespace, release);

  const [stsList, pods, services, slices, cluster, deployments, redisPods] = await Promise.all([
    read.statefulSets(),
    read.roomPods(),
    read.podServices(),
    read.podEndpointSlices(),
    readBudgetObjects(kube),
    read.redisDeployments(),
    read.redisPods(),
  ]);

  const sts: V1StatefulSet | undefined = stsList.items[0];
  const dep = deployments.items[0];
  // Names come from the live Deployment, so an existingSecret or existingClaim is found too.
  const readOrMissing = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (e) {
      const err = toKubeError(e, `get ${what} ${where}`, server);
      if (err.httpCode === 404) return undefined;
      throw err;
    }
  };
  const secretName = dep ? redisSecretOf(dep) : undefined;
  const claim = dep ? redisClaimOf(dep) : undefined;
  const [secret, pvc] = await Promise.all([
    secretName
      ? readOrMissing(`secret ${secretName}`, () =>
          core.readNamespacedSecret({ namespace, name: secretName }, metadataOnly.get),
        )
      : undefined,
    claim
      ? readOrMissing(`persistentvolumeclaim ${claim}`, () =>
          core.readNamespacedPersistentVolumeClaim({ namespace, name: claim }),
        )
      : undefined,
  ]);
  const redis = dep && redisView(dep, redisPods.items, secret !== undefined, pvc);
  return releaseObjectsFrom(sts, pods.items, services.items, slices.items, redis, cluster);
}

/** What the chart renders in one namespace, for every release there at once. */
export interface NamespaceRooms {
  namespace: string;
  statefulSets: V1StatefulSet[];
  /** Room and Redis pods. */
  pods: V1Pod[];
  /** Per-pod Services (and the headless and Redis ones). */
  services: V1Service[];
  endpointSlices: V1EndpointSlice[];
  /** Redis Deployments. */
  deployments: V1Deployment[];
  claims: V1PersistentVolumeClaim[];
  /** The names of the Secrets the chart made (the Redis passwords). */
  secretNames: Set<string>;
}

/** Every object any release of a chart with the components room, pod-service or redis has made. */
const CHART_SELECTOR = 'app.kubernetes.io/instance,app.kubernetes.io/component in (room,pod-service,redis)';

/**
 * The chart's objects in a namespace, by label, with seven list requests
 * whatever the number of releases and rooms. Secrets are listed for their
 * names only, and only those the chart labels.
 */
export async function readNamespaceRooms(kube: ResolvedKube, namespace: string): Promise<NamespaceRooms> {
  const { core, apps, discovery, call, metadataOnly } = await kubeApis(kube);
  const q = { namespace, labelSelector: CHART_SELECTOR };
  const where = `in namespace ${namespace}`;
  const [statefulSets, pods, services, endpointSlices, deployments, claims, secrets] = await Promise.all([
    call(`list statefulsets ${where}`, apps.listNamespacedStatefulSet(q)),
    call(`list pods ${where}`, core.listNamespacedPod(q)),
    call(`list services ${where}`, core.listNamespacedService(q)),
    call(`list endpointslices ${where}`, discovery.listNamespacedEndpointSlice(q)),
    call(`list deployments ${where}`, apps.listNamespacedDeployment(q)),
    call(`list persistentvolumeclaims ${where}`, core.listNamespacedPersistentVolumeClaim(q)),
    call(`list secrets ${where}`, core.listNamespacedSecret(q, metadataOnly.list)),
  ]);
  return {
    namespace,
    statefulSets: statefulSets.items,
    pods: pods.items,
    services: services.items,
    endpointSlices: endpointSlices.items,
    deployments: deployments.items,
    claims: claims.items,
    secretNames: new Set(metadataNames(secrets)),
  };
}

/**
 * One release's objects among its namespace's, in the shape readReleaseObjects
 * gives status. A Redis Secret the chart did not make (existingSecret) is not
 * among the listed names: it costs one GET, for that release only.
 */
export async function releaseObjectsOf(
  kube: ResolvedKube,
  rooms: NamespaceRooms,
  release: string,
  cluster: BudgetObjects,
): Promise<ReleaseObjects> {
  const sts = ofRelease(rooms.statefulSets, release, 'room')[0];
  const dep = ofRelease(rooms.deployments, release, 'redis')[0];
  let redis: ReleaseObjects['redis'];
  if (dep) {
    const secret = redisSecretOf(dep) ?? '';
    const claim = redisClaimOf(dep);
    const present =
      rooms.secretNames.has(secret) || (secret !== '' && (await secretExists(kube, rooms.namespace, secret)));
    redis = redisView(
      dep,
      ofRelease(rooms.pods, release, 'redis'),
      present,
      rooms.claims.find((c) => c.metadata?.name === claim),
    );
  }
  return releaseObjectsFrom(
    sts,
    ofRelease(rooms.pods, release, 'room'),
    ofRelease(rooms.services, release, 'pod-service'),
    ofRelease(rooms.endpointSlices, release, 'pod-service'),
    redis,
    cluster,
  );
}

/**
 * Whether a Secret can be read, by its metadata. Any failure counts as no, so
 * one forbidden existingSecret marks its release degraded instead of failing
 * the whole list; status, about one release, fails on a 403 instead.
 */
async function secretExists(kube: ResolvedKube, namespace: string, name: string): Promise<boolean> {
  const { core, metadataOnly } = await kubeApis(kube);
  try {
    await core.readNamespacedSecret({ namespace, name }, metadataOnly.get);
    return true;
  } catch {
    return false;
  }
}

/** The live side of a scale plan, by the chart's labels: four lists, whatever the replica count. */
export async function readScaleObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<ScaleObjects> {
  const read = await releaseReader(kube, namespace, release);
  const [set, pods, services, pvcs] = await Promise.all([
    read.requireStatefulSet(),
    read.roomPods(),
    read.podServices(),
    read.claims(),
  ]);
  return scaleObjectsOf(
    statefulSetView(set),
    podViewsOf(pods.items, set),
    services.items.map(serviceView),
    pvcs.items.map(pvcView),
  );
}

/** What a change to a release is planned against: its rooms and its StatefulSet as they are now. */
export interface PlanObjects {
  /** The release's room pods now. */
  pods: PodView[];
  /**
   * The release's StatefulSet now: its name, whatever the change renders (a
   * rename deletes its rooms), and its pod template, which a change is planned
   * against (the newest release record may be a failed revision that never reached the cluster).
   */
  statefulSet?: { name: string; template: unknown; updateRevision?: string; strategy: string };
}

/** What a change to a release is checked against before anything is written. */
export type ChangeObjects = PlanObjects & BudgetObjects;

/** The release's room pods and its StatefulSet, as a change is planned against them (no cluster-wide list). */
export async function readPlanObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<PlanObjects> {
  const read = await releaseReader(kube, namespace, release);
  const [sets, pods] = await Promise.all([read.statefulSets(), read.roomPods()]);
  const set = sets.items[0];
  const name = set?.metadata?.name;
  return {
    pods: podViewsOf(pods.items, set),
    ...(name
      ? {
          statefulSet: {
            name,
            template: set.spec?.template,
            updateRevision: set.status?.updateRevision,
            strategy: set.spec?.updateStrategy?.type ?? 'RollingUpdate',
          },
        }
      : {}),
  };
}

/** The release's pods and StatefulSet (readPlanObjects), and the cluster-wide lists the budgets need (readBudgetObjects, above). */
export async function readChangeObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<ChangeObjects> {
  const [plan, budget] = await Promise.all([
    readPlanObjects(kube, namespace, release),
    readBudgetObjects(kube),
  ]);
  return { ...plan, ...budget };
}

/** A Service Helm made for this release (its meta.helm.sh annotations say so). */
export interface ReleaseService {
  name: string;
  uid: string;
}

/**
 * The Services in the namespace that Helm created for this release, by the
 * chart's instance label and Helm's own release annotations (both must match,
 * so a user's Service that only shares the label is never listed).
 */
export async function listReleaseServices(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<ReleaseService[]> {
  const { core, call } = await kubeApis(kube);
  const list = await call(
    `list services in namespace ${namespace}`,
    core.listNamespacedService({ namespace, labelSelector: releaseSelector(release) }),
  );
  return helmServicesOf(list.items, release, namespace);
}

/** The release's StatefulSet pods and every node with its Ready condition: three lists. */
export async function readRecoverObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<{ workload: string; pods: RecoverPod[]; nodes: RecoverNode[] }> {
  const read = await releaseReader(kube, namespace, release);
  const [set, pods, nodes] = await Promise.all([read.requireStatefulSet(), read.roomPods(), read.nodes()]);
  return {
    workload: set.metadata.name,
    pods: podViewsOf(pods.items, set),
    nodes: nodes.items.map((n) => recoverNodeOf(nodeView(n))),
  };
}

/**
 * The four lists `endpoints` needs, by the chart's labels, in parallel: the
 * StatefulSet, its pods, its per-pod Services, and the nodes. The request
 * count never grows with the replica count. A 403 on nodes leaves them unknown.
 */
export async function readEndpointObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<Omit<EndpointsInput, 'addressTypes'>> {
  return (await readRoomObjects(kube, namespace, release)).input;
}

/**
 * Four lists per poll (StatefulSet, its pods, Redis Deployment and pods);
 * undefined until the StatefulSet exists. A failed list is a KubeApiError that
 * names it, as every read of the release is. A poll asks the API server's
 * watch cache; `consistent` asks etcd, for the last word after helm's.
 */
export async function readProgressObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  opts: { consistent?: boolean } = {},
): Promise<ProgressObjects | undefined> {
  const read = await releaseReader(
    kube,
    namespace,
    release,
    opts.consistent ? { fresh: true } : { cached: true },
  );
  const [sets, pods, deployments, redisPods] = await Promise.all([
    read.statefulSets(),
    read.roomPods(),
    read.redisDeployments(),
    read.redisPods(),
  ]);
  return progressObjectsOf(sets.items, pods.items, deployments.items, redisPods.items);
}

/** The StatefulSet's template tolerations and its pods' live ones (admission defaults filled in): two lists. */
export async function readTolerationObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<ReturnType<typeof tolerationObjectsOf>> {
  const read = await releaseReader(kube, namespace, release);
  const [set, pods] = await Promise.all([read.requireStatefulSet(), read.roomPods()]);
  return tolerationObjectsOf(statefulSetView(set), podViewsOf(pods.items, set));
}

/**
 * The StatefulSet, its pods (those `podSelector` also matches, when given),
 * its per-pod Services and the nodes: four lists, as `endpoints` makes.
 */
export async function readRoomObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  podSelector?: string,
): Promise<RoomObjects> {
  const read = await releaseReader(kube, namespace, release);
  const [sts, pods, services, nodes] = await Promise.all([
    read.statefulSets(),
    read.roomPods(podSelector),
    read.podServices(),
    unlessForbidden(read.nodes()),
  ]);
  const objects = roomObjectsOf(namespace, sts.items, pods.items, services.items, nodes?.items.map(nodeView));
  if (!objects) throw noStatefulSet(release, namespace);
  return objects;
}

/** The labels the room commands write on a pod: allocated, draining, cordoned. */
export const MARK_LABELS = [STATE_LABEL, DRAINING_LABEL, CORDONED_LABEL];

/** The label selector of rooms neither allocated, draining nor cordoned: what allocate takes first. */
export const UNMARKED_ROOMS = MARK_LABELS.map((l) => `!${l}`).join(',');

/** A label selector with the caller's `selector` (kubectl's syntax) added to it, when there is one. */
function narrowed(base: string, selector: string | undefined): string {
  return selector ? `${base},${selector}` : base;
}

/** The release's StatefulSet alone, as RoomObjects with no pods, Services or nodes yet. */
export async function readRoomSet(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<RoomObjects> {
  const read = await releaseReader(kube, namespace, release);
  const objects = roomObjectsOf(namespace, (await read.statefulSets()).items, [], [], []);
  if (!objects) throw noStatefulSet(release, namespace);
  return objects;
}

/**
 * What one allocation reads first: the StatefulSet, and the names of the
 * room pods that carry no mark (the API server leaves out the others), also
 * matching `selector`, as metadata only: a few hundred bytes a room, whatever
 * their specs. The caller then reads whole only the pods it tries (readPod).
 */
export async function readUnmarkedRooms(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  selector?: string,
): Promise<{ objects: RoomObjects; names: string[] }> {
  const { core, call, metadataOnly } = await kubeApis(kube);
  const read = await releaseReader(kube, namespace, release);
  const labelSelector = narrowed(`${releaseSelector(release, 'room')},${UNMARKED_ROOMS}`, selector);
  const [sts, pods] = await Promise.all([
    read.statefulSets(),
    call(
      `list pods in namespace ${namespace}`,
      core.listNamespacedPod({ namespace, labelSelector }, metadataOnly.list),
    ),
  ]);
  const objects = roomObjectsOf(namespace, sts.items, [], [], []);
  if (!objects) throw noStatefulSet(release, namespace);
  return { objects, names: metadataNames(pods) };
}

/**
 * The names of the release's room pods that hold allocation `id` (Allocated,
 * with that id): one list of the Allocated rooms, as metadata only. Normally
 * none or one; two only when two processes made the same id's first
 * allocation at once. With `selector`, only those whose labels it matches too.
 */
export async function readAllocationHolders(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  id: string,
  selector?: string,
): Promise<string[]> {
  const { core, call, metadataOnly } = await kubeApis(kube);
  const labelSelector = narrowed(`${releaseSelector(release, 'room')},${STATE_LABEL}=${ALLOCATED}`, selector);
  const pods = await call(
    `list pods in namespace ${namespace}`,
    core.listNamespacedPod({ namespace, labelSelector }, metadataOnly.list),
  );
  return metadataItems(pods)
    .filter((p) => p.metadata?.annotations?.[ALLOCATION_ID_ANNOTATION] === id)
    .map((p) => p.metadata?.name ?? '');
}

/** One pod, whole, or undefined when it is gone. */
export async function readPod(
  kube: ResolvedKube,
  namespace: string,
  name: string,
  endOnRestart: boolean,
): Promise<PodView | undefined> {
  const { core, server } = await kubeApis(kube);
  try {
    return podView(await core.readNamespacedPod({ name, namespace }), endOnRestart);
  } catch (e) {
    const err = toKubeError(e, `get pod ${name} in namespace ${namespace}`, server);
    if (err.httpCode === 404) return undefined;
    throw err;
  }
}

/**
 * The per-pod Service and the node of one room, by name: two GETs. A missing
 * one is left out (the room is then not allocatable); nodes are undefined when
 * RBAC forbids reading them, as for a list.
 */
export async function roomEndpointOf(
  kube: ResolvedKube,
  namespace: string,
  service: string,
  node: string,
): Promise<{ services: ServiceView[]; nodes: NodeView[] | undefined }> {
  const { core, server } = await kubeApis(kube);
  const orMissing = async <T>(action: string, request: Promise<T>): Promise<T | undefined | 'forbidden'> => {
    try {
      return await request;
    } catch (e) {
      const err = toKubeError(e, action, server);
      if (err.httpCode === 404) return undefined;
      if (err.httpCode === 403) return 'forbidden';
      throw err;
    }
  };
  const [svc, n] = await Promise.all([
    orMissing(
      `get service ${service} in namespace ${namespace}`,
      core.readNamespacedService({ name: service, namespace }),
    ),
    orMissing(`get node ${node}`, core.readNode({ name: node })),
  ]);
  if (svc === 'forbidden')
    throw toKubeError({ code: 403, body: '' }, `get service ${service} in namespace ${namespace}`, server);
  return {
    services: svc ? [serviceView(svc)] : [],
    nodes: n === 'forbidden' ? undefined : n ? [nodeView(n)] : [],
  };
}

/** The release's StatefulSet name and its room pods: what a drain reads each round. */
export async function readRoomPods(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<{ workload: string; replicas: number; pods: PodView[]; endOnRestart: boolean }> {
  const read = await releaseReader(kube, namespace, release);
  const [set, pods] = await Promise.all([read.requireStatefulSet(), read.roomPods()]);
  return {
    workload: set.metadata.name,
    replicas: set.spec?.replicas ?? 0,
    pods: podViewsOf(pods.items, set),
    endOnRestart: endOnRestartOf(set),
  };
}

/** The names of the Ready nodes, or undefined when RBAC forbids listing nodes. */
export async function readReadyNodes(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<Set<string> | undefined> {
  const read = await releaseReader(kube, namespace, release);
  const nodes = await unlessForbidden(read.nodes());
  return (
    nodes &&
    new Set(
      nodes.items
        .map(nodeView)
        .filter((n) => n.ready)
        .map((n) => n.name),
    )
  );
}

/** The release's StatefulSet and its room pods: what a rollout reads each round. */
export async function readRolloutObjects(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<{ set: StatefulSetView; pods: PodView[] }> {
  const read = await releaseReader(kube, namespace, release);
  const [set, pods] = await Promise.all([read.requireStatefulSet(), read.roomPods()]);
  return { set: statefulSetView(set), pods: podViewsOf(pods.items, set) };
}

/** What a release leaves behind on uninstall: the chart's PVCs (rooms and Redis) and its Redis Secret. */
export interface ReleaseData {
  pvcs: string[];
  secrets: string[];
}

/**
 * Finds the release's data: claims by the instance label, kept only when the
 * chart made them (chartMadeClaims: by name from the release's manifest, or by
 * the chart's labels once the release is gone); the Redis Secret by name from
 * the manifest (chartMadeSecrets; once the release is gone, by Helm's
 * ownership annotations and the chart's labels). Claims and Secrets the user
 * brought are never listed, even when they carry the release's labels.
 */
export async function listReleaseData(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  manifest?: ManifestView,
): Promise<ReleaseData> {
  const { core, server, metadataOnly } = await kubeApis(kube);
  try {
    const [pvcs, secrets] = await Promise.all([
      core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector: releaseSelector(release) }),
      core.listNamespacedSecret(
        { namespace, labelSelector: releaseSelector(release, 'redis') },
        metadataOnly.list,
      ),
    ]);
    return {
      pvcs: chartMadeClaims(pvcs.items.map(labelledView), manifest),
      secrets: chartMadeSecrets(metadataItems(secrets).map(labelledView), release, namespace, manifest),
    };
  } catch (e) {
    throw toKubeError(e, `list persistentvolumeclaims and secrets in namespace ${namespace}`, server);
  }
}

/** Where clusters publish kube-proxy's configuration: kubeadm's ConfigMap, then EKS's. */
const PUBLISHED = [
  { name: 'kube-proxy', key: 'config.conf' },
  { name: 'kube-proxy-config', key: 'config' },
] as const;

/**
 * kube-proxy's configuration, where the cluster publishes it in kube-system;
 * undefined when it does not (GKE, k3s, most managed clusters), when RBAC
 * forbids reading it, or on any error: it only ever adds a warning, so it
 * never fails a command. At most two GETs, one when kubeadm's is there.
 */
export async function readKubeProxyConfig(kube: ResolvedKube): Promise<KubeProxyView | undefined> {
  const { core } = await kubeApis(kube);
  for (const { name, key } of PUBLISHED) {
    try {
      const cm = await core.readNamespacedConfigMap({ name, namespace: 'kube-system' });
      const text = cm.data?.[key];
      return text === undefined ? undefined : parseKubeProxyConfig(`kube-system/${name}`, text);
    } catch (e) {
      // 404: try the next place; 403 or anything else: the next one would fare no better.
      if ((e as { code?: number }).code !== 404) return undefined;
    }
  }
  return undefined;
}

/** Whether a namespace exists; a 403 counts as "exists" (the real install will tell). */
export async function namespaceExists(kube: ResolvedKube, name: string): Promise<boolean> {
  const { core, server } = await kubeApis(kube);
  try {
    await core.readNamespace({ name });
    return true;
  } catch (e) {
    const err = toKubeError(e, `get namespace ${name}`, server);
    if (err.httpCode === 404) return false;
    if (err.httpCode === 403) return true;
    throw err;
  }
}

/**
 * The objects among `objects` that exist now, with their ownership labels and
 * annotations: what Helm checks before it creates them. Services (all a scale
 * creates) come from one metadata-only list of the namespace's Services; any
 * other kind costs a GET of its own.
 */
export async function readOwnership(
  kube: ResolvedKube,
  namespace: string,
  objects: ManifestObject[],
): Promise<LiveOwnership[]> {
  const { core, objects: api, call, metadataOnly } = await kubeApis(kube);
  const services = objects.some((o) => o.kind === 'Service')
    ? metadataItems(
        await call(
          `list services in namespace ${namespace}`,
          core.listNamespacedService({ namespace }, metadataOnly.list),
        ),
      )
    : [];
  const byName = new Map(services.map((s) => [s.metadata?.name ?? '', s.metadata]));
  const live: LiveOwnership[] = [];
  for (const o of objects) {
    const name = o.metadata?.name ?? '';
    const kind = o.kind ?? '';
    const meta =
      kind === 'Service'
        ? byName.get(name)
        : await call(
            `get ${kind.toLowerCase()} ${name} in namespace ${namespace}`,
            api.read({ apiVersion: o.apiVersion ?? 'v1', kind, metadata: { name, namespace } }),
          ).then(
            (x) => x.metadata,
            (e: unknown) => {
              if (e instanceof KubeApiError && e.httpCode === 404) return undefined;
              throw e;
            },
          );
    if (meta) live.push({ kind, name, namespace, labels: meta.labels, annotations: meta.annotations });
  }
  return live;
}

/**
 * The API server's version (GET /version, which every user may read): what a
 * chart rendered locally is rendered for, so its kubeVersion constraint is
 * checked against the cluster, not against the version helm was built with.
 */
export async function serverVersion(kube: ResolvedKube): Promise<string> {
  const { k8s, config, call } = await kubeApis(kube);
  const v = await readOnce(kube, 'get version', () =>
    call('get version', new k8s.VersionApi(config).getCode()),
  );
  return v.gitVersion;
}

/**
 * The release's autoscaler, from its Lease (<release>-expose-pods-autoscaler):
 * null when there is none, undefined when RBAC forbids reading it.
 */
export async function readAutoscaler(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<AutoscalerStatus | null | undefined> {
  const { k8s, config, server } = await kubeApis(kube);
  const name = autoscalerLeaseName(release);
  const leases = new k8s.CoordinationV1Api(config);
  try {
    const lease = await leases.readNamespacedLease({ name, namespace });
    return autoscalerStatusOf(
      {
        holder: lease.spec?.holderIdentity,
        policy: lease.metadata?.annotations?.[AUTOSCALER_POLICY_ANNOTATION],
        acquired: lease.spec?.acquireTime ? new Date(lease.spec.acquireTime) : undefined,
        renewed: lease.spec?.renewTime ? new Date(lease.spec.renewTime) : undefined,
        durationSeconds: lease.spec?.leaseDurationSeconds,
      },
      Date.now(),
    );
  } catch (e) {
    const err = toKubeError(e, `get lease ${name} in namespace ${namespace}`, server);
    if (err.httpCode === 404) return null;
    if (err.httpCode === 403) return undefined;
    throw err;
  }
}
