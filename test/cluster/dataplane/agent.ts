/**
 * The data-plane agent of the local cluster (started by test/cluster/dataplane.sh).
 *
 * - Forwards the bridge address's API port to the API server on 127.0.0.1, so
 *   the kube-proxy in each node namespace can reach it.
 * - Watches every pod. A pod bound to a node with an IP gets that IP on the
 *   loopback of its node's namespace, as a pod network would give it.
 * - Runs one responder per node namespace (responder.ts) and tells it, on each
 *   change, which pods own which addresses, on which ports, and whether they are
 *   Ready: a pod that is not Ready stops answering, as a room server behind its
 *   readiness probe would.
 *
 * - Runs the tiny load balancer (lb.ts): LoadBalancer Services get an ingress
 *   IP, routed to a node whose kube-proxy reports the Service healthy.
 *
 * Writes agent.ready in the data-plane directory once the first list is applied.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

import * as k8s from '@kubernetes/client-node';

import { startLoadBalancer } from './lb.js';
import type { ResponderPod, ResponderState } from './responder.js';

const run = promisify(execFile);
const dir = required('EXPOSE_PODS_DATAPLANE_DIR');
const [forwardHost, forwardPort] = required('EXPOSE_PODS_API_FORWARD').split(':');
const apiPort = Number(required('EXPOSE_PODS_API_PORT'));

interface NodeNet {
  node: string;
  netns: string;
  internalIP: string;
}
const nodes: NodeNet[] = (
  JSON.parse(readFileSync(path.join(dir, 'nodes.json'), 'utf8')) as { nodes: NodeNet[] }
).nodes;

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

function log(msg: string): void {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
}

/** A plain TCP forwarder: bridge address → the API server on loopback. */
function forwardApi(): net.Server {
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: apiPort });
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
  });
  server.listen(Number(forwardPort), forwardHost);
  return server;
}

/** What a node namespace should hold: pod IP → the pod that owns it. */
type Desired = Map<string, ResponderPod>;

function desiredFor(pods: readonly k8s.V1Pod[], node: string): Desired {
  const out: Desired = new Map();
  for (const p of pods) {
    const ip = p.status?.podIP;
    if (p.spec?.nodeName !== node || !ip) continue;
    const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    const ports = p.spec.containers.flatMap((c) =>
      (c.ports ?? []).map((cp) => ({ port: cp.containerPort, protocol: cp.protocol ?? 'TCP' })),
    );
    const pod = { ip, name: p.metadata?.name ?? '', namespace: p.metadata?.namespace ?? '', ready, ports };
    const other = out.get(ip);
    if (other) reportSharedIP(node, other, pod);
    out.set(ip, pod);
  }
  return out;
}

const reportedShared = new Set<string>();

/**
 * Two pods on one node with one IP: a pod network never does this, so the
 * harness is broken (a KWOK that lost its IP pool), and one of them would
 * answer for both. Said once in the agent's log, to name the cause of packets
 * that reach the wrong pod or none.
 */
function reportSharedIP(node: string, a: ResponderPod, b: ResponderPod): void {
  const key = `${node} ${a.ip} ${a.namespace}/${a.name} ${b.namespace}/${b.name}`;
  if (reportedShared.has(key)) return;
  reportedShared.add(key);
  log(`BROKEN: pods ${a.namespace}/${a.name} and ${b.namespace}/${b.name} on ${node} share the IP ${a.ip}`);
}

class NodeAgent {
  private held = new Set<string>();
  private responder: ChildProcess;
  private queue: Promise<void> = Promise.resolve();
  readonly node: string;

  constructor(private readonly net_: NodeNet) {
    this.node = net_.node;
    this.responder = spawn(
      'ip',
      [
        'netns',
        'exec',
        net_.netns,
        process.execPath,
        '--import',
        'tsx',
        path.join(import.meta.dirname, 'responder.ts'),
      ],
      { stdio: ['pipe', 'inherit', 'inherit'], env: { ...process.env, EXPOSE_PODS_NODE: net_.node } },
    );
    this.responder.on('exit', (code, signal) => {
      if (!stopping) {
        log(`responder of ${net_.node} exited (${code ?? signal}); the agent stops`);
        process.exit(1);
      }
    });
  }

  /** Applies one desired state: addresses first, then the responder's table. Serialized. */
  apply(desired: Desired): Promise<void> {
    this.queue = this.queue.then(async () => {
      for (const ip of desired.keys()) {
        if (this.held.has(ip)) continue;
        await ipAddr(this.net_.netns, 'add', ip);
        this.held.add(ip);
      }
      for (const ip of [...this.held]) {
        if (desired.has(ip)) continue;
        await ipAddr(this.net_.netns, 'del', ip);
        this.held.delete(ip);
      }
      const state: ResponderState = { pods: [...desired.values()] };
      this.responder.stdin?.write(`${JSON.stringify(state)}\n`);
    });
    return this.queue;
  }

  stop(): void {
    this.responder.kill('SIGTERM');
  }
}

async function ipAddr(netns: string, op: 'add' | 'del', ip: string): Promise<void> {
  try {
    await run('ip', ['-n', netns, 'addr', op, `${ip}/32`, 'dev', 'lo']);
  } catch (e) {
    const msg = (e as { stderr?: string }).stderr ?? String(e);
    // Already there (add) or already gone (del): the goal holds.
    if (!/File exists|Cannot assign/.test(msg)) log(`ip addr ${op} ${ip} in ${netns}: ${msg.trim()}`);
  }
}

let stopping = false;

async function main(): Promise<void> {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const forwarder = forwardApi();
  const agents = nodes.map((n) => new NodeAgent(n));

  const informer = k8s.makeInformer(kc, '/api/v1/pods', () => core.listPodForAllNamespaces());
  let pending: NodeJS.Timeout | undefined;
  let first = true;
  const sync = () => {
    // Coalesce bursts (a scale of 1000 pods) into one pass.
    if (pending) return;
    pending = setTimeout(() => {
      pending = undefined;
      const pods = informer.list();
      void Promise.all(agents.map((a) => a.apply(desiredFor(pods, a.node)))).then(() => {
        if (first) {
          first = false;
          writeFileSync(path.join(dir, 'agent.ready'), `${process.pid}\n`);
          log('ready');
        }
      });
    }, 50);
  };
  for (const ev of ['add', 'update', 'delete'] as const) informer.on(ev, sync);
  informer.on('error', (err: unknown) => {
    log(`pod watch failed (${String(err)}); restarting in 1s`);
    setTimeout(() => void informer.start(), 1000);
  });
  await informer.start();
  sync();
  const stopLoadBalancer = startLoadBalancer(core, nodes, log);

  const stop = () => {
    stopping = true;
    stopLoadBalancer();
    forwarder.close();
    for (const a of agents) a.stop();
    void informer.stop();
    setTimeout(() => process.exit(0), 200);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  log(`agent failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
