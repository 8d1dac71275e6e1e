/**
 * Projections: the API's objects into the plain views core reasons about
 * (core/model.ts), and into the inputs a command needs. Pure, no requests:
 * each is tested from tables of objects (test/unit), never through nock.
 */
import type {
  V1Deployment,
  V1EndpointSlice,
  V1Node,
  V1NodeCondition,
  V1PersistentVolumeClaim,
  V1ContainerStatus,
  V1Pod,
  V1Service,
  V1ServiceCIDR,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { EndpointsInput } from '../core/endpoints.js';
import type {
  EndpointView,
  NodeView,
  PodView,
  PvcView,
  RedisView,
  ServiceView,
  StatefulSetView,
} from '../core/model.js';
import { parseQuantity } from '../core/quantity.js';
import {
  END_ON_RESTART_ANNOTATION,
  MARK_SAFE_TO_EVICT_ANNOTATION,
  roomMark,
  SAFE_TO_EVICT_ANNOTATION,
  settledMark,
} from '../core/rooms.js';
import type { ReleaseObjects, ReleaseService } from './reader.js';
import type { ServiceCIDRView } from '../core/budget.js';

/** The label a StatefulSet gives each pod: the revision it was made from. */
const REVISION_LABEL = 'controller-revision-hash';

const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';

/** The most telling reason a pod is not ready: a waiting container, then an unmet condition. */
function notReadyReason(p: V1Pod): string | undefined {
  for (const c of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
    const w = c.state?.waiting?.reason;
    if (w) return w;
  }
  const cond = p.status?.conditions?.find((c) => c.status !== 'True' && c.reason);
  return cond?.reason;
}

/**
 * The statuses of the containers whose restarts count: the regular ones and
 * the restartable init containers (sidecars: restartPolicy Always), not the
 * init containers that run once before the others.
 */
function countedStatuses(p: V1Pod): V1ContainerStatus[] {
  const sidecars = new Set(
    (p.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name),
  );
  return [
    ...(p.status?.containerStatuses ?? []),
    ...(p.status?.initContainerStatuses ?? []).filter((c) => sidecars.has(c.name)),
  ];
}

/** When the last of those containers to stop stopped (lastState.terminated.finishedAt), or null. */
function lastFinishedAt(statuses: readonly V1ContainerStatus[]): string | null {
  let last: number | undefined;
  for (const c of statuses) {
    const at = c.lastState?.terminated?.finishedAt;
    const ms = at === undefined ? NaN : new Date(at).getTime();
    if (!Number.isNaN(ms) && (last === undefined || ms > last)) last = ms;
  }
  return last === undefined ? null : new Date(last).toISOString();
}

/** The StatefulSet's say (the chart's allocation.endOnRestart): a container restart ends an allocation; true unless "false". */
export function endOnRestartOf(set: V1StatefulSet | undefined): boolean {
  return set?.metadata?.annotations?.[END_ON_RESTART_ANNOTATION] !== 'false';
}

/** The pods as views, their allocations settled by the StatefulSet's endOnRestart. */
export function podViewsOf(pods: readonly V1Pod[], set: V1StatefulSet | undefined): PodView[] {
  const endOnRestart = endOnRestartOf(set);
  return pods.map((p) => podView(p, endOnRestart));
}

/**
 * A pod as core sees it. `endOnRestart` (endOnRestartOf its StatefulSet)
 * settles its room's mark: with it, an allocation a container restart ended
 * reads as none (core/rooms.ts settledMark).
 */
export function podView(p: V1Pod, endOnRestart: boolean): PodView {
  const readyCondition = p.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
  const ready = readyCondition !== undefined;
  const created = p.metadata?.creationTimestamp;
  const readyAt = readyCondition?.lastTransitionTime;
  const counted = countedStatuses(p);
  const restarts = counted.reduce((n, c) => n + c.restartCount, 0);
  const readySeconds =
    created && readyAt
      ? Math.max(0, (new Date(readyAt).getTime() - new Date(created).getTime()) / 1000)
      : undefined;
  return {
    name: p.metadata?.name ?? '',
    phase: p.status?.phase ?? 'Unknown',
    ready,
    nodeName: p.spec?.nodeName,
    podIP: p.status?.podIP,
    terminating: Boolean(p.metadata?.deletionTimestamp),
    reason: ready ? undefined : notReadyReason(p),
    uid: p.metadata?.uid,
    resourceVersion: p.metadata?.resourceVersion,
    restarts,
    mark: settledMark(
      roomMark(p.metadata?.labels, p.metadata?.annotations),
      restarts,
      endOnRestart,
      lastFinishedAt(counted),
    ),
    ...(p.spec?.tolerations ? { tolerations: p.spec.tolerations } : {}),
    ...(p.metadata?.labels?.[REVISION_LABEL] ? { revision: p.metadata.labels[REVISION_LABEL] } : {}),
    ...(readySeconds !== undefined && !Number.isNaN(readySeconds) ? { readySeconds } : {}),
  };
}

export function serviceView(s: V1Service): ServiceView {
  return {
    name: s.metadata?.name ?? '',
    namespace: s.metadata?.namespace ?? '',
    type: s.spec?.type ?? 'ClusterIP',
    selectsPod: s.spec?.selector?.[POD_NAME_LABEL],
    ports: (s.spec?.ports ?? []).map((p) => ({
      port: p.port,
      nodePort: p.nodePort,
      protocol: p.protocol ?? 'TCP',
    })),
    ingress: (s.status?.loadBalancer?.ingress ?? []).flatMap((i) =>
      [i.ip, i.hostname].filter((x): x is string => !!x),
    ),
    release: s.metadata?.labels?.['app.kubernetes.io/instance'],
    externalTrafficPolicy: s.spec?.externalTrafficPolicy,
    healthCheckNodePort: s.spec?.healthCheckNodePort,
    clusterIPs: (s.spec?.clusterIPs ?? (s.spec?.clusterIP ? [s.spec.clusterIP] : [])).filter(
      (ip) => ip && ip !== 'None',
    ),
  };
}

export function endpointViews(slice: V1EndpointSlice): EndpointView[] {
  const service = slice.metadata?.labels?.['kubernetes.io/service-name'] ?? '';
  // The API sends "endpoints": null for a Service with no pod, whatever the type says.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  return (slice.endpoints ?? []).map((e) => ({
    service,
    addresses: e.addresses,
    ready: e.conditions?.ready !== false,
    nodeName: e.nodeName,
  }));
}

export function nodeView(n: V1Node): NodeView {
  // A quantity in canonical form: 1000 pods read "1k".
  const pods = n.status?.allocatable?.pods;
  const allocatablePods = pods === undefined ? undefined : parseQuantity(pods);
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    name: n.metadata?.name ?? '',
    ready: ready?.status === 'True',
    unschedulable: n.spec?.unschedulable ?? false,
    ...(allocatablePods !== undefined ? { allocatablePods } : {}),
    addresses: (n.status?.addresses ?? []).map((a) => ({ type: a.type, address: a.address })),
    labels: n.metadata?.labels ?? {},
    taints: (n.spec?.taints ?? []).map((t) => ({
      key: t.key,
      ...(t.value ? { value: t.value } : {}),
      effect: t.effect,
    })),
    ...(ready ? { readyCondition: readyConditionOf(ready) } : {}),
  };
}

/** A node's Ready condition: its status (anything but True or False reads Unknown) and since when. */
function readyConditionOf(c: V1NodeCondition): NonNullable<NodeView['readyCondition']> {
  const status = c.status === 'True' || c.status === 'False' ? c.status : 'Unknown';
  const since = c.lastTransitionTime ? new Date(c.lastTransitionTime).getTime() : undefined;
  return { status, ...(since !== undefined && !Number.isNaN(since) ? { since } : {}) };
}

export function pvcView(c: V1PersistentVolumeClaim): PvcView {
  return { name: c.metadata?.name ?? '', phase: c.status?.phase ?? 'Pending' };
}

/** The Secret the Redis Deployment takes its password from (the chart's, or an existingSecret). */
export function redisSecretOf(d: V1Deployment): string | undefined {
  for (const c of d.spec?.template.spec?.containers ?? []) {
    const ref = c.env?.find((e) => e.name === 'REDIS_PASSWORD')?.valueFrom?.secretKeyRef?.name;
    if (ref) return ref;
  }
  return undefined;
}

/** The claim the Redis Deployment mounts (the chart's, or an existingClaim). */
export function redisClaimOf(d: V1Deployment): string | undefined {
  return d.spec?.template.spec?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName;
}

/** The replica counts status compares: the StatefulSet's spec and status. */
export function statefulSetView(sts: V1StatefulSet): StatefulSetView {
  // A template is required, but a reader must not fall over an object without one.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  const tolerations = sts.spec?.template?.spec?.tolerations;
  return {
    name: sts.metadata?.name ?? '',
    replicas: sts.spec?.replicas ?? 0,
    readyReplicas: sts.status?.readyReplicas ?? 0,
    currentReplicas: sts.status?.currentReplicas ?? sts.status?.replicas ?? 0,
    ...(sts.spec?.serviceName ? { serviceName: sts.spec.serviceName } : {}),
    ...(sts.status?.updateRevision ? { updateRevision: sts.status.updateRevision } : {}),
    observed: (sts.status?.observedGeneration ?? 0) >= (sts.metadata?.generation ?? 0),
    updateStrategy: sts.spec?.updateStrategy?.type ?? 'RollingUpdate',
    podManagementPolicy: sts.spec?.podManagementPolicy ?? 'OrderedReady',
    ...(tolerations ? { templateTolerations: tolerations } : {}),
    claimTemplates: (sts.spec?.volumeClaimTemplates ?? []).map((t) => t.metadata?.name ?? '').filter(Boolean),
  };
}

/** Redis as status judges it: its pod Ready, its PVC, its Secret there. */
export function redisView(
  dep: V1Deployment,
  pods: readonly V1Pod[],
  secretPresent: boolean,
  pvc: V1PersistentVolumeClaim | undefined,
): RedisView {
  return {
    podReady: pods.some((p) => podView(p, false).ready),
    pvc: pvc && pvcView(pvc),
    pvcExpected: redisClaimOf(dep) !== undefined,
    secretPresent,
    secretName: redisSecretOf(dep) ?? '',
  };
}

/** The objects of one release and component among a namespace's. */
export function ofRelease<T extends { metadata?: { labels?: Record<string, string> } }>(
  items: readonly T[],
  release: string,
  component: string,
): T[] {
  return items.filter(
    (o) =>
      o.metadata?.labels?.['app.kubernetes.io/instance'] === release &&
      o.metadata.labels['app.kubernetes.io/component'] === component,
  );
}

/** What resolveEndpointRows needs, from the listed objects; undefined without the StatefulSet. */
export function endpointsInput(
  namespace: string,
  statefulSets: V1StatefulSet[],
  pods: V1Pod[],
  services: V1Service[],
  nodes: NodeView[] | undefined,
): Omit<EndpointsInput, 'addressTypes'> | undefined {
  const set = statefulSets[0];
  if (!set?.metadata?.name) return undefined;
  return {
    namespace,
    workload: set.metadata.name,
    headless: set.spec?.serviceName ?? set.metadata.name,
    replicas: set.spec?.replicas ?? 0,
    ...(set.status?.updateRevision ? { updateRevision: set.status.updateRevision } : {}),
    pods: podViewsOf(pods, set),
    services: services.map(serviceView),
    nodes,
  };
}

/** What allocate and deallocate read: the endpoints' four lists, and the StatefulSet's say on safe-to-evict. */
export interface RoomObjects {
  input: Omit<EndpointsInput, 'addressTypes'>;
  /** The chart's value: write safe-to-evict "false" on allocated rooms. */
  markSafeToEvict: boolean;
  /** The pod template sets safe-to-evict itself: never written nor removed by us. */
  templateSetsSafeToEvict: boolean;
  /** spec.updateStrategy.type: under OnDelete a room freed on an older revision is replaced by deallocate. */
  updateStrategy: string;
  /** The chart's allocation.endOnRestart: a container restart after an allocation ends it. */
  endOnRestart: boolean;
}

/** What allocate needs, from the listed (or watched) objects; undefined without the StatefulSet. */
export function roomObjectsOf(
  namespace: string,
  statefulSets: V1StatefulSet[],
  pods: V1Pod[],
  services: V1Service[],
  nodes: NodeView[] | undefined,
): RoomObjects | undefined {
  const input = endpointsInput(namespace, statefulSets, pods, services, nodes);
  const set = statefulSets[0];
  if (!input || !set) return undefined;
  return {
    input,
    markSafeToEvict: set.metadata?.annotations?.[MARK_SAFE_TO_EVICT_ANNOTATION] !== 'false',
    templateSetsSafeToEvict: Boolean(set.spec?.template.metadata?.annotations?.[SAFE_TO_EVICT_ANNOTATION]),
    updateStrategy: set.spec?.updateStrategy?.type ?? 'RollingUpdate',
    endOnRestart: endOnRestartOf(set),
  };
}

/** What a wait on helm shows: the StatefulSet's pods and Redis's. */
export interface ProgressObjects {
  workload: string;
  replicas: number;
  pods: PodView[];
  /** undefined when the release has no Redis Deployment. */
  redisPods?: PodView[];
}

/** Progress from the release's StatefulSets, room pods, Redis Deployments and pods; undefined until the StatefulSet exists. */
export function progressObjectsOf(
  sets: readonly V1StatefulSet[],
  pods: readonly V1Pod[],
  redisDeployments: readonly V1Deployment[],
  redisPods: readonly V1Pod[],
): ProgressObjects | undefined {
  const set = sets[0];
  if (!set?.metadata?.name) return undefined;
  return {
    workload: set.metadata.name,
    replicas: set.spec?.replicas ?? 0,
    pods: podViewsOf(pods, set),
    redisPods: redisDeployments.length ? redisPods.map((p) => podView(p, false)) : undefined,
  };
}

/**
 * The release's objects as status reads them: the StatefulSet's view, the
 * room pods, per-pod Services and their endpoints, from one release's lists
 * or from its namespace's (status and list share it).
 */
export function releaseObjectsFrom(
  set: V1StatefulSet | undefined,
  pods: readonly V1Pod[],
  services: readonly V1Service[],
  slices: readonly V1EndpointSlice[],
  redis: RedisView | undefined,
  cluster: ReleaseObjects['cluster'],
): ReleaseObjects {
  return {
    statefulSet: set && statefulSetView(set),
    pods: podViewsOf(pods, set),
    services: services.map(serviceView),
    endpoints: slices.flatMap(endpointViews),
    redis,
    cluster,
    template: set?.spec?.template,
  };
}

/** Pods bound to each node, by name; pods not bound yet are not counted. */
export function podsPerNode(pods: readonly V1Pod[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of pods) {
    const n = p.spec?.nodeName;
    if (n) out.set(n, (out.get(n) ?? 0) + 1);
  }
  return out;
}

export function serviceCidrView(c: V1ServiceCIDR): ServiceCIDRView {
  return { name: c.metadata?.name ?? '', cidrs: c.spec?.cidrs ?? [] };
}

/**
 * The Services Helm made for this release: the chart's instance label is not
 * enough (a user's Service may share it); Helm's release annotations and its
 * managed-by label must all match.
 */
export function helmServicesOf(
  services: readonly V1Service[],
  release: string,
  namespace: string,
): ReleaseService[] {
  return services
    .filter(
      (s) =>
        s.metadata?.annotations?.['meta.helm.sh/release-name'] === release &&
        s.metadata.annotations['meta.helm.sh/release-namespace'] === namespace &&
        s.metadata.labels?.['app.kubernetes.io/managed-by'] === 'Helm',
    )
    .map((s) => ({ name: s.metadata?.name ?? '', uid: s.metadata?.uid ?? '' }));
}

/** An object's name, labels and annotations (none read as empty): what the ownership rules look at. */
export function labelledView(o: {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}): { name: string; labels: Record<string, string>; annotations: Record<string, string> } {
  return {
    name: o.metadata?.name ?? '',
    labels: o.metadata?.labels ?? {},
    annotations: o.metadata?.annotations ?? {},
  };
}
