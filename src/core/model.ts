import type { RoomMark } from './rooms.js';

/**
 * Plain views of the cluster objects the commands reason about. src/kube maps
 * client-node objects into these; src/core never sees client-node types.
 */

export interface PodView {
  name: string;
  phase: string;
  ready: boolean;
  nodeName?: string;
  podIP?: string;
  /** metadata.deletionTimestamp is set. */
  terminating: boolean;
  /** Why it is not ready, when a container or condition says: ImagePullBackOff, Unschedulable, ... */
  reason?: string;
  /** A Ready pod: seconds from its creation to its Ready condition (how long one pod takes to start). */
  readySeconds?: number;
  uid?: string;
  /** metadata.resourceVersion: the precondition of a write that must not cross another. */
  resourceVersion?: string;
  /** Container restarts, summed over its containers. */
  restarts?: number;
  /** Its room's allocation and drain marks (core/rooms.ts). */
  mark?: RoomMark;
  /** spec.tolerations, with what admission added (DefaultTolerationSeconds). */
  tolerations?: TolerationView[];
  /** The controller-revision-hash label: the StatefulSet revision it was made from. */
  revision?: string;
}

/** A toleration, as a pod or a pod template states it. */
export interface TolerationView {
  key?: string;
  operator?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** A StatefulSet, as the commands reason about it. */
export interface StatefulSetView {
  name: string;
  /** spec.replicas: what is asked. */
  replicas: number;
  readyReplicas: number;
  /** Pods at the current revision (status.currentReplicas, else status.replicas). */
  currentReplicas: number;
  /** spec.serviceName: the headless Service that gives each pod its DNS name. */
  serviceName?: string;
  /** status.updateRevision: the revision new pods are made from. */
  updateRevision?: string;
  /** The controller has seen the newest spec (status.observedGeneration >= metadata.generation): its status speaks of it. */
  observed?: boolean;
  /** spec.updateStrategy.type: OnDelete or RollingUpdate. */
  updateStrategy?: string;
  /** spec.podManagementPolicy: OrderedReady or Parallel. */
  podManagementPolicy?: string;
  /** The pod template's tolerations. */
  templateTolerations?: TolerationView[];
  /** The names of its volumeClaimTemplates: its claims are <template>-<name>-<ordinal>. */
  claimTemplates: string[];
}

export interface ServicePortView {
  port: number;
  nodePort?: number;
  protocol: string;
}

export interface ServiceView {
  name: string;
  namespace: string;
  type: string;
  /** The pod it selects through statefulset.kubernetes.io/pod-name, if any. */
  selectsPod?: string;
  ports: ServicePortView[];
  /** LoadBalancer ingress IPs or hostnames. */
  ingress: string[];
  /** app.kubernetes.io/instance label. */
  release?: string;
  /** spec.externalTrafficPolicy (NodePort and LoadBalancer only). */
  externalTrafficPolicy?: string;
  /** spec.healthCheckNodePort: where kube-proxy answers a LoadBalancer's health check (Local only). */
  healthCheckNodePort?: number;
  /** spec.clusterIPs without "None": the addresses it takes from the Service CIDRs. */
  clusterIPs?: string[];
}

export interface EndpointView {
  /** kubernetes.io/service-name of the slice. */
  service: string;
  addresses: string[];
  ready: boolean;
  nodeName?: string;
}

export interface NodeAddress {
  type: string;
  address: string;
}

export interface NodeView {
  name: string;
  ready: boolean;
  /** spec.unschedulable (kubectl cordon). */
  unschedulable?: boolean;
  /** status.allocatable.pods, when the node reports it. */
  allocatablePods?: number;
  addresses: NodeAddress[];
  /** metadata.labels and spec.taints: where rooms may be scheduled (core/placement.ts). */
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  /** The Ready condition: True, False or Unknown (the node stopped reporting), and since when (ms since the epoch). */
  readyCondition?: { status: 'True' | 'False' | 'Unknown'; since?: number };
}

export interface PvcView {
  name: string;
  phase: string;
}

/** The release's Redis, as found from its Deployment. */
export interface RedisView {
  podReady: boolean;
  pvc?: PvcView;
  /** The Deployment mounts a claim (persistence on). */
  pvcExpected: boolean;
  secretPresent: boolean;
  secretName: string;
}

/** The ordinal of a StatefulSet pod or per-pod Service named <base>-<n>, or undefined. */
export function ordinalOf(name: string, base: string): number | undefined {
  if (!name.startsWith(`${base}-`)) return undefined;
  const rest = name.slice(base.length + 1);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

/** Named objects (pods, Services) by the ordinal their name carries after `${base}-`; others are left out. */
export function byOrdinal<T extends { name: string }>(items: readonly T[], base: string): Map<number, T> {
  const out = new Map<number, T>();
  for (const item of items) {
    const n = ordinalOf(item.name, base);
    if (n !== undefined) out.set(n, item);
  }
  return out;
}
