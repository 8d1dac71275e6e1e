/**
 * The room servers of one node namespace (started by agent.ts inside it).
 *
 * Reads the node's pod table as JSON lines on stdin. For each Ready pod it
 * listens on the pod's own IP and each containerPort, TCP and UDP, and answers
 * every connection or datagram with one JSON line: which pod was reached, and
 * the client address it saw. A pod that is not Ready, or gone, has no socket:
 * the kernel refuses TCP with a reset and UDP with an ICMP port-unreachable.
 * Exits when stdin closes (its agent is gone).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import readline from 'node:readline';

export interface ResponderPod {
  ip: string;
  name: string;
  namespace: string;
  ready: boolean;
  ports: { port: number; protocol: string }[];
}

export interface ResponderState {
  pods: ResponderPod[];
}

/** What a room answers: the pod reached, and the client as the pod saw it. */
export interface RoomAnswer {
  pod: string;
  namespace: string;
  node: string;
  podIP: string;
  port: number;
  protocol: 'TCP' | 'UDP';
  client: string;
  clientPort: number;
}

const node = process.env.EXPOSE_PODS_NODE ?? '';

type Listener = { close(): void };
const listeners = new Map<string, Listener>();

function answer(
  pod: ResponderPod,
  port: number,
  protocol: 'TCP' | 'UDP',
  client: string,
  clientPort: number,
): string {
  const a: RoomAnswer = {
    pod: pod.name,
    namespace: pod.namespace,
    node,
    podIP: pod.ip,
    port,
    protocol,
    client: client.replace(/^::ffff:/, ''),
    clientPort,
  };
  return `${JSON.stringify(a)}\n`;
}

function listen(pod: ResponderPod, port: number, protocol: string): Listener {
  if (protocol === 'UDP') {
    const s = dgram.createSocket('udp4');
    s.on('message', (_msg, rinfo) => {
      s.send(answer(pod, port, 'UDP', rinfo.address, rinfo.port), rinfo.port, rinfo.address);
    });
    s.on('error', (e) => process.stderr.write(`${node} udp ${pod.ip}:${port}: ${e.message}\n`));
    s.bind(port, pod.ip);
    return { close: () => s.close() };
  }
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.end(answer(pod, port, 'TCP', socket.remoteAddress ?? '', socket.remotePort ?? 0));
  });
  server.on('error', (e) => process.stderr.write(`${node} tcp ${pod.ip}:${port}: ${e.message}\n`));
  server.listen(port, pod.ip);
  return { close: () => server.close() };
}

function apply(state: ResponderState): void {
  const want = new Map<string, { pod: ResponderPod; port: number; protocol: string }>();
  for (const pod of state.pods) {
    if (!pod.ready) continue;
    for (const p of pod.ports)
      want.set(`${p.protocol} ${pod.ip}:${p.port} ${pod.namespace}/${pod.name}`, { pod, ...p });
  }
  for (const [key, l] of listeners) {
    if (want.has(key)) continue;
    l.close();
    listeners.delete(key);
  }
  for (const [key, w] of want) {
    if (!listeners.has(key)) listeners.set(key, listen(w.pod, w.port, w.protocol));
  }
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  try {
    apply(JSON.parse(line) as ResponderState);
  } catch (e) {
    process.stderr.write(`${node}: bad state line: ${String(e)}\n`);
  }
});
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
