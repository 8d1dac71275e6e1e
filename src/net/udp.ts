import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';

import { PROBE_DATAGRAM, type DatagramOutcome } from '../core/probe.js';

/**
 * Sends one probe datagram on a connected UDP socket and waits: a reply is
 * reachable; an ICMP port-unreachable (ECONNREFUSED on a connected socket) is
 * refused; silence until the deadline is open|filtered. Never throws.
 */
export async function udpProbe(host: string, port: number, timeoutMs: number): Promise<DatagramOutcome> {
  let address = host;
  if (net.isIP(host) === 0) {
    try {
      address = (await lookup(host)).address;
    } catch (e) {
      return `error ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
    }
  }
  return new Promise((resolve) => {
    const socket = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
    const done = (outcome: DatagramOutcome) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.close();
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      done('open|filtered');
    }, timeoutMs);
    socket.once('message', () => {
      done('reachable');
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      done(e.code === 'ECONNREFUSED' ? 'refused' : `error ${e.code ?? e.message}`);
    });
    socket.connect(port, address, () => {
      socket.send(PROBE_DATAGRAM);
    });
  });
}
