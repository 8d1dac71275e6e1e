import type { StatusReport } from '../core/status.js';
import { renderTable } from './table.js';

/** The human view of `status`: release line, replicas, one row per ordinal, Redis, then problems. */
export function formatStatus(r: StatusReport): string {
  const lines: string[] = [];
  lines.push(
    `RELEASE ${r.release.name} (namespace ${r.release.namespace}): chart ${r.release.chart}, app ${r.release.appVersion}, revision ${r.release.revision}, ${r.release.status}`,
  );
  lines.push(
    `REPLICAS desired ${r.replicas.desired}, current ${r.replicas.current}, ready ${r.replicas.ready} (release values: ${r.replicas.inRelease})`,
  );
  lines.push('');
  lines.push(
    renderTable(
      ['ORDINAL', 'POD', 'PHASE', 'READY', 'NODE', 'SERVICE', 'NODEPORT', 'ENDPOINT'],
      r.ordinals.map((o) => [
        o.ordinal,
        o.pod,
        o.phase,
        o.ready ? 'yes' : 'no',
        o.node,
        o.service,
        o.nodePort ?? '-',
        o.serviceExists ? (o.endpointReady ? 'ready' : 'none') : '-',
      ]),
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
  if (r.healthy) lines.push('HEALTHY');
  else
    lines.push(
      `DEGRADED (${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}):`,
      ...r.problems.map((p) => `  - ${p.message}`),
    );
  return lines.join('\n');
}
