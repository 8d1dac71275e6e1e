/**
 * The cluster-wide ceilings every release of the per-pod pattern shares, and
 * what a change does to them: NodePorts (one range for the whole cluster),
 * ClusterIPs (the Service CIDRs) and pod slots (on the nodes the rooms may
 * use). Pure: kube/ reads the objects, `status` and the change plans show the
 * figures, and release-change.ts refuses a change that does not fit.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

import type { NodeView, ServiceView } from './model.js';
import { placementProblem, type Placement } from './placement.js';

/** The share of any budget at which `status` and the plans warn. */
export const BUDGET_WARN_PERCENT = 80;

/** How full one budget is. */
export interface Usage {
  total: number;
  used: number;
  free: number;
  usedPercent: number;
}

export function usage(used: number, total: number): Usage {
  const u = Math.max(0, used);
  return {
    total,
    used: u,
    free: Math.max(0, total - u),
    usedPercent: total ? Math.round((u / total) * 100) : 100,
  };
}

/** The default --service-node-port-range; the API server's own flag cannot be read from outside. */
export const DEFAULT_NODE_PORT_RANGE = { first: 30000, last: 32767 } as const;

/** How full the cluster-wide NodePort range is: every Service of every release and owner counts. */
export interface NodePortBudget extends Usage {
  range: { first: number; last: number };
  /** The largest run of consecutive free ports: where the biggest fixed block still fits. */
  largestFreeBlock: { first: number; size: number } | null;
}

/** The nodePorts a Service takes from the range: one per port, and a LoadBalancer's health-check port. */
export function nodePortsOf(s: ServiceView): number[] {
  const out = s.ports.map((p) => p.nodePort).filter((p): p is number => typeof p === 'number' && p > 0);
  if (s.healthCheckNodePort) out.push(s.healthCheckNodePort);
  return out;
}

/**
 * Which Service holds each nodePort, leaving out those `ours` says belong to
 * the release being checked (it may re-apply its own): the one collision rule
 * of `status` and of the change path's pre-flight.
 */
export function nodePortHolders(
  services: readonly ServiceView[],
  ours: (s: ServiceView) => boolean,
): Map<number, ServiceView> {
  const holders = new Map<number, ServiceView>();
  for (const s of services) {
    if (ours(s)) continue;
    // A health-check nodePort (LoadBalancer with Local) is taken from the same range: it collides too.
    for (const p of nodePortsOf(s)) holders.set(p, s);
  }
  return holders;
}

export function nodePortBudget(
  services: readonly ServiceView[],
  range: { first: number; last: number } = DEFAULT_NODE_PORT_RANGE,
): NodePortBudget {
  const taken = new Set<number>();
  for (const s of services) for (const p of nodePortsOf(s)) taken.add(p);
  const used = [...taken].filter((p) => p >= range.first && p <= range.last).length;
  let best: { first: number; size: number } | null = null;
  let start = range.first;
  for (let p = range.first; p <= range.last + 1; p++) {
    if (p <= range.last && !taken.has(p)) continue;
    const size = p - start;
    if (size > 0 && (!best || size > best.size)) best = { first: start, size };
    start = p + 1;
  }
  return { range, ...usage(used, range.last - range.first + 1), largestFreeBlock: best };
}

/** A ServiceCIDR object (networking.k8s.io/v1, Kubernetes 1.33+): the ranges ClusterIPs come from. */
export interface ServiceCIDRView {
  name: string;
  cidrs: string[];
}

/** One Service CIDR: its size (without the addresses the allocator never hands out) and the IPs allocated in it. */
export interface CidrUsage extends Usage {
  cidr: string;
  family: 'IPv4' | 'IPv6';
}

/**
 * ClusterIPs left, from the ServiceCIDR and IPAddress objects. The headline is
 * the family with the fewest free: every Service takes one there (a dual-stack
 * Service takes one of each). `unknown` says why it cannot be known.
 */
export type ClusterIPBudget = (Usage & { family: 'IPv4' | 'IPv6'; cidrs: CidrUsage[] }) | { unknown: string };

/** Addresses of a prefix the allocator can hand out: IPv4 keeps the network and broadcast addresses, IPv6 the first. */
function cidrSize(family: 'IPv4' | 'IPv6', prefix: number): number {
  const bits = (family === 'IPv4' ? 32 : 128) - prefix;
  return Math.max(0, 2 ** bits - (family === 'IPv4' ? 2 : 1));
}

function parseCidr(cidr: string): { address: string; prefix: number; family: 'IPv4' | 'IPv6' } | undefined {
  const [address = '', p = ''] = cidr.split('/');
  // Number('') is 0: an address without a prefix is not the whole address space.
  const prefix = p === '' ? NaN : Number(p);
  const family = isIPv4(address) ? 'IPv4' : isIPv6(address) ? 'IPv6' : undefined;
  if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 'IPv4' ? 32 : 128))
    return undefined;
  return { address, prefix, family };
}

/** `addresses`: the names of the IPAddress objects, each an allocated IP. */
export function clusterIPBudget(
  cidrs: readonly ServiceCIDRView[],
  addresses: readonly string[],
): ClusterIPBudget {
  const ranges: CidrUsage[] = [];
  for (const c of cidrs) {
    for (const text of c.cidrs) {
      const parsed = parseCidr(text);
      if (!parsed) continue;
      const list = new BlockList();
      const type = parsed.family === 'IPv4' ? 'ipv4' : 'ipv6';
      list.addSubnet(parsed.address, parsed.prefix, type);
      const used = addresses.filter(
        (a) => (isIPv4(a) ? 'ipv4' : 'ipv6') === type && list.check(a, type),
      ).length;
      ranges.push({
        cidr: text,
        family: parsed.family,
        ...usage(used, cidrSize(parsed.family, parsed.prefix)),
      });
    }
  }
  if (!ranges.length) return { unknown: 'the cluster lists no ServiceCIDR' };
  const families = (['IPv4', 'IPv6'] as const)
    .map((family) => {
      const of = ranges.filter((r) => r.family === family);
      const total = of.reduce((s, r) => s + r.total, 0);
      const used = of.reduce((s, r) => s + r.used, 0);
      return { family, cidrs: of, ...usage(used, total) };
    })
    .filter((f) => f.cidrs.length);
  families.sort((a, b) => a.free - b.free);
  return families[0] ?? { unknown: 'the cluster lists no ServiceCIDR' };
}

/** Pod slots on the nodes the rooms may use: allocatable pods minus the pods bound there. */
export interface PodSlotBudget extends Usage {
  /** Nodes counted: Ready, schedulable, and matching the rooms' placement. */
  nodes: number;
  /** Of those, nodes that report no allocatable pods: the free count is then a floor, not a fact. */
  unreported: number;
  /** Nodes left out, counted by why ("tainted dedicated=db:NoSchedule": 2). */
  excluded: { reason: string; nodes: number }[];
}

/** " (left out: 1 cordoned; 2 tainted dedicated=db:NoSchedule)", or nothing: the nodes a slot count skipped, and why. */
export function leftOutPhrase(p: PodSlotBudget): string {
  return p.excluded.length
    ? ` (left out: ${p.excluded.map((e) => `${e.nodes} ${e.reason}`).join('; ')})`
    : '';
}

export function podSlotBudget(
  nodes: readonly NodeView[],
  boundPerNode: ReadonlyMap<string, number>,
  placement: Placement = {},
): PodSlotBudget {
  let total = 0;
  let used = 0;
  let counted = 0;
  let unreported = 0;
  const excluded = new Map<string, number>();
  for (const n of nodes) {
    const why = !n.ready ? 'not Ready' : n.unschedulable ? 'cordoned' : placementProblem(n, placement);
    if (why) {
      excluded.set(why, (excluded.get(why) ?? 0) + 1);
      continue;
    }
    counted++;
    if (n.allocatablePods === undefined) {
      unreported++;
      continue;
    }
    total += n.allocatablePods;
    used += Math.min(n.allocatablePods, boundPerNode.get(n.name) ?? 0);
  }
  return {
    ...usage(used, total),
    nodes: counted,
    unreported,
    excluded: [...excluded].map(([reason, count]) => ({ reason, nodes: count })),
  };
}

/** The cluster's budgets now; a part is undefined when RBAC hides what it needs. */
export interface ClusterBudget {
  nodePorts?: NodePortBudget;
  clusterIPs: ClusterIPBudget;
  podSlots?: PodSlotBudget;
}

/** The budgets from what kube/reader.ts read (readBudgetObjects), for rooms with this placement. */
export function clusterBudget(
  o: {
    nodes: readonly NodeView[];
    allServices?: readonly ServiceView[];
    boundPerNode?: ReadonlyMap<string, number>;
    serviceIPs: { cidrs: readonly ServiceCIDRView[]; addresses: readonly string[] } | { unknown: string };
  },
  placement: Placement = {},
): ClusterBudget {
  return {
    ...(o.allServices && { nodePorts: nodePortBudget(o.allServices) }),
    clusterIPs:
      'unknown' in o.serviceIPs ? o.serviceIPs : clusterIPBudget(o.serviceIPs.cidrs, o.serviceIPs.addresses),
    ...(o.boundPerNode && { podSlots: podSlotBudget(o.nodes, o.boundPerNode, placement) }),
  };
}

/** What a change adds to (or, negative, frees from) each budget. */
export interface BudgetDelta {
  nodePorts: number;
  clusterIPs: number;
  podSlots: number;
}

/** Each budget now and after a change, for the plans. */
export interface BudgetChange {
  delta: BudgetDelta;
  nodePorts?: { now: NodePortBudget; after: Usage };
  clusterIPs: { now: Usage & { family: string; cidrs: CidrUsage[] }; after: Usage } | { unknown: string };
  podSlots?: { now: PodSlotBudget; after: Usage };
}

export function budgetChange(now: ClusterBudget, delta: BudgetDelta): BudgetChange {
  const after = (u: Usage, d: number) => usage(u.used + d, u.total);
  return {
    delta,
    ...(now.nodePorts && { nodePorts: { now: now.nodePorts, after: after(now.nodePorts, delta.nodePorts) } }),
    clusterIPs:
      'unknown' in now.clusterIPs
        ? now.clusterIPs
        : { now: now.clusterIPs, after: after(now.clusterIPs, delta.clusterIPs) },
    ...(now.podSlots && { podSlots: { now: now.podSlots, after: after(now.podSlots, delta.podSlots) } }),
  };
}
