import type { ServiceCIDRView } from '../core/budget.js';
import type { NodeView, ServiceView } from '../core/model.js';
import { kubeApis, readOnce } from './api.js';
import type { ResolvedKube } from './config.js';
import { toKubeError } from './errors.js';
import { unlessForbidden } from './release-reader.js';
import { nodeView, serviceView } from './views.js';

/**
 * What the cluster-wide budgets are worked out from (core/budget.ts). Each
 * cluster-wide list a namespaced user may not make is optional: a 403 leaves
 * that budget unknown, never fails the command.
 */
export interface BudgetObjects {
  nodes: NodeView[];
  /** Every Service in the cluster; undefined when RBAC hides them. */
  allServices?: ServiceView[];
  /** Non-terminal pods bound to each node, in every namespace; undefined when RBAC hides them. */
  boundPerNode?: Map<string, number>;
  /** ServiceCIDRs and the allocated IPs (IPAddress names), or why they cannot be read. */
  serviceIPs: { cidrs: ServiceCIDRView[]; addresses: string[] } | { unknown: string };
}

/** Five lists, whatever the number of rooms: nodes, Services, pods, ServiceCIDRs and IPAddresses. */
export async function readBudgetObjects(kube: ResolvedKube): Promise<BudgetObjects> {
  const [nodes, allServices, boundPerNode, serviceIPs] = await Promise.all([
    listNodes(kube),
    listAllServices(kube),
    boundPodsPerNode(kube),
    readServiceIPs(kube),
  ]);
  return { nodes, allServices, boundPerNode, serviceIPs };
}

export async function listNodes(kube: ResolvedKube): Promise<NodeView[]> {
  const { core, call } = await kubeApis(kube);
  return (await readOnce(kube, 'list nodes', () => call('list nodes', core.listNode()))).items.map(nodeView);
}

/** Every Service in the cluster, for nodePort collisions and the NodePort budget. */
export async function listAllServices(kube: ResolvedKube): Promise<ServiceView[] | undefined> {
  const { core, call } = await kubeApis(kube);
  const list = await unlessForbidden(
    readOnce(kube, 'list services', () =>
      call('list services in all namespaces', core.listServiceForAllNamespaces()),
    ),
  );
  return list?.items.map(serviceView);
}

/** Pods that hold a node slot (phase not Succeeded or Failed), counted per node. */
async function boundPodsPerNode(kube: ResolvedKube): Promise<Map<string, number> | undefined> {
  const { core, call } = await kubeApis(kube);
  const list = await unlessForbidden(
    readOnce(kube, 'list bound pods', () =>
      call(
        'list pods in all namespaces',
        core.listPodForAllNamespaces({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' }),
      ),
    ),
  );
  if (!list) return undefined;
  const out = new Map<string, number>();
  for (const p of list.items) {
    const n = p.spec?.nodeName;
    if (n) out.set(n, (out.get(n) ?? 0) + 1);
  }
  return out;
}

/**
 * The Service CIDRs and the IPs allocated from them, from the ServiceCIDR and
 * IPAddress objects (networking.k8s.io/v1, Kubernetes 1.33+). Older API servers
 * (404) and users who may not list them (403) get the reason instead.
 */
async function readServiceIPs(kube: ResolvedKube): Promise<BudgetObjects['serviceIPs']> {
  const { networking, server } = await kubeApis(kube);
  try {
    const [cidrs, addresses] = await Promise.all([
      readOnce(kube, 'list servicecidrs', () => networking.listServiceCIDR()),
      readOnce(kube, 'list ipaddresses', () => networking.listIPAddress()),
    ]);
    return {
      cidrs: cidrs.items.map((c) => ({ name: c.metadata?.name ?? '', cidrs: c.spec?.cidrs ?? [] })),
      addresses: addresses.items.map((a) => a.metadata?.name ?? '').filter(Boolean),
    };
  } catch (e) {
    const err = toKubeError(e, 'list servicecidrs and ipaddresses', server);
    if (err.httpCode === 404)
      return { unknown: 'the API server has no ServiceCIDR objects (they come with Kubernetes 1.33)' };
    if (err.httpCode === 403)
      return { unknown: 'not allowed to list servicecidrs and ipaddresses (networking.k8s.io)' };
    throw err;
  }
}
