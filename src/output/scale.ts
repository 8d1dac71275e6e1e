import type { EndpointChange } from '../core/endpoint-changes.js';
import { hostPort } from '../core/endpoints.js';
import type { PlannedService, ScalePlan } from '../core/scale.js';
import { formatBudgetChange } from './budget.js';
import { formatOrderedStart } from './change.js';
import { LISTED, ordinalRanges } from './ranges.js';

const list = (items: string[]) => (items.length ? items.join(', ') : '-');

/** Up to this many names are listed one by one; longer lists of consecutive ordinals are a range. */
const SPELLED_OUT = 6;

/** "rooms-2, rooms-3" or, when long, "rooms-2 .. rooms-40 (39)"; the order given is kept. */
export function names(items: string[]): string {
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
export function formatPlan(plan: ScalePlan, deleteData: boolean, deleteInUse = false): string {
  const head =
    plan.from.live === plan.from.release
      ? `Scale release ${plan.release} in namespace ${plan.namespace}: ${plan.from.release} -> ${plan.to} replicas`
      : `Scale release ${plan.release} in namespace ${plan.namespace}: ${plan.from.live} running (release says ${plan.from.release}) -> ${plan.to} replicas`;
  if (plan.noop) return `${head}\n  nothing to change: the release and the cluster already have ${plan.to}`;
  const lines = [
    head,
    `  pods to create:     ${names(plan.createPods)}`,
    `  pods to remove:     ${names(plan.removePods)}${plan.removeReadyPods.length ? `  (${plan.removeReadyPods.length} Ready now: their clients are cut off)` : ''}`,
    ...(plan.removePods.length
      ? [
          `  rooms in use:       ${names(plan.removeInUse)}  ${
            deleteInUse
              ? '(--delete-in-use: removed with their matches)'
              : 'every room to remove is marked Draining first (no new match); the scale waits, within --timeout, until these are freed, and on timeout changes nothing and leaves them Draining'
          }`,
        ]
      : []),
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
  if (plan.budget) lines.push(...formatBudgetChange(plan.budget, (name) => `  ${name.padEnd(20)}`));
  if (plan.orderedStart) lines.push(`  note: ${formatOrderedStart(plan.orderedStart)}`);
  for (const n of plan.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

/** Up to this many endpoint changes are shown one per line; more are summarised per kind. */
export const CHANGES_SPELLED_OUT = 10;

const SIGN = { ADDED: '+', MODIFIED: '~', DELETED: '-' } as const;
const WORD = { ADDED: 'added', MODIFIED: 'changed', DELETED: 'removed' } as const;

function changeLine(c: EndpointChange): string {
  const e = c.endpoint;
  const where = hostPort(e) ?? (e.address && e.port !== null ? `${e.address}:${e.port}` : '-');
  return `${SIGN[c.type]} ${e.pod}   ${where}   ${c.type === 'DELETED' ? 'removed' : e.status}`;
}

/**
 * The endpoints a scale added, changed and removed, with the address a client
 * uses. At fleet size each kind is one line (ordinal ranges, a count per
 * status) with its first rooms as examples; `where` ("rooms -n game") names
 * the command that lists every one.
 */
export function formatChanges(changes: EndpointChange[], where?: string): string {
  if (!changes.length) return 'Endpoints: no change.';
  if (changes.length <= CHANGES_SPELLED_OUT)
    return ['Endpoints:', ...changes.map((c) => `  ${changeLine(c)}`)].join('\n');
  const lines = [`Endpoints (${changes.length} changed):`];
  for (const type of ['ADDED', 'MODIFIED', 'DELETED'] as const) {
    const of = changes.filter((c) => c.type === type);
    if (!of.length) continue;
    const statuses = new Map<string, number>();
    for (const c of of) statuses.set(c.endpoint.status, (statuses.get(c.endpoint.status) ?? 0) + 1);
    const counts = type === 'DELETED' ? '' : ` (${[...statuses].map(([s, n]) => `${s} ${n}`).join(', ')})`;
    lines.push(
      `  ${SIGN[type]} ${of.length} ${WORD[type]}: ordinals ${ordinalRanges(of.map((c) => c.endpoint.ordinal))}${counts}`,
    );
    lines.push(...of.slice(0, LISTED).map((c) => `      ${changeLine(c)}`));
    if (of.length > LISTED) lines.push(`      ... and ${of.length - LISTED} more`);
  }
  if (where) lines.push(`  every endpoint: kubectl expose-pods endpoints ${where}`);
  return lines.join('\n');
}

/** The progress line while a change waits for rooms in use to be freed. */
export function inUseLine(inUse: readonly string[]): string {
  return `waiting for ${inUse.length} room(s) in use to be freed (Draining, no new match): ${names([...inUse])}`;
}
