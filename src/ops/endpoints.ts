import { DEFAULT_ADDRESS_TYPES, resolveEndpointRows, type Endpoint } from '../core/endpoints.js';
import { probeEndpoints, type ProbeOutcome } from '../core/probe.js';
import { DEFAULT_RELEASE } from '../core/release.js';
import { loadKube, type KubeFlags } from '../kube/config.js';
import { readEndpointObjects } from '../kube/endpoint-objects.js';
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
  const release = opts.release ?? DEFAULT_RELEASE;
  const kube = await loadKube(kubeFlagsOf(opts));
  const addressTypes = [...(opts.addressTypes ?? DEFAULT_ADDRESS_TYPES)];
  const objects = await readEndpointObjects(kube, kube.namespace, release);
  return {
    schemaVersion: 1,
    release,
    namespace: kube.namespace,
    addressTypes,
    nodesVisible: objects.nodes !== undefined,
    endpoints: resolveEndpointRows({ ...objects, addressTypes }),
  };
}

/** The rows with a probe of each endpoint that has an address, from this machine (--probe). */
export async function probeRows(
  rows: Endpoint[],
  timeoutMs: number,
): Promise<(Endpoint & { probe: ProbeOutcome })[]> {
  const outcomes = await probeEndpoints(rows, { tcp: tcpConnect, udp: udpProbe }, timeoutMs);
  return rows.map((r, i) => ({ ...r, probe: outcomes[i] ?? 'not probed (no address)' }));
}
