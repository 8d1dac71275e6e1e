import {
  BUDGET_WARN_PERCENT,
  leftOutPhrase,
  type BudgetChange,
  type NodePortBudget,
  type Usage,
} from '../core/budget.js';
import type { StatusBudget } from '../core/status.js';

/** Why a budget is not counted, and the opt-in of `rbac` that would let it be. */
const UNCOUNTED = {
  nodePorts: 'not allowed to list Services in all namespaces (rbac --cluster-budget grants it)',
  podSlots: 'not allowed to list pods in all namespaces (rbac --pod-slots grants it)',
} as const;

const NEARLY_FULL = '  (warning: nearly full)';
const OVER = '  (more than there is)';

function warnAfter(after: Usage, total: number): string {
  if (after.used > total) return OVER;
  return after.usedPercent >= BUDGET_WARN_PERCENT ? NEARLY_FULL : '';
}

function block(n: NodePortBudget): string {
  const b = n.largestFreeBlock;
  return b ? `${b.first}-${b.first + b.size - 1} (${b.size})` : 'none';
}

/**
 * The budget lines of a plan (install and scale print the same ones): each
 * cluster-wide ceiling before -> after the change, with a warning from
 * BUDGET_WARN_PERCENT. `label` pads the names to the plan's own column.
 */
export function formatBudgetChange(b: BudgetChange, label: (name: string) => string): string[] {
  const lines: string[] = [];
  if (!b.nodePorts) lines.push(`${label('NodePorts:')}unknown: ${UNCOUNTED.nodePorts}`);
  if (b.nodePorts) {
    const { now, after } = b.nodePorts;
    lines.push(
      `${label('NodePorts:')}${now.used} -> ${after.used} of ${now.total} used in ${now.range.first}-${now.range.last} (${now.usedPercent}% -> ${after.usedPercent}%, every Service in the cluster)${warnAfter(after, now.total)}`,
    );
  }
  if ('unknown' in b.clusterIPs) {
    lines.push(`${label('ClusterIPs:')}unknown: ${b.clusterIPs.unknown}`);
  } else {
    const { now, after } = b.clusterIPs;
    lines.push(
      `${label('ClusterIPs:')}${now.used} -> ${after.used} of ${now.total} used in ${now.cidrs.map((c) => c.cidr).join(', ')} (${now.usedPercent}% -> ${after.usedPercent}%)${warnAfter(after, now.total)}`,
    );
  }
  if (!b.podSlots) lines.push(`${label('Pod slots:')}unknown: ${UNCOUNTED.podSlots}`);
  if (b.podSlots && !b.podSlots.now.nodes) {
    lines.push(`${label('Pod slots:')}none: no node can take rooms${leftOutPhrase(b.podSlots.now)}`);
  } else if (b.podSlots) {
    const { now, after } = b.podSlots;
    lines.push(
      `${label('Pod slots:')}${now.used} -> ${after.used} of ${now.total} used on the ${now.nodes} node(s) the rooms can use (${now.usedPercent}% -> ${after.usedPercent}%)${warnAfter(after, now.total)}`,
    );
  }
  return lines;
}

/** The BUDGET block of `status`: each ceiling, cluster-wide, with this release's share. */
export function formatStatusBudget(b: StatusBudget): string[] {
  const rows: string[] = [];
  if (b.nodePorts) {
    const n = b.nodePorts;
    rows.push(
      `  NodePorts   ${n.used} of ${n.total} used in ${n.range.first}-${n.range.last} (${n.usedPercent}%), this release ${n.release}; ${n.free} free, largest free block ${block(n)}`,
    );
  } else {
    rows.push(`  NodePorts   unknown: ${UNCOUNTED.nodePorts}`);
  }
  const c = b.clusterIPs;
  rows.push(
    'unknown' in c
      ? `  ClusterIPs  unknown: ${c.unknown}`
      : `  ClusterIPs  ${c.used} of ${c.total} used in ${c.cidrs.map((x) => x.cidr).join(', ')} (${c.usedPercent}%), this release ${c.release}; ${c.free} free`,
  );
  if (b.podSlots) {
    const p = b.podSlots;
    rows.push(
      p.nodes
        ? `  Pod slots   ${p.used} of ${p.total} used on the ${p.nodes} node(s) the rooms can use${leftOutPhrase(p)} (${p.usedPercent}%), this release ${p.release}; ${p.free} free`
        : `  Pod slots   none: no node can take rooms${leftOutPhrase(p)}`,
    );
  } else {
    rows.push(`  Pod slots   unknown: ${UNCOUNTED.podSlots}`);
  }
  return ['BUDGET (cluster-wide)', ...rows];
}
