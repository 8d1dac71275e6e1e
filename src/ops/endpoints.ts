import {
  candidateAddresses,
  DEFAULT_ADDRESS_TYPES,
  resolveEndpointRows,
  type Endpoint,
} from '../core/endpoints.js';
import {
  anyNonPrimary,
  nodePortScope,
  outOfScopeAddresses,
  type NodePortScopeWarning,
} from '../core/nodeport-scope.js';
import { probeWithFallback, type AddressMove, type Candidate, type ProbedEndpoint } from '../core/probe.js';
import { DEFAULT_RELEASE } from '../core/release.js';
import { loadKube, type KubeFlags } from '../kube/config.js';
import { readEndpointObjects } from '../kube/endpoint-objects.js';
import { readKubeProxyConfig } from '../kube/kube-proxy.js';
import { tcpConnect } from '../net/tcp.js';
import { udpProbe } from '../net/udp.js';

/** Options of `endpoints`, and of the library's resolveEndpoints. */
export interface EndpointsOptions {
  /** Helm release name; default expose-pods. */
  release?: string;
  kubeconfig?: string;
  context?: string;
  /** Default: the context's namespace, then default. */
  namespace?: string;
  /** How long one API request may take, as a duration ("30s"); "0" waits forever. Default 30s. */
  requestTimeout?: string;
  /** Preferred node address types, in order; default ExternalDNS, ExternalIP, InternalDNS, InternalIP. */
  addressTypes?: readonly string[];
}

/** The -o json document of `endpoints` (schemaVersion 1). */
export interface EndpointsReport {
  schemaVersion: 1;
  release: string;
  namespace: string;
  /** The address preference used. */
  addressTypes: string[];
  /** False when RBAC forbids listing nodes; node addresses are then unknown. */
  nodesVisible: boolean;
  endpoints: Endpoint[];
}

/** The cluster-access part of the options, as loadKube takes it. */
export function kubeFlagsOf(opts: EndpointsOptions): KubeFlags {
  const { kubeconfig, context, namespace, requestTimeout } = opts;
  return { kubeconfig, context, namespace, requestTimeout };
}

/** Which node address and port reaches each pod of the release right now. */
export async function releaseEndpoints(opts: EndpointsOptions = {}): Promise<EndpointsReport> {
  return (await readEndpoints(opts)).report;
}

/**
 * The report, and for each node-addressed row (by ordinal) every address of
 * its node of a wanted type: what --probe tries when the picked one does not answer.
 * With `checkNodePortScope`, also the addresses kube-proxy may refuse, read
 * from its published configuration (one more request, and only when a row
 * shows an address that is not its node's primary one).
 */
export async function readEndpoints(opts: EndpointsOptions & { checkNodePortScope?: boolean } = {}): Promise<{
  report: EndpointsReport;
  alternatives: Map<number, Candidate[]>;
  scopeWarning?: NodePortScopeWarning;
}> {
  const release = opts.release ?? DEFAULT_RELEASE;
  const kube = await loadKube(kubeFlagsOf(opts));
  const addressTypes = [...(opts.addressTypes ?? DEFAULT_ADDRESS_TYPES)];
  const objects = await readEndpointObjects(kube, kube.namespace, release);
  const endpoints = resolveEndpointRows({ ...objects, addressTypes });
  const nodes = new Map((objects.nodes ?? []).map((n) => [n.name, n]));
  const alternatives = new Map<number, Candidate[]>();
  for (const r of endpoints) {
    const node = r.node ? nodes.get(r.node) : undefined;
    if (node && r.serviceType !== 'LoadBalancer')
      alternatives.set(r.ordinal, candidateAddresses(node, addressTypes));
  }
  let scopeWarning: NodePortScopeWarning | undefined;
  if (opts.checkNodePortScope && anyNonPrimary(endpoints, nodes)) {
    const kubeProxy = await readKubeProxyConfig(kube);
    const addresses = kubeProxy ? outOfScopeAddresses(endpoints, nodes, nodePortScope(kubeProxy)) : [];
    if (kubeProxy && addresses.length) scopeWarning = { kubeProxy, addresses };
  }
  return {
    report: {
      schemaVersion: 1,
      release,
      namespace: kube.namespace,
      addressTypes,
      nodesVisible: objects.nodes !== undefined,
      endpoints,
    },
    alternatives,
    scopeWarning,
  };
}

/**
 * The rows with a probe of each endpoint that has an address, from this
 * machine (--probe); a Ready row whose address does not answer moves to
 * another address of its node that does.
 */
export function probeRows(
  rows: Endpoint[],
  timeoutMs: number,
  alternatives: ReadonlyMap<number, Candidate[]> = new Map(),
): Promise<{ rows: ProbedEndpoint[]; moves: AddressMove[] }> {
  return probeWithFallback(rows, { tcp: tcpConnect, udp: udpProbe }, timeoutMs, alternatives);
}
