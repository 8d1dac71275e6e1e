import type { ChangePreview } from '../ops/mutation.js';

const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));

/** Lists that stay short on a terminal: the first few names, then how many more. */
function names(list: string[], max = 5): string {
  return list.length <= max
    ? list.join(', ')
    : `${list.slice(0, max).join(', ')} and ${list.length - max} more`;
}

/** The plan of a change to an existing release, for stderr: what the values become and what that does to pods and Services. */
export function formatChange(p: ChangePreview): string {
  const lines = [`release ${p.release} in ${p.cluster}:`];
  const { plan } = p;
  if (!plan.values.length) lines.push('  values: unchanged (the release keeps every value it has)');
  else {
    lines.push('  values (yours, merged; everything else is kept):');
    for (const v of plan.values) lines.push(`    ${v.path}: ${show(v.from)} -> ${show(v.to)}`);
  }
  if (plan.replicas) lines.push(`  replicas: ${plan.replicas.from} -> ${plan.replicas.to}`);
  if (plan.removePods.length)
    lines.push(
      `  pods removed: ${names(plan.removePods)}${plan.removeReadyPods.length ? ` (${plan.removeReadyPods.length} Ready)` : ''}`,
    );
  if (plan.restartPods.length)
    lines.push(`  pods restarted (rolling, highest ordinal first): ${names(plan.restartPods)}`);
  if (plan.restartDeployments.length) lines.push(`  restarted: ${plan.restartDeployments.join(', ')}`);
  if (plan.addServices.length) lines.push(`  Services added: ${names(plan.addServices)}`);
  if (plan.removeServices.length) lines.push(`  Services removed: ${names(plan.removeServices)}`);
  for (const m of plan.movedNodePorts)
    lines.push(
      `  nodePort moved: ${m.service} ${m.from.join(',')} -> ${m.to.join(',') || 'assigned by Kubernetes'}`,
    );
  if (plan.noop) lines.push('  nothing changes');
  return lines.join('\n');
}
