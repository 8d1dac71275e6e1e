import { BlockList, isIP } from 'node:net';

import { parse } from 'yaml';

import type { Endpoint } from './endpoints.js';
import type { NodeView } from './model.js';

/**
 * Where kube-proxy accepts NodePort traffic on a node, from its published
 * configuration (kubeadm's kube-system/kube-proxy ConfigMap, EKS's
 * kube-proxy-config):
 * - `all`: every local address (iptables and ipvs modes, nodePortAddresses unset);
 * - `primary`: only the node's primary address of each family: its first
 *   InternalIP, else its first ExternalIP (nftables mode unset, or "primary");
 * - `cidrs`: the local addresses inside these CIDRs.
 */
export type NodePortScope = { kind: 'all' } | { kind: 'primary' } | { kind: 'cidrs'; cidrs: string[] };

/** kube-proxy's configuration as far as NodePorts go, and where it was read. */
export interface KubeProxyView {
  /** namespace/name of the ConfigMap. */
  source: string;
  /** iptables, ipvs, nftables; kube-proxy's default (iptables on Linux) when unset. */
  mode: string;
  nodePortAddresses: string[];
}

/** A KubeProxyConfiguration document; undefined when the text is not one. */
export function parseKubeProxyConfig(source: string, text: string): KubeProxyView | undefined {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return undefined;
  }
  if (!doc || typeof doc !== 'object') return undefined;
  const c = doc as { kind?: unknown; mode?: unknown; nodePortAddresses?: unknown };
  if (c.kind !== 'KubeProxyConfiguration') return undefined;
  const addresses = Array.isArray(c.nodePortAddresses)
    ? c.nodePortAddresses.filter((a): a is string => typeof a === 'string' && a !== '')
    : [];
  return {
    source,
    mode: typeof c.mode === 'string' && c.mode ? c.mode : 'iptables',
    nodePortAddresses: addresses,
  };
}

export function nodePortScope(cfg: KubeProxyView): NodePortScope {
  const a = cfg.nodePortAddresses;
  if (a.includes('primary')) return { kind: 'primary' };
  if (a.length) return { kind: 'cidrs', cidrs: a };
  return cfg.mode === 'nftables' ? { kind: 'primary' } : { kind: 'all' };
}

/** The node's primary address of each family, as kube-proxy finds it: InternalIPs first, then ExternalIPs. */
export function primaryAddresses(node: NodeView): string[] {
  const ordered = [
    ...node.addresses.filter((a) => a.type === 'InternalIP'),
    ...node.addresses.filter((a) => a.type === 'ExternalIP'),
  ].map((a) => a.address);
  const v4 = ordered.find((a) => isIP(a) === 4);
  const v6 = ordered.find((a) => isIP(a) === 6);
  return [v4, v6].filter((a): a is string => a !== undefined);
}

function inScope(scope: NodePortScope, node: NodeView, address: string): boolean {
  if (scope.kind === 'all') return true;
  if (scope.kind === 'primary') return primaryAddresses(node).includes(address);
  const list = new BlockList();
  for (const cidr of scope.cidrs) {
    const [net = '', bits] = cidr.split('/');
    const family = isIP(net);
    if (family && bits !== undefined) list.addSubnet(net, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
  }
  return list.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
}

/** A node address shown in some rows that kube-proxy does not accept NodePorts on, by itself. */
export interface OutOfScopeAddress {
  node: string;
  address: string;
  addressType: string;
  /** The node's primary addresses, where kube-proxy does accept them (empty for a CIDR scope miss). */
  primary: string[];
  /** The rows that show it. */
  pods: string[];
}

/**
 * The node IP addresses in `rows` that kube-proxy, configured this way, does
 * not accept NodePorts on. Such an address still works where the network
 * translates it to one that is accepted (a cloud's NAT of an ExternalIP), so
 * this is a warning, never a verdict. DNS names and LoadBalancer rows are not
 * judged.
 */
export function outOfScopeAddresses(
  rows: readonly Endpoint[],
  nodes: ReadonlyMap<string, NodeView>,
  scope: NodePortScope,
): OutOfScopeAddress[] {
  if (scope.kind === 'all') return [];
  const found = new Map<string, OutOfScopeAddress>();
  for (const r of rows) {
    if (r.serviceType === 'LoadBalancer' || !r.address || !r.addressType || !isIP(r.address)) continue;
    const node = r.node ? nodes.get(r.node) : undefined;
    if (!node || inScope(scope, node, r.address)) continue;
    const key = `${node.name} ${r.address}`;
    const seen = found.get(key);
    if (seen) seen.pods.push(r.pod);
    else
      found.set(key, {
        node: node.name,
        address: r.address,
        addressType: r.addressType,
        primary: scope.kind === 'primary' ? primaryAddresses(node) : [],
        pods: [r.pod],
      });
  }
  return [...found.values()];
}

/** Node addresses shown that kube-proxy's published configuration does not accept NodePorts on. */
export interface NodePortScopeWarning {
  kubeProxy: KubeProxyView;
  addresses: OutOfScopeAddress[];
}

/** Whether rows can show an address kube-proxy may refuse: only then is its configuration worth a request. */
export function anyNonPrimary(rows: readonly Endpoint[], nodes: ReadonlyMap<string, NodeView>): boolean {
  return rows.some((r) => {
    const node = r.node ? nodes.get(r.node) : undefined;
    return (
      r.serviceType !== 'LoadBalancer' &&
      !!node &&
      !!r.address &&
      isIP(r.address) !== 0 &&
      !primaryAddresses(node).includes(r.address)
    );
  });
}
