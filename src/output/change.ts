import { REDACTED } from '../core/redact.js';
import type { OrderedStart } from '../core/release-change.js';
import type { ChangePreview } from '../ops/mutation.js';
import { formatBudgetChange } from './budget.js';

const show = (v: unknown) => (v === undefined ? '(unset)' : v === REDACTED ? REDACTED : JSON.stringify(v));

/** Lists that stay short on a terminal: the first few names, then how many more. */
function names(list: string[], max = 5): string {
  return list.length <= max
    ? list.join(', ')
    : `${list.slice(0, max).join(', ')} and ${list.length - max} more`;
}

/**
 * The plan of a change, for stderr: what the values become, what that does to
 * pods and Services, and to the cluster's budgets (a first install shows its values and budgets).
 */
export function formatChange(p: ChangePreview): string {
  const lines = [`${p.exists ? 'release' : 'new release'} ${p.release} in ${p.cluster}:`];
  const { plan } = p;
  if (!p.exists && !plan.values.length) lines.push("  values: the chart's defaults");
  else if (!plan.values.length) lines.push('  values: unchanged (the release keeps every value it has)');
  else {
    lines.push(
      p.exists
        ? '  values (yours, merged; everything else is kept):'
        : "  values (yours; the chart's defaults for the rest):",
    );
    for (const v of plan.values) lines.push(`    ${v.path}: ${show(v.from)} -> ${show(v.to)}`);
  }
  if (plan.replicas) lines.push(`  replicas: ${plan.replicas.from} -> ${plan.replicas.to}`);
  if (plan.removePods.length)
    lines.push(
      `  pods removed: ${names(plan.removePods)}${plan.removeReadyPods.length ? ` (${plan.removeReadyPods.length} Ready)` : ''}`,
      `  rooms in use among them: ${plan.removeInUse.length ? names(plan.removeInUse) : 'none'}; each room removed is marked Draining first (no new match), and rooms in use are waited for within --timeout (--delete-in-use removes them)`,
    );
  if (plan.strategyChange)
    lines.push(
      `  updateStrategy: ${plan.strategyChange.from} (live) -> ${plan.strategyChange.to}, in the same write as the pod template${plan.strategyChange.to === 'OnDelete' ? ': the controller restarts no room' : ''}`,
    );
  if (plan.updateStrategy === 'OnDelete') {
    if (plan.restartPods.length)
      lines.push(
        `  rooms replaced on the new pod template (in batches of --max-unavailable, lowest ordinal first, each only while still Free): ${names(plan.restartPods)}`,
      );
    if (plan.keepInUse.length)
      lines.push(
        `  rooms in use that keep their build until their match ends (deallocate replaces each; rollout --wait-in-use waits for them): ${names(plan.keepInUse)}`,
      );
  } else if (plan.restartPods.length)
    lines.push(`  pods restarted (rolling, highest ordinal first): ${names(plan.restartPods)}`);
  if (plan.restartDeployments.length) lines.push(`  restarted: ${plan.restartDeployments.join(', ')}`);
  if (plan.addServices.length) lines.push(`  Services added: ${names(plan.addServices)}`);
  if (plan.removeServices.length)
    lines.push(
      `  Services removed: ${names(plan.removeServices)}${plan.removeServicesInUse.length ? `; of rooms in use (their matches lose their address): ${names(plan.removeServicesInUse)}` : ''}`,
    );
  for (const m of plan.movedNodePorts)
    lines.push(
      `  nodePort moved: ${m.service} ${m.from.join(',')} -> ${m.to.join(',') || 'assigned by Kubernetes'}`,
    );
  if (plan.noop) lines.push('  nothing changes');
  else lines.push(...formatBudgetChange(p.budget, (name) => `  ${name} `));
  if (plan.orderedStart) lines.push(`  note: ${formatOrderedStart(plan.orderedStart)}`);
  return lines.join('\n');
}

/** "45s", "3m50s", "2h47m". */
export function approxDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)}h${m % 60 ? `${m % 60}m` : ''}`;
}

/** How long a large step takes under OrderedReady, and the way out, in one sentence. */
export function formatOrderedStart(o: OrderedStart): string {
  const time =
    o.estimateSeconds !== undefined
      ? `about ${approxDuration(o.estimateSeconds)} at the ${Math.round((o.perPodSeconds ?? 0) * 10) / 10}s this release's pods took to be Ready`
      : `at least ${approxDuration(o.floorSeconds)}, plus each pod's own start time`;
  return `room.podManagementPolicy is OrderedReady: the ${o.pods} new pods start one at a time, each after the one before is Ready: ${time}. Rooms that need no order start together with Parallel, which is chosen at the first install (a StatefulSet cannot change it).`;
}
