import type { ListReport } from '../ops/list.js';
import { renderTable } from './table.js';

/** The `list` table: one row per release, the verdict of `status` last. */
export function formatList(report: ListReport, opts: { headers?: boolean } = {}): string {
  if (!report.releases.length) {
    return report.namespace === null
      ? 'No expose-pods releases in any namespace.'
      : `No expose-pods releases in namespace ${report.namespace}.`;
  }
  return renderTable(
    [
      'NAMESPACE',
      'NAME',
      'READY',
      'FREE',
      'ALLOCATED',
      'DRAINING',
      'CORDONED',
      'UPDATED',
      'SERVICES',
      'NODEPORTS',
      'REDIS',
      'REVISION',
      'STATUS',
      'HEALTH',
    ],
    report.releases.map((r) => [
      r.namespace,
      r.name,
      `${r.replicas.ready}/${r.replicas.desired}`,
      r.rooms.free,
      r.rooms.allocated,
      r.rooms.draining,
      r.rooms.cordoned,
      // Rooms on the StatefulSet's newest revision, of its replicas: below the total while a rollout runs.
      r.rollout ? `${r.rollout.updated}/${r.rollout.total}` : '-',
      r.services,
      r.nodePorts
        ? r.nodePorts.first === r.nodePorts.last
          ? r.nodePorts.first
          : `${r.nodePorts.first}-${r.nodePorts.last}`
        : '-',
      r.redis,
      r.revision,
      r.status,
      r.healthy ? 'healthy' : `degraded: ${r.problems.join(', ')}`,
    ]),
    opts,
  );
}
