import type {
  V1EndpointSlice,
  V1Node,
  V1PersistentVolumeClaim,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';

import type { EndpointView, NodeView, PodView, PvcView, ServiceView } from '../core/model.js';
import { parseQuantity } from '../core/quantity.js';
import { roomMark } from '../core/rooms.js';

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
