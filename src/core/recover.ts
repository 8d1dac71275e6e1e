import { ordinalOf, type NodeView } from './model.js';
import { allocationOf, roomState, type Allocation, type RoomMark, type RoomState } from './rooms.js';

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
  /** Its room's marks: whether a match runs there. */
  mark?: RoomMark;
  restarts?: number;
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
  /** The room's state by its marks: Free, Allocated (a match runs there, or ran until the node was lost) or Draining. */
  roomState: RoomState;
  /** The allocation, when Allocated. */
  allocation: Allocation | null;
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
        roomState: roomState(p.mark),
        allocation: allocationOf(p.mark, p.restarts),
        forSeconds: node?.since !== undefined ? Math.max(0, Math.round((now - node.since) / 1000)) : null,
        outOfService: node?.outOfService ?? false,
      };
    })
    .sort((a, b) => a.ordinal - b.ordinal);
}

/** What an action of recover touches, and what that means for the matches. */
export interface RecoverImpact {
  /** The pods it deletes: the targets (--force-delete), or every pod of the release on a tainted node (--out-of-service). */
  touched: string[];
  /** Pods on a tainted node that were not asked for (--pod X --out-of-service): the taint deletes them too. */
  alsoOnNode: string[];
  /** Of touched, the rooms in use (Allocated). */
  inUse: string[];
}

/** Pure: the pods an action deletes (out-of-service taints whole nodes), and the rooms in use among them. */
export function recoverImpact(
  pods: readonly ClassifiedPod[],
  targets: readonly ClassifiedPod[],
  action: 'force-delete' | 'out-of-service',
): RecoverImpact {
  const asked = new Set(targets.map((t) => t.pod));
  const nodes = new Set(targets.map((t) => t.node).filter((n): n is string => n !== null));
  const touched =
    action === 'force-delete'
      ? [...targets]
      : pods.filter((p) => asked.has(p.pod) || (p.node !== null && nodes.has(p.node)));
  return {
    touched: touched.map((p) => p.pod),
    alsoOnNode: touched.filter((p) => !asked.has(p.pod)).map((p) => p.pod),
    inUse: touched.filter((p) => p.roomState === 'Allocated').map((p) => p.pod),
  };
}

/**
 * What the confirmation says of the matches: the rooms in use it deletes, the
 * other rooms a node taint deletes, and that a node only cut off (a network
 * partition) may still run the old match while the replacement, which starts
 * Free, is allocated to a new one. Empty when there is nothing to say.
 */
export function recoverWarnings(impact: RecoverImpact, action: 'force-delete' | 'out-of-service'): string[] {
  const out: string[] = [];
  const list = (names: string[]) => names.join(', ');
  if (impact.alsoOnNode.length)
    out.push(
      `the taint deletes every pod on the node, not only the one named: also ${list(impact.alsoOnNode)}`,
    );
  if (impact.inUse.length)
    out.push(
      `${action === 'force-delete' ? 'force-deletes' : 'deletes'} ${impact.inUse.length} room(s) in use (Allocated): ${list(impact.inUse)}; if the node is only cut off (a network partition), their matches may still run there while each replacement starts Free and can be allocated to a new match`,
    );
  return out;
}
