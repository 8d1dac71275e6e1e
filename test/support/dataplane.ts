/**
 * The local cluster's data plane (test/cluster/dataplane.sh), seen from where
 * clients stand: this process, in the machine's own network namespace.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';

import type { RoomAnswer } from '../cluster/dataplane/responder.js';
import { CLUSTER } from './e2e.js';

export interface DataPlaneNode {
  node: string;
  netns: string;
  internalIP: string;
  /** '' when the node has none. */
  externalIP: string;
  /** How the ExternalIP reaches the node: cloud (DNAT here) or bare-metal (bound on its interface). */
  shape: '' | 'cloud' | 'bare-metal';
}

export interface DataPlane {
  mode: 'nftables' | 'iptables';
  /** The bridge address: every connection from this process to a node comes from it. */
  bridgeIP: string;
  nodes: DataPlaneNode[];
}

function load(): DataPlane {
  if (!CLUSTER.DATAPLANE) {
    throw new Error(
      'the local cluster has no data plane: npm test brings it up (EXPOSE_PODS_DATAPLANE=require); it needs root, network namespaces and nftables',
    );
  }
  return JSON.parse(readFileSync(CLUSTER.DATAPLANE, 'utf8')) as DataPlane;
}

export const DATAPLANE = load();

/** Addresses in the node ranges that no node has: they must not answer (the control). */
export const UNUSED_ADDRESSES = ['198.51.100.99', '203.0.113.99'];

/** What one try found: the room's answer, or how the packets failed. */
export type Reached = { answer: RoomAnswer } | { failed: 'refused' | 'timeout' | `error ${string}` };

/** Connects over TCP and reads the room's one-line answer. */
export function askTcp(host: string, port: number, timeoutMs = 1500): Promise<Reached> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let data = '';
    const done = (r: Reached) => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => {
      done({ failed: 'timeout' });
    });
    socket.on('data', (d: Buffer) => (data += d.toString()));
    socket.on('end', () => {
      try {
        done({ answer: JSON.parse(data) as RoomAnswer });
      } catch {
        done({ failed: `error not a room answer: ${JSON.stringify(data.slice(0, 80))}` });
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      done({ failed: e.code === 'ECONNREFUSED' ? 'refused' : `error ${e.code ?? e.message}` });
    });
  });
}

/** Sends one datagram and reads the room's answer; silence is a timeout, ICMP port-unreachable refused. */
export function askUdp(host: string, port: number, timeoutMs = 1500): Promise<Reached> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const done = (r: Reached) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.close();
      resolve(r);
    };
    const timer = setTimeout(() => {
      done({ failed: 'timeout' });
    }, timeoutMs);
    socket.on('message', (m) => {
      try {
        done({ answer: JSON.parse(m.toString()) as RoomAnswer });
      } catch {
        done({ failed: `error not a room answer: ${JSON.stringify(m.toString().slice(0, 80))}` });
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      done({ failed: e.code === 'ECONNREFUSED' ? 'refused' : `error ${e.code ?? e.message}` });
    });
    socket.connect(port, host, () => socket.send('hello'));
  });
}

/** Every address of a node that a client can use. */
export function nodeAddresses(node: DataPlaneNode): string[] {
  return [node.internalIP, node.externalIP].filter((a) => a !== '');
}

export function dataPlaneNode(name: string): DataPlaneNode {
  const n = DATAPLANE.nodes.find((x) => x.node === name);
  if (!n) throw new Error(`no data-plane node ${name}`);
  return n;
}
