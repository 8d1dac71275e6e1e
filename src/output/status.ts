import type { AutoscalerStatus, Problem, RolloutStatus, StatusReport } from '../core/status.js';
import { countsPhrase } from '../core/rooms.js';
import { formatStatusBudget } from './budget.js';
import { LISTED, ordinalRanges } from './ranges.js';
import { renderTable } from './table.js';

/**
 * The human view of `status`: release line, replicas, one row per ordinal,
 * Redis, then the verdict with the problems grouped; with `leadWithSummary`
 * (a terminal), the verdict also comes before the table.
 */
export function formatStatus(
  r: StatusReport,
  leadWithSummary = false,
  opts: { headers?: boolean } = {},
): string {
  const lines: string[] = [];
  lines.push(
    `RELEASE ${r.release.name} (namespace ${r.release.namespace}): chart ${r.release.chart}, app ${r.release.appVersion}, revision ${r.release.revision}, ${r.release.status}`,
  );
  lines.push(
    `REPLICAS desired ${r.replicas.desired}, current ${r.replicas.current}, ready ${r.replicas.ready} (release values: ${r.replicas.inRelease})`,
  );
  lines.push(`ROOMS ${countsPhrase(r.rooms)}`);
  const { outdatedFree = [], inUseOutdated = [], cordonedOutdated = [] } = r.rollout ?? {};
  if (r.rollout && (outdatedFree.length || inUseOutdated.length || cordonedOutdated.length))
    lines.push(`ROLLOUT ${rolloutPhrase(r.rollout)}`);
  if (r.autoscaler !== undefined) lines.push(`AUTOSCALER ${autoscalerPhrase(r.autoscaler)}`);
  lines.push(...formatStatusBudget(r.budget));
  const head = lines.length;
  lines.push('');
  lines.push(
    renderTable(
      ['ORDINAL', 'POD', 'PHASE', 'READY', 'NODE', 'SERVICE', 'NODEPORT', 'ENDPOINT', 'STATE'],
      r.ordinals.map((o) => [
        o.ordinal,
        o.pod,
        o.phase,
        o.ready ? 'yes' : 'no',
        o.node,
        o.service,
        o.nodePort ?? '-',
        o.serviceExists ? (o.endpointReady ? 'ready' : 'none') : '-',
        o.state ?? '-',
      ]),
      opts,
    ),
  );
  if (r.redis) {
    lines.push('');
    lines.push(
      `REDIS ready ${r.redis.ready ? 'yes' : 'no'}, PVC ${r.redis.pvc}, Secret ${r.redis.secret ? 'present' : 'missing'}`,
    );
  }
  lines.push('');
  if (r.notes.length) lines.push('NOTES:', ...r.notes.map((n) => `  - ${n}`), '');
  lines.push(...verdict(r));
  if (!leadWithSummary) return lines.join('\n');
  // On a terminal the verdict comes first too, so a long table does not bury it.
  return [...lines.slice(0, head), '', ...verdict(r), ...lines.slice(head)].join('\n');
}

/** HEALTHY, or DEGRADED and the problems, grouped by kind (see groupProblems). */
/**
 * "active: buffer 3, min 3, max 20, scale-down delay 300s (kubectl-expose-pods/host/41/ab12 since ...)",
 * "none", or one whose Lease lapsed: "not running (last renewed ... by ...)".
 */
export function autoscalerPhrase(a: AutoscalerStatus | null): string {
  if (!a) return 'none';
  const p = a.policy;
  const settings = p
    ? `buffer ${p.buffer}, min ${p.min}, max ${p.max}, scale-down delay ${p.scaleDownDelaySeconds}s${p.lead ? ', lead' : ''}`
    : 'settings unknown';
  if (!a.active) return `not running (last renewed ${a.renewedAt ?? 'never'} by ${a.holder}; ${settings})`;
  return `active: ${settings} (${a.holder} since ${a.since ?? 'unknown'})`;
}

/** "rooms on revision rooms-5d9c: 70/100; 27 Free still to replace; 3 in use on older revisions". */
export function rolloutPhrase(r: RolloutStatus): string {
  const parts = [`rooms on revision ${r.revision ?? '?'}: ${r.updated}/${r.total}`];
  if (r.outdatedFree.length)
    parts.push(`${r.outdatedFree.length} Free on older revisions${r.inProgress ? ' (being replaced)' : ''}`);
  if (r.inUseOutdated.length) parts.push(`${r.inUseOutdated.length} in use on older revisions`);
  if (r.cordonedOutdated.length) parts.push(`${r.cordonedOutdated.length} cordoned on older revisions`);
  return parts.join('; ');
}

function verdict(r: StatusReport): string[] {
  if (r.healthy) return ['HEALTHY'];
  return [
    `DEGRADED (${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}):`,
    ...groupProblems(r.problems, r.release.name, r.release.namespace).map((l) => `  - ${l}`),
  ];
}

/**
 * The problems as lines: each kind in order of first appearance; up to three
 * of a kind as they are, more as one line with the ordinals as ranges and the
 * count, so that 500 pods without a Service are one line, not 500.
 */
export function groupProblems(problems: readonly Problem[], release: string, namespace: string): string[] {
  const byKind = new Map<Problem['kind'], Problem[]>();
  for (const p of problems) byKind.set(p.kind, [...(byKind.get(p.kind) ?? []), p]);
  const lines: string[] = [];
  for (const [kind, items] of byKind) {
    const ordinals = items.map((p) => p.ordinal).filter((n): n is number => n !== undefined);
    if (items.length <= LISTED || ordinals.length !== items.length) {
      lines.push(...items.map((p) => p.message));
      continue;
    }
    const which = `${ordinalRanges(ordinals)} (${items.length})`;
    lines.push(summaryLine(kind, which, items, `${release} -n ${namespace}`));
  }
  return lines;
}

function summaryLine(kind: Problem['kind'], which: string, items: Problem[], where: string): string {
  switch (kind) {
    case 'PodNotReady': {
      const reasons = new Map<string, number>();
      for (const p of items) reasons.set(p.reason ?? '?', (reasons.get(p.reason ?? '?') ?? 0) + 1);
      const why = [...reasons].map(([r, n]) => `${r} ${n}`).join(', ');
      return `pods ${which}: not ready (${why}); see why with: kubectl expose-pods status ${where} -o json`;
    }
    case 'PodWithoutService':
      return `pods ${which}: no per-pod Service, so clients cannot reach them from outside; run: kubectl expose-pods scale ${where} --sync`;
    case 'ServiceWithoutPod':
      return `Services of ordinals ${which}: no pod behind them, so clients get connection refused`;
    case 'NodePortCollision':
      return `nodePorts of ordinals ${which}: taken by other Services (the first: ${items[0]?.message ?? ''})`;
    case 'StaleAllocation':
      return `rooms ${which}: Allocated, but their containers restarted since, so their matches are gone; free each with: kubectl expose-pods deallocate ${where.replace(/ -n /, ' POD -n ')}`;
    case 'LBHealthCheckFails':
      return `LoadBalancer rooms ${which}: no ready pod on a Ready node, so their health checks fail on every node and the load balancer sends them nothing`;
    default:
      return `${kind} ${which}: ${items[0]?.message ?? ''}`;
  }
}
