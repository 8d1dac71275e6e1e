import type { EndpointChange } from '../core/endpoint-changes.js';
import { hostPort } from '../core/endpoints.js';
import { NODE_PORT_WARN_PERCENT } from '../core/release-change.js';
import type { PlannedService, ScalePlan } from '../core/scale.js';

const list = (items: string[]) => (items.length ? items.join(', ') : '-');

/** Up to this many names are listed one by one; longer lists of consecutive ordinals are a range. */
const SPELLED_OUT = 6;

/** "rooms-2, rooms-3" or, when long, "rooms-2 .. rooms-40 (39)"; the order given is kept. */
function names(items: string[]): string {
  if (items.length <= SPELLED_OUT) return list(items);
  return `${items[0] ?? ''} .. ${items[items.length - 1] ?? ''} (${items.length})`;
}

function services(s: PlannedService[]): string {
  if (s.length <= SPELLED_OUT)
    return list(s.map((x) => `${x.name} (nodePort ${x.nodePort ?? 'assigned by Kubernetes'})`));
  const first = s[0];
  const last = s[s.length - 1];
  const ports =
    first?.nodePort != null && last?.nodePort != null
      ? `nodePorts ${first.nodePort} .. ${last.nodePort}`
      : 'nodePorts assigned by Kubernetes';
  return `${first?.name ?? ''} .. ${last?.name ?? ''} (${s.length}; ${ports})`;
}

/** The plan, as `scale` prints it before doing anything (and as all of --dry-run). */
export function formatPlan(plan: ScalePlan, deleteData: boolean): string {
  const head =
    plan.from.live === plan.from.release
      ? `Scale release ${plan.release} in namespace ${plan.namespace}: ${plan.from.release} -> ${plan.to} replicas`
      : `Scale release ${plan.release} in namespace ${plan.namespace}: ${plan.from.live} running (release says ${plan.from.release}) -> ${plan.to} replicas`;
  if (plan.noop) return `${head}\n  nothing to change: the release and the cluster already have ${plan.to}`;
  const lines = [
    head,
    `  pods to create:     ${names(plan.createPods)}`,
    `  pods to remove:     ${names(plan.removePods)}${plan.removeReadyPods.length ? `  (${plan.removeReadyPods.length} Ready now: their clients are cut off)` : ''}`,
    `  Services to add:    ${services(plan.addServices)}`,
    `  Services to remove: ${services(plan.removeServices)}`,
  ];
  if (plan.pvcsLeftBehind.length) {
    lines.push(
      deleteData
        ? `  PVCs to delete:     ${names(plan.pvcsLeftBehind)}  (--delete-data: their data is lost)`
        : `  PVCs kept:          ${names(plan.pvcsLeftBehind)}  (reattached to the same ordinals if you scale up again; --delete-data deletes them)`,
    );
  }
  if (plan.nodePorts) {
    const { now, after } = plan.nodePorts;
    const warn = after.usedPercent >= NODE_PORT_WARN_PERCENT ? '  (warning: the range is nearly full)' : '';
    lines.push(
      `  NodePorts:          ${now.used} -> ${after.used} of ${now.total} used in ${now.range.first}-${now.range.last} (${now.usedPercent}% -> ${after.usedPercent}%, every Service in the cluster)${warn}`,
    );
  }
  for (const n of plan.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

/** The endpoints a scale added, changed and removed, with the address a client uses. */
export function formatChanges(changes: EndpointChange[]): string {
  if (!changes.length) return 'Endpoints: no change.';
  const sign = { ADDED: '+', MODIFIED: '~', DELETED: '-' } as const;
  return [
    'Endpoints:',
    ...changes.map((c) => {
      const e = c.endpoint;
      const where = hostPort(e) ?? (e.address && e.port !== null ? `${e.address}:${e.port}` : '-');
      return `  ${sign[c.type]} ${e.pod}   ${where}   ${c.type === 'DELETED' ? 'removed' : e.status}`;
    }),
  ].join('\n');
}
