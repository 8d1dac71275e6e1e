import { ordinalOf, type NodeView, type PodView, type ServiceView } from './model.js';
import { allocationOf, roomState, shownState, type Allocation, type RoomState } from './rooms.js';
import { isOutdated } from './rollout.js';

/** Agones' order: the first of these a node has is the address clients get. */
export const DEFAULT_ADDRESS_TYPES = ['ExternalDNS', 'ExternalIP', 'InternalDNS', 'InternalIP'] as const;
export const NODE_ADDRESS_TYPES = [
  'ExternalDNS',
  'ExternalIP',
  'InternalDNS',
  'InternalIP',
  'Hostname',
] as const;
const INTERNAL_TYPES = new Set(['InternalIP', 'InternalDNS', 'Hostname']);

export type EndpointStatus =
  | 'Ready'
  | 'NotReady'
  | 'Terminating'
  | 'Pending'
  | 'NoPod'
  | 'NoService'
  | 'NodeNotReady'
  | 'NoAddress'
  | 'LBPending';

/** One ordinal: where a client must connect to reach this pod right now. Part of the -o json schema. */
export interface Endpoint {
  ordinal: number;
  pod: string;
  /** True only when status is Ready: the address and port reach the pod now. */
  ready: boolean;
  status: EndpointStatus;
  node: string | null;
  podIP: string | null;
  /** A node address, or a LoadBalancer ingress IP or hostname; null when there is none. */
  address: string | null;
  /** ExternalIP, InternalIP, ... for a node; LoadBalancerIP or LoadBalancerHostname for a LoadBalancer. */
  addressType: string | null;
  /** The nodePort, or for a LoadBalancer the Service port. */
  port: number | null;
  protocol: string | null;
  service: string | null;
  serviceType: string | null;
  /** In-cluster DNS name through the headless Service. */
  dns: string;
  /**
   * Free, Allocated (handed to a match) or Draining (takes no new match: marked so, or
   * being removed by the StatefulSet); null without a pod (a Service beyond the replicas is no room).
   */
  state: RoomState | null;
  /** Marked to take no new match; an Allocated room keeps its match until deallocated. */
  draining: boolean;
  /** The allocation, when Allocated. */
  allocation: Allocation | null;
  /** The StatefulSet revision the pod was made from (its controller-revision-hash); null without a pod. */
  revision: string | null;
  /** The pod runs an older revision than the StatefulSet's update revision: the old build, until the rollout replaces it. */
  outdated: boolean;
}

export interface EndpointsInput {
  namespace: string;
  /** The StatefulSet's name, which prefixes pods and per-pod Services. */
  workload: string;
  /** The StatefulSet's spec.serviceName (the headless Service). */
  headless: string;
  /** spec.replicas of the StatefulSet. */
  replicas: number;
  /** status.updateRevision of the StatefulSet: pods on another revision are outdated. */
  updateRevision?: string;
  pods: PodView[];
  /** The release's per-pod Services. */
  services: ServiceView[];
  /** undefined when RBAC forbids listing nodes: addresses are then unknown, not an error. */
  nodes: NodeView[] | undefined;
  addressTypes: readonly string[];
}

export const UNKNOWN_ADDRESS = 'unknown (no permission to list nodes)';

/** Picks the node address by the preference order; undefined when it has none of those types. */
export function pickAddress(
  node: NodeView,
  types: readonly string[],
): { address: string; type: string } | undefined {
  for (const type of types) {
    const a = node.addresses.find((x) => x.type === type);
    if (a) return { address: a.address, type };
  }
  return undefined;
}

/** Every address of the node of a wanted type, in preference order: what --probe falls back to. */
export function candidateAddresses(
  node: NodeView,
  types: readonly string[],
): { address: string; type: string }[] {
  return types.flatMap((type) =>
    node.addresses.filter((a) => a.type === type).map((a) => ({ address: a.address, type })),
  );
}

/** Resolves one row per ordinal, 0 .. max(replicas, Services, pods) - 1: pure, so every case is table-tested. */
export function resolveEndpointRows(input: EndpointsInput): Endpoint[] {
  const pods = new Map<number, PodView>();
  for (const p of input.pods) {
    const n = ordinalOf(p.name, input.workload);
    if (n !== undefined) pods.set(n, p);
  }
  const services = new Map<number, ServiceView>();
  for (const s of input.services) {
    const n = ordinalOf(s.name, input.workload);
    if (n !== undefined && s.selectsPod) services.set(n, s);
  }
  const nodes = input.nodes && new Map(input.nodes.map((n) => [n.name, n]));
  const span = Math.max(input.replicas, ...[...pods.keys(), ...services.keys()].map((n) => n + 1));

  const rows: Endpoint[] = [];
  for (let n = 0; n < span; n++) {
    const pod = pods.get(n);
    const svc = services.get(n);
    const name = `${input.workload}-${n}`;
    const port = svc?.ports[0];
    const row: Endpoint = {
      ordinal: n,
      pod: name,
      ready: false,
      status: 'Pending',
      node: pod?.nodeName ?? null,
      podIP: pod?.podIP ?? null,
      address: null,
      addressType: null,
      port: null,
      protocol: port?.protocol ?? null,
      service: svc?.name ?? null,
      serviceType: svc?.type ?? null,
      dns: `${name}.${input.headless}.${input.namespace}.svc.cluster.local`,
      state: shownState(roomState(pod?.mark), pod !== undefined, n, input.replicas),
      draining: pod?.mark?.draining ?? false,
      allocation: allocationOf(pod?.mark, pod?.restarts),
      revision: pod?.revision ?? null,
      outdated: pod !== undefined && isOutdated(pod, input.updateRevision),
    };
    rows.push(row);

    if (svc?.type === 'LoadBalancer') {
      const ingress = svc.ingress[0];
      if (ingress) {
        row.address = ingress;
        row.addressType = /^[\d.]+$|:/.test(ingress) ? 'LoadBalancerIP' : 'LoadBalancerHostname';
        row.port = port?.port ?? null;
      }
    } else if (svc) {
      row.port = port?.nodePort ?? null;
      const node = pod?.nodeName ? nodes?.get(pod.nodeName) : undefined;
      if (!nodes && pod?.nodeName) {
        row.address = UNKNOWN_ADDRESS;
      } else if (node) {
        const picked = pickAddress(node, input.addressTypes);
        row.address = picked?.address ?? null;
        row.addressType = picked?.type ?? null;
      }
    }

    // The first condition that stops a client wins.
    if (!svc) row.status = pod ? 'NoService' : 'Pending';
    else if (!pod) row.status = n >= input.replicas ? 'NoPod' : 'Pending';
    else if (!pod.nodeName) row.status = 'Pending';
    // A lost node explains a pod stuck Terminating there better than "NotReady" does.
    else if (nodes && !nodes.get(pod.nodeName)?.ready) row.status = 'NodeNotReady';
    // Still answers while it serves (kube-proxy keeps a terminating endpoint when the
    // Service has no other), but it is going: no new client should get it.
    else if (pod.terminating) row.status = 'Terminating';
    else if (!pod.ready) row.status = 'NotReady';
    else if (svc.type === 'LoadBalancer' && !row.address) row.status = 'LBPending';
    else if (svc.type !== 'LoadBalancer' && nodes && !row.address) row.status = 'NoAddress';
    else row.status = 'Ready';
    row.ready = row.status === 'Ready';
  }
  return rows;
}

/** Ready rows whose only address is internal: clients outside the cluster usually cannot reach them. */
export function internalOnly(rows: Endpoint[]): Endpoint[] {
  return rows.filter((r) => r.ready && r.addressType !== null && INTERNAL_TYPES.has(r.addressType));
}

/** host:port, with brackets around an IPv6 address. */
export function hostPort(r: Endpoint): string | undefined {
  if (!r.ready || !r.address || r.port === null || r.address === UNKNOWN_ADDRESS) return undefined;
  return `${r.address.includes(':') ? `[${r.address}]` : r.address}:${r.port}`;
}

/** Parses --address-type: a comma-separated, ordered list of node address types. */
export function parseAddressTypes(value: string): string[] | string {
  const types = value
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const bad = types.filter((t) => !(NODE_ADDRESS_TYPES as readonly string[]).includes(t));
  if (!types.length || bad.length) {
    return `--address-type ${value}: use a comma-separated list of ${NODE_ADDRESS_TYPES.join(', ')}`;
  }
  return types;
}

/** The rows `--ordinal N` and `--ready-only` keep: one filter for the snapshot and the watch. */
export function selectRows<T extends Endpoint>(
  rows: readonly T[],
  pick: { ordinal?: number; readyOnly?: boolean },
): T[] {
  return rows.filter(
    (r) => (pick.ordinal === undefined || r.ordinal === pick.ordinal) && (!pick.readyOnly || r.ready),
  );
}
