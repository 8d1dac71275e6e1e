import type { EndpointChange } from '../core/endpoint-changes.js';
import { hostPort, type Endpoint } from '../core/endpoints.js';
import { renderStructured } from './format.js';
import type { AddressMove } from '../core/probe.js';
import { nodePortScope, type NodePortScopeWarning } from '../core/nodeport-scope.js';
import { roomList } from './ranges.js';
import { renderTable } from './table.js';

const dash = (v: string | number | null) => (v === null ? '-' : String(v));

/**
 * The endpoints table; wide adds the pod IP, the Service type and the
 * in-cluster DNS name; `headers: false` leaves the header row out.
 */
export function formatEndpoints(
  rows: (Endpoint & { probe?: string })[],
  wide: boolean,
  opts: { headers?: boolean } = {},
): string {
  const probed = rows.some((r) => r.probe !== undefined);
  const head = [
    'POD',
    'READY',
    'NODE',
    'ADDRESS',
    'ADDRESS-TYPE',
    'PORT',
    'PROTOCOL',
    'SERVICE',
    'STATUS',
    'STATE',
  ];
  if (probed) head.push('PROBE');
  if (wide) head.push('POD-IP', 'SERVICE-TYPE', 'DNS', 'REVISION', 'ALLOCATION');
  return renderTable(
    head,
    rows.map((r) => {
      const address = r.address ?? (r.serviceType === 'LoadBalancer' && r.service ? '<pending>' : '-');
      const row = [
        r.pod,
        r.ready ? 'true' : 'false',
        dash(r.node),
        address,
        dash(r.addressType),
        dash(r.port),
        dash(r.protocol),
        dash(r.service),
        r.status,
        stateCell(r),
      ];
      if (probed) row.push(r.probe ?? '-');
      if (wide)
        row.push(
          dash(r.podIP),
          dash(r.serviceType),
          r.dns,
          r.revision ? `${r.revision}${r.outdated ? ' (outdated)' : ''}` : '-',
          allocationCell(r),
        );
      return row;
    }),
    opts,
  );
}

/** Allocated, Draining, Cordoned or Free ("-" without a pod); an allocated room that drains, is cordoned or looks stale says so. */
export function stateCell(r: Endpoint): string {
  if (r.state === null) return '-';
  const notes = [
    r.state === 'Allocated' && r.draining ? 'draining' : '',
    r.state === 'Allocated' && r.cordoned ? 'cordoned' : '',
    r.allocation?.stale ? 'stale' : '',
  ];
  const said = notes.filter(Boolean);
  return said.length ? `${r.state} (${said.join(', ')})` : r.state;
}

/** -o wide: the allocation's id, when the room was allocated and what the allocator attached (key=value, ...). */
function allocationCell(r: Endpoint): string {
  if (!r.allocation) return '-';
  const meta = Object.entries(r.allocation.metadata).map(([k, v]) => `${k}=${v}`);
  return [r.allocation.id ?? '', r.allocation.allocatedAt ?? '', ...meta].filter(Boolean).join(' ') || '-';
}

/** One host:port per line, Ready endpoints only, for shell scripts. */
export function formatAddresses(rows: Endpoint[]): string {
  return rows
    .map(hostPort)
    .filter((x): x is string => x !== undefined)
    .join('\n');
}

/**
 * The warning for addresses shown (in rows of `shown` pods) that kube-proxy's
 * published configuration does not accept NodePorts on; undefined when none is shown.
 * Names at most five addresses, with how many rooms show each. One line; the
 * commands leave it out when --address-type was given: the user chose.
 */
export function formatScopeWarning(w: NodePortScopeWarning, shown: ReadonlySet<string>): string | undefined {
  const addresses = w.addresses.filter((a) => a.pods.some((p) => shown.has(p)));
  if (!addresses.length) return undefined;
  const { kubeProxy } = w;
  const scope = nodePortScope(kubeProxy);
  const where =
    scope.kind === 'cidrs'
      ? `on addresses in ${scope.cidrs.join(', ')}`
      : "on each node's primary address, its first InternalIP";
  const set = kubeProxy.nodePortAddresses.length ? kubeProxy.nodePortAddresses.join(',') : 'unset';
  const list = addresses.slice(0, 5).map((a) => {
    const rooms = a.pods.filter((p) => shown.has(p)).length;
    const primary = a.primary.length ? `, primary ${a.primary.join(', ')}` : '';
    return `${a.address} (${a.addressType} of ${a.node}${primary}; ${rooms} room${rooms === 1 ? '' : 's'})`;
  });
  if (addresses.length > 5) list.push(`and ${addresses.length - 5} more`);
  return `kube-proxy (${kubeProxy.source}: ${kubeProxy.mode}, nodePortAddresses ${set}) accepts NodePorts only ${where}, not on ${list.join(', ')}: these answer only through a NAT (as a cloud's for an ExternalIP). Check with --probe, or choose --address-type InternalIP.`;
}

/** The warning for Ready rows whose only address is internal; undefined when there are none. */
export function formatInternalOnly(rows: readonly Endpoint[]): string | undefined {
  if (!rows.length) return undefined;
  const types = [...new Set(rows.map((r) => r.addressType))].join(', ');
  return `${roomList(rows)}: only an internal address (${types}); clients outside the cluster usually cannot reach ${rows.length === 1 ? 'it' : 'them'}`;
}

/**
 * The warnings for rows --probe moved to another address of their node: one
 * per pair of addresses (rooms on one node share it), naming its rooms.
 */
export function formatMoves(moves: readonly AddressMove[], rows: readonly Endpoint[]): string[] {
  const ordinal = new Map(rows.map((r) => [r.pod, r.ordinal]));
  const byPair = new Map<string, { move: AddressMove; rooms: { pod: string; ordinal: number }[] }>();
  for (const m of moves) {
    const key = `${m.from.address} ${m.from.probe} ${m.to.address}`;
    const entry = byPair.get(key) ?? { move: m, rooms: [] };
    entry.rooms.push({ pod: m.pod, ordinal: ordinal.get(m.pod) ?? -1 });
    byPair.set(key, entry);
  }
  return [...byPair.values()].map(
    ({ move: m, rooms }) =>
      `${roomList(rooms)}: ${m.from.address} (${m.from.type}) ${m.from.probe}, ${m.to.address} (${m.to.type}) answers: shown instead. kube-proxy serves NodePorts only on the addresses its --nodeport-addresses allows; in nftables mode that is, by default, each node's primary address (its InternalIP).`,
  );
}

/** One `--watch -o json|yaml` event: a changed row, in the envelope programs read (schemaVersion 1). */
export function formatWatchEvent(
  c: EndpointChange,
  where: { release: string; namespace: string; time: string },
  format: 'json' | 'yaml',
): string {
  const event = {
    schemaVersion: 1,
    type: c.type,
    time: where.time,
    release: where.release,
    namespace: where.namespace,
    endpoint: c.endpoint,
  };
  return format === 'json' ? `${JSON.stringify(event)}\n` : `---\n${renderStructured(event, 'yaml')}`;
}

/**
 * One `--watch` table: a head naming the release and the time, then the rows.
 * On a terminal each frame clears the screen, so it replaces the last; in a
 * pipe frames follow each other, a blank line apart.
 */
export function formatWatchFrame(
  rows: Endpoint[],
  where: { release: string; namespace: string; time: string },
  opts: { wide: boolean; tty: boolean; headers?: boolean },
): string {
  const table = rows.length
    ? formatEndpoints(rows, opts.wide, { headers: opts.headers })
    : `No endpoints match (release ${where.release}).`;
  const head = `release ${where.release} in namespace ${where.namespace}, ${where.time}${opts.tty ? ' (Ctrl-C to stop)' : ''}`;
  return opts.tty ? `\x1b[H\x1b[2J${head}\n${table}\n` : `${head}\n${table}\n\n`;
}
