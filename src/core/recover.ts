import { ordinalOf, type NodeView } from './model.js';

export const OUT_OF_SERVICE_TAINT = {
  key: 'node.kubernetes.io/out-of-service',
  value: 'nodeshutdown',
  effect: 'NoExecute',
} as const;

export interface RecoverNode {
  name: string;
  /** The Ready condition's status: True, False or Unknown (Unknown: the node stopped reporting). */
  ready: 'True' | 'False' | 'Unknown';
  /** When the Ready condition last changed, ms since the epoch. */
  since?: number;
  outOfService: boolean;
}

/** What recover needs of a node: its Ready condition (Unknown when it reports none) and the out-of-service taint. */
export function recoverNodeOf(n: NodeView): RecoverNode {
  return {
    name: n.name,
    ready: n.readyCondition?.status ?? 'Unknown',
    since: n.readyCondition?.since,
    outOfService: (n.taints ?? []).some((t) => t.key === OUT_OF_SERVICE_TAINT.key),
  };
}

/** What recover needs of a pod: a PodView has it all. */
export interface RecoverPod {
  name: string;
  /** metadata.uid: a replacement of the same name has another. */
  uid?: string;
  nodeName?: string;
  ready: boolean;
  terminating: boolean;
}

export type PodState = 'stuck' | 'at-risk' | 'healthy' | 'unscheduled';

export interface ClassifiedPod {
  ordinal: number;
  pod: string;
  node: string | null;
  /** stuck: Terminating on a node that is not Ready (only a person can confirm it stopped);
   *  at-risk: on such a node, not yet evicted; healthy: on a Ready node. */
  state: PodState;
  nodeReady: RecoverNode['ready'] | null;
  /** Seconds the node has been in that condition. */
  forSeconds: number | null;
  outOfService: boolean;
}

/** Pure: which pods of the release sit on a lost node, and how. Pods on Ready nodes are never candidates. */
export function classifyPods(
  workload: string,
  pods: RecoverPod[],
  nodes: RecoverNode[],
  now: number,
): ClassifiedPod[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  return pods
    .map((p) => {
      const node = p.nodeName ? byName.get(p.nodeName) : undefined;
      let state: PodState;
      if (!p.nodeName) state = 'unscheduled';
      else if (!node || node.ready === 'True') state = node ? 'healthy' : 'stuck';
      else state = p.terminating ? 'stuck' : 'at-risk';
      return {
        ordinal: ordinalOf(p.name, workload) ?? -1,
        pod: p.name,
        node: p.nodeName ?? null,
        state,
        nodeReady: node?.ready ?? null,
        forSeconds: node?.since !== undefined ? Math.max(0, Math.round((now - node.since) / 1000)) : null,
        outOfService: node?.outOfService ?? false,
      };
    })
    .sort((a, b) => a.ordinal - b.ordinal);
}
