/**
 * A tiny load balancer for the local cluster's data plane, run by the agent.
 * It plays the part of a cloud's network load balancer with instance targets:
 *
 * - Every Service of type LoadBalancer gets an ingress IP from 203.0.113.200-250
 *   (status.loadBalancer.ingress), kept while the Service exists.
 * - Every half second it asks each node's kube-proxy for the Service's health
 *   (http://<InternalIP>:<healthCheckNodePort>/healthz; with
 *   externalTrafficPolicy Cluster every Ready node is a target), as a cloud
 *   load balancer does.
 * - Traffic to ingress IP:port is DNATed, in this (the clients') namespace, to
 *   the first healthy node's InternalIP:nodePort; with no healthy node there is
 *   no rule and nothing answers. The client's address is kept, as with Local.
 *
 * Its rules live in the chain `lb` of the table dataplane.sh creates, so
 * `dataplane.sh down` removes them.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import * as k8s from '@kubernetes/client-node';

const run = promisify(execFile);
const POOL = Array.from({ length: 51 }, (_, i) => `203.0.113.${200 + i}`);
const TABLE = 'ip expose_pods_e2e';

export interface LbNode {
  node: string;
  internalIP: string;
}

interface Target {
  ingress: string;
  port: number;
  protocol: string;
  node: LbNode;
  nodePort: number;
}

async function healthy(node: LbNode, port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://${node.internalIP}:${port}/healthz`, { signal: AbortSignal.timeout(400) });
    return r.status === 200;
  } catch {
    return false;
  }
}

/** The rules for the targets, replacing the chain's contents in one nft transaction. */
function ruleset(targets: Target[]): string {
  const rules = targets.map(
    (t) =>
      `add rule ${TABLE} lb ip daddr ${t.ingress} ${t.protocol.toLowerCase()} dport ${t.port} dnat to ${t.node.internalIP}:${t.nodePort}`,
  );
  return [`flush chain ${TABLE} lb`, ...rules, ''].join('\n');
}

export function startLoadBalancer(
  core: k8s.CoreV1Api,
  nodes: readonly LbNode[],
  log: (msg: string) => void,
): () => void {
  let applied = '';
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const nodeReady = async (): Promise<Set<string>> => {
    const list = await core.listNode();
    return new Set(
      list.items
        .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
        .map((n) => n.metadata?.name ?? ''),
    );
  };

  const reconcile = async (): Promise<void> => {
    const services = (await core.listServiceForAllNamespaces()).items.filter(
      (s) => s.spec?.type === 'LoadBalancer',
    );
    const used = new Set(services.map((s) => s.status?.loadBalancer?.ingress?.[0]?.ip).filter(Boolean));
    const ready = await nodeReady();
    const targets: Target[] = [];
    for (const svc of services) {
      const name = svc.metadata?.name ?? '';
      const namespace = svc.metadata?.namespace ?? '';
      let ingress = svc.status?.loadBalancer?.ingress?.[0]?.ip;
      if (!ingress) {
        ingress = POOL.find((ip) => !used.has(ip));
        if (!ingress) {
          log(`load balancer: no free address for ${namespace}/${name}`);
          continue;
        }
        used.add(ingress);
        svc.status ??= {};
        svc.status.loadBalancer = { ingress: [{ ip: ingress, ipMode: 'VIP' }] };
        try {
          await core.replaceNamespacedServiceStatus({ name, namespace, body: svc });
          log(`load balancer: ${namespace}/${name} gets ${ingress}`);
        } catch (e) {
          // A conflict or a Service deleted meanwhile: the next pass sees the new state.
          log(`load balancer: status of ${namespace}/${name}: ${String(e)}`);
          continue;
        }
      }
      const local = svc.spec?.externalTrafficPolicy === 'Local';
      const hcnp = svc.spec?.healthCheckNodePort ?? 0;
      let target: LbNode | undefined;
      for (const n of nodes) {
        if (!ready.has(n.node)) continue;
        if (local ? await healthy(n, hcnp) : true) {
          target = n;
          break;
        }
      }
      if (!target) continue;
      for (const p of svc.spec?.ports ?? [])
        if (p.nodePort)
          targets.push({
            ingress,
            port: p.port,
            protocol: p.protocol ?? 'TCP',
            node: target,
            nodePort: p.nodePort,
          });
    }
    const rules = ruleset(targets);
    if (rules !== applied) {
      const nft = run('nft', ['-f', '-']);
      nft.child.stdin?.end(rules);
      await nft;
      applied = rules;
    }
  };

  const loop = () => {
    if (stopped) return;
    reconcile()
      .catch((e: unknown) => log(`load balancer: ${String(e)}`))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, 500);
      });
  };
  loop();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
