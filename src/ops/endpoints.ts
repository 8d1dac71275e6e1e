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
import { durationMs } from '../core/duration.js';
import { pollUntil } from '../core/poll.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import type { NodeView } from '../core/model.js';
import { loadKube, type KubeFlags, type ResolvedKube } from '../kube/config.js';
import { readEndpointObjects } from '../kube/reader.js';
import { readKubeProxyConfig } from '../kube/reader.js';
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
  const scopeWarning = opts.checkNodePortScope
    ? await nodePortScopeWarning(kube, endpoints, nodes)
    : undefined;
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
 * The addresses shown that kube-proxy's published configuration does not
 * accept NodePorts on; one request, made only when a row shows an address
 * that is not its node's primary one. Undefined when there are none.
 */
export async function nodePortScopeWarning(
  kube: ResolvedKube,
  rows: Endpoint[],
  nodes: ReadonlyMap<string, NodeView>,
): Promise<NodePortScopeWarning | undefined> {
  if (!anyNonPrimary(rows, nodes)) return undefined;
  const kubeProxy = await readKubeProxyConfig(kube);
  const addresses = kubeProxy ? outOfScopeAddresses(rows, nodes, nodePortScope(kubeProxy)) : [];
  return kubeProxy && addresses.length ? { kubeProxy, addresses } : undefined;
}

/**
 * The rows with a probe of each endpoint that has an address, from this
 * machine (--probe); a serving row (Ready or Terminating) whose address does not answer moves to
 * another address of its node that does.
 */
export function probeRows(
  rows: Endpoint[],
  timeoutMs: number,
  alternatives: ReadonlyMap<number, Candidate[]> = new Map(),
): Promise<{ rows: ProbedEndpoint[]; moves: AddressMove[] }> {
  return probeWithFallback(rows, { tcp: tcpConnect, udp: udpProbe }, timeoutMs, alternatives);
}

/** Verdicts that say the room's rules are in place, as far as a probe from here can know. */
const ANSWERING = new Set(['reachable', 'open|filtered']);

/** How `--wait-reachable` ended: the Ready rooms, and those that did not answer in time with their last verdict. */
export interface ReachableWait {
  total: number;
  silent: ProbedEndpoint[];
}

/**
 * Probes every Ready room from here until each answers (`reachable`; for UDP,
 * `open|filtered`: a server may ignore the probe, and a missing rule would have
 * been refused), re-reading the endpoints each round, since a room can move.
 * kube-proxy programs a room's rules after its pod is Ready, so `install` and
 * `scale` can return a moment before the room answers. An `intercepted`
 * address cannot be verified from here: that is an error at once.
 */
export async function waitReachable(
  opts: EndpointsOptions,
  timeoutMs: number,
  onProgress: (answering: number, total: number) => void = () => undefined,
): Promise<ReachableWait> {
  const answered = new Set<string>();
  const key = (r: Endpoint) => `${r.pod}@${r.node ?? ''}:${r.port ?? ''}`;
  let last: ReachableWait = { total: 0, silent: [] };
  const settled = await pollUntil(
    async () => {
      const { report, alternatives } = await readEndpoints(opts);
      const ready = report.endpoints.filter((r) => r.ready);
      const { rows } = await probeRows(
        ready.filter((r) => !answered.has(key(r))),
        1000,
        alternatives,
      );
      const intercepted = rows.filter((r) => r.probe === 'intercepted');
      if (intercepted.length) {
        throw new ExposePodsError(
          `cannot wait for the rooms to answer from here: something on the network path accepts every connection to ${[...new Set(intercepted.map((r) => r.address))].join(', ')} (a transparent proxy)`,
          ExitCode.ERROR,
          'Run it from a machine on the nodes’ network, or drop --wait-reachable.',
        );
      }
      for (const r of rows) if (ANSWERING.has(r.probe)) answered.add(key(r));
      const silent = rows.filter((r) => !ANSWERING.has(r.probe));
      onProgress(ready.length - silent.length, ready.length);
      last = { total: ready.length, silent };
      return silent.length ? undefined : last;
    },
    { timeoutMs, intervalMs: 250 },
  );
  return settled ?? last;
}

/**
 * `--wait-reachable`: waitReachable, and a TIMEOUT error naming the rooms that
 * did not answer (at most ten, with their last verdict). Returns how many answered.
 */
export async function requireReachable(
  opts: EndpointsOptions,
  timeout: string,
  onProgress?: (answering: number, total: number) => void,
): Promise<number> {
  const timeoutMs = durationMs(timeout) ?? 0;
  const { total, silent } = await waitReachable(opts, timeoutMs, onProgress);
  if (!silent.length) return total;
  const named = silent
    .slice(0, 10)
    .map((r) => `${r.pod} (${r.probe} at ${r.address ?? '-'}:${r.port ?? '-'})`)
    .join(', ');
  const more = silent.length > 10 ? `, and ${silent.length - 10} more` : '';
  throw new ExposePodsError(
    `${silent.length} of ${total} rooms did not answer from here within ${timeout}: ${named}${more}`,
    ExitCode.TIMEOUT,
    `The pods are Ready; see what answers where with: kubectl expose-pods endpoints ${opts.release ?? DEFAULT_RELEASE}${opts.namespace ? ` -n ${opts.namespace}` : ''} --probe`,
  );
}
