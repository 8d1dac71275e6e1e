import type { Endpoint } from './endpoints.js';
import { UNKNOWN_ADDRESS } from './endpoints.js';

/** What a TCP connect from here found; anything else is an error code such as EHOSTUNREACH. */
export type ConnectOutcome = 'reachable' | 'refused' | 'timeout' | `error ${string}`;
/**
 * What one probe datagram found: a reply (reachable), an ICMP port-unreachable
 * (refused), or silence, which is open|filtered as nmap says it: a UDP server
 * may simply not answer a datagram it does not understand, and a firewall may
 * drop it.
 */
export type DatagramOutcome = 'reachable' | 'refused' | 'open|filtered' | `error ${string}`;
export type ProbeOutcome = ConnectOutcome | DatagramOutcome | 'intercepted' | 'not probed (no address)';

/** Opens a TCP connection and reports how it went; never throws. */
export type Connect = (host: string, port: number, timeoutMs: number) => Promise<ConnectOutcome>;
/** Sends one probe datagram and reports what came back; never throws. */
export type SendDatagram = (host: string, port: number, timeoutMs: number) => Promise<DatagramOutcome>;

export interface Probers {
  tcp: Connect;
  udp: SendDatagram;
}

/**
 * The control port: TCP port 1 (tcpmux) is served by practically nothing, so
 * a connection to it that succeeds was accepted by something on the path (a
 * transparent proxy), not by the node. Every TCP verdict for that address is
 * then `intercepted`: from here, reachable cannot be told from unreachable.
 */
export const CONTROL_PORT = 1;

/** What the UDP probe sends; a room server can answer it to be reported reachable. */
export const PROBE_DATAGRAM = 'kubectl-expose-pods probe\n';

const MAX_PARALLEL = 32;

/**
 * Probes every endpoint that has an address and a port, from where the plugin
 * runs, as a client there would meet it: TCP with one connection, UDP with one
 * datagram. Rows that are not Ready are probed too: what a client gets there
 * (refused, timeout) is part of the answer. Each address probed over TCP gets
 * one control connection to CONTROL_PORT alongside.
 * Returns one outcome per row, in row order.
 */
export async function probeEndpoints(
  rows: Endpoint[],
  probers: Probers,
  timeoutMs: number,
): Promise<ProbeOutcome[]> {
  const out: ProbeOutcome[] = rows.map(() => 'not probed (no address)');
  const jobs: (() => Promise<void>)[] = [];
  const control = new Map<string, ConnectOutcome>();
  rows.forEach((r, i) => {
    if (!r.address || r.address === UNKNOWN_ADDRESS || r.port === null) return;
    const host = r.address;
    const port = r.port;
    if (r.protocol === 'UDP') {
      jobs.push(async () => {
        out[i] = await probers.udp(host, port, timeoutMs);
      });
      return;
    }
    jobs.push(async () => {
      out[i] = await probers.tcp(host, port, timeoutMs);
    });
    if (!control.has(host)) {
      control.set(host, 'timeout');
      jobs.push(async () => {
        control.set(host, await probers.tcp(host, CONTROL_PORT, timeoutMs));
      });
    }
  });
  await pool(jobs, MAX_PARALLEL);
  return out.map((o, i) => {
    const r = rows[i];
    return r && r.protocol !== 'UDP' && r.address && control.get(r.address) === 'reachable'
      ? 'intercepted'
      : o;
  });
}

/** Runs the jobs, at most `width` at a time. */
async function pool(jobs: (() => Promise<void>)[], width: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]?.();
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
}

/** Another address of the same node, of a wanted type, to try when the picked one does not answer. */
export interface Candidate {
  address: string;
  type: string;
}

/** A Ready row whose picked address did not answer, moved to one of its node's addresses that did. */
export interface AddressMove {
  pod: string;
  from: Candidate & { probe: ProbeOutcome };
  to: Candidate;
}

export type ProbedEndpoint = Endpoint & { probe: ProbeOutcome };

/**
 * Rows whose pod kube-proxy still sends traffic to: Ready ones, and Terminating
 * ones (a draining pod stays a serving endpoint until it exits, when the
 * Service has no other).
 */
const serving = (r: Endpoint) => r.ready || r.status === 'Terminating';

/**
 * Probes the rows; then, for each serving row (Ready or Terminating) whose address did not answer, tries
 * the other addresses of its node (alternatives, by ordinal, in preference
 * order) and moves the row to the first that is reachable. kube-proxy serves
 * NodePorts only on the addresses its --nodeport-addresses allows (in nftables
 * mode by default only each node's primary address), so the preferred type is
 * not always one that answers.
 */
export async function probeWithFallback(
  rows: Endpoint[],
  probers: Probers,
  timeoutMs: number,
  alternatives: ReadonlyMap<number, Candidate[]>,
): Promise<{ rows: ProbedEndpoint[]; moves: AddressMove[] }> {
  const outcomes = await probeEndpoints(rows, probers, timeoutMs);
  const probed: ProbedEndpoint[] = rows.map((r, i) => ({
    ...r,
    probe: outcomes[i] ?? 'not probed (no address)',
  }));
  const moved = new Map<ProbedEndpoint, AddressMove>();
  const jobs = probed
    .filter((r) => serving(r) && r.port !== null && !['reachable', 'intercepted'].includes(r.probe))
    .map((r) => async () => {
      const probe = r.protocol === 'UDP' ? probers.udp : probers.tcp;
      for (const c of alternatives.get(r.ordinal) ?? []) {
        if (c.address === r.address || (await probe(c.address, r.port ?? 0, timeoutMs)) !== 'reachable')
          continue;
        moved.set(r, {
          pod: r.pod,
          from: { address: r.address ?? '', type: r.addressType ?? '', probe: r.probe },
          to: c,
        });
        Object.assign(r, { address: c.address, addressType: c.type, probe: 'reachable' });
        return;
      }
    });
  await pool(jobs, MAX_PARALLEL);
  const moves = probed.flatMap((r) => moved.get(r) ?? []);
  return { rows: probed, moves };
}

/** Addresses whose control connection answered: the path intercepts, so no TCP verdict there holds. */
export function interceptedAddresses(rows: ProbedEndpoint[]): string[] {
  return [...new Set(rows.filter((r) => r.probe === 'intercepted').map((r) => r.address ?? ''))];
}
