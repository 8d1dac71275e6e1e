import { hostPort, type Endpoint } from '../core/endpoints.js';
import { renderTable } from './table.js';

const dash = (v: string | number | null) => (v === null ? '-' : String(v));

/** The endpoints table; wide adds the pod IP, the Service type and the in-cluster DNS name. */
export function formatEndpoints(rows: (Endpoint & { probe?: string })[], wide: boolean): string {
  const probed = rows.some((r) => r.probe !== undefined);
  const head = ['POD', 'READY', 'NODE', 'ADDRESS', 'ADDRESS-TYPE', 'PORT', 'PROTOCOL', 'SERVICE', 'STATUS'];
  if (probed) head.push('PROBE');
  if (wide) head.push('POD-IP', 'SERVICE-TYPE', 'DNS');
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
      ];
      if (probed) row.push(r.probe ?? '-');
      if (wide) row.push(dash(r.podIP), dash(r.serviceType), r.dns);
      return row;
    }),
  );
}

/** One host:port per line, Ready endpoints only, for shell scripts. */
export function formatAddresses(rows: Endpoint[]): string {
  return rows
    .map(hostPort)
    .filter((x): x is string => x !== undefined)
    .join('\n');
}
