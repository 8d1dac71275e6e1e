/**
 * Projections: the API's objects into the plain views core reasons about
 * (core/model.ts), and into the inputs a command needs. Pure, no requests:
 * each is tested from tables of objects (test/unit), never through nock.
 */
import type {
  V1Deployment,
  V1EndpointSlice,
  V1Node,
  V1PersistentVolumeClaim,
  V1Pod,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { EndpointsInput } from '../core/endpoints.js';
import type { EndpointView, NodeView, PodView, PvcView, RedisView, ServiceView } from '../core/model.js';
import { parseQuantity } from '../core/quantity.js';
import { MARK_SAFE_TO_EVICT_ANNOTATION, roomMark, SAFE_TO_EVICT_ANNOTATION } from '../core/rooms.js';
import { type ReleaseObjects } from './reader.js';

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

export function podView(p: V1Pod): PodView {
  const readyCondition = p.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
  const ready = readyCondition !== undefined;
  const created = p.metadata?.creationTimestamp;
  const readyAt = readyCondition?.lastTransitionTime;
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
    restarts: (p.status?.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0),
    mark: roomMark(p.metadata?.labels, p.metadata?.annotations),
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
  return {
    name: n.metadata?.name ?? '',
    ready: n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    unschedulable: n.spec?.unschedulable ?? false,
    ...(allocatablePods !== undefined ? { allocatablePods } : {}),
    addresses: (n.status?.addresses ?? []).map((a) => ({ type: a.type, address: a.address })),
    labels: n.metadata?.labels ?? {},
    taints: (n.spec?.taints ?? []).map((t) => ({
      key: t.key,
      ...(t.value ? { value: t.value } : {}),
      effect: t.effect,
    })),
  };
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
export function statefulSetSummary(sts: V1StatefulSet): NonNullable<ReleaseObjects['statefulSet']> {
  return {
    name: sts.metadata?.name ?? '',
    replicas: sts.spec?.replicas ?? 0,
    readyReplicas: sts.status?.readyReplicas ?? 0,
    currentReplicas: sts.status?.currentReplicas ?? sts.status?.replicas ?? 0,
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
    podReady: pods.some((p) => podView(p).ready),
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
    pods: pods.map(podView),
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
    pods: pods.map(podView),
    redisPods: redisDeployments.length ? redisPods.map(podView) : undefined,
  };
}
