/**
 * Whether the scheduler may put a room on a node, from what the pod template
 * says (nodeSelector, tolerations, required node affinity) and what the node
 * has (labels, taints). It answers the filters that do not depend on other
 * pods; anti-affinity and topology spread are the scheduler's (room.onePerNode
 * is checked on its own, in release-change.ts).
 */
import type { NodeView } from './model.js';

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

/** One term of requiredDuringSchedulingIgnoredDuringExecution: every expression must hold. */
export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

/** Where a pod template lets its pods go. */
export interface Placement {
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  /** Required node affinity: any one term must match. */
  requiredTerms?: NodeSelectorTerm[];
}

/** The placement of a pod template (spec.template of a StatefulSet, as JSON or a client object). */
export function placementOf(template: unknown): Placement {
  const spec = (template as { spec?: Record<string, unknown> } | undefined)?.spec ?? {};
  const affinity = spec.affinity as
    | {
        nodeAffinity?: {
          requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
        };
      }
    | undefined;
  return {
    nodeSelector: (spec.nodeSelector as Record<string, string> | undefined) ?? undefined,
    tolerations: (spec.tolerations as Toleration[] | undefined) ?? undefined,
    requiredTerms: affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms,
  };
}

/** As the scheduler's TaintToleration filter: does one toleration cover the taint? */
export function tolerates(t: Toleration, taint: { key: string; value?: string; effect: string }): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.operator === 'Exists') return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}

function requirementHolds(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const n = Number(value);
      const bound = Number(values[0]);
      // A missing label is Number(undefined), NaN: not an integer either.
      if (!Number.isInteger(n) || !Number.isInteger(bound)) return false;
      return r.operator === 'Gt' ? n > bound : n < bound;
    }
    default:
      return false;
  }
}

function termMatches(term: NodeSelectorTerm, node: NodeView): boolean {
  const labels = node.labels ?? {};
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  // An empty term matches nothing, as in the scheduler.
  if (!exprs.length && !fields.length) return false;
  return (
    exprs.every((r) => requirementHolds(r, labels[r.key])) &&
    fields.every((r) => requirementHolds(r, r.key === 'metadata.name' ? node.name : undefined))
  );
}

/** Why rooms with this placement cannot go to the node, as a short phrase; undefined when they can. */
export function placementProblem(node: NodeView, p: Placement): string | undefined {
  const labels = node.labels ?? {};
  for (const [k, v] of Object.entries(p.nodeSelector ?? {})) {
    if (labels[k] !== v) return `no label ${k}=${v} (nodeSelector)`;
  }
  if (p.requiredTerms?.length && !p.requiredTerms.some((t) => termMatches(t, node)))
    return 'not matched by the required node affinity';
  for (const taint of node.taints ?? []) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!(p.tolerations ?? []).some((t) => tolerates(t, taint)))
      return `tainted ${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}`;
  }
  return undefined;
}
