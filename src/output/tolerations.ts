import { formatSeconds, type TolerationsReport } from '../core/tolerations.js';
import type { TolerationsChange } from '../ops/tolerations.js';
import { renderTable } from './table.js';

/** The human view of `tolerations`: one row per pod, then the failover timing each toleration gives. */
export function formatTolerations(report: TolerationsReport, opts: { headers?: boolean } = {}): string {
  const grace = report.graceSecondsAssumed;
  return [
    renderTable(
      ['POD', 'NODE', 'NOT-READY', 'UNREACHABLE', 'FROM', 'TEMPLATE'],
      report.pods.map((p) => [
        p.pod,
        p.node ?? '-',
        formatSeconds(p.notReadySeconds),
        formatSeconds(p.unreachableSeconds),
        p.source,
        p.currentTemplate ? 'current' : 'older: restart to apply',
      ]),
      opts,
    ),
    '',
    `Estimated time from a node's last heartbeat to eviction (assuming --node-monitor-grace-period ${grace}s; the API does not expose it):`,
    ...report.failover.map(
      (f) =>
        `  ${f.kind.padEnd(11)} ${grace}s + ${formatSeconds(f.tolerationSeconds)} (${f.source}) = ${f.evictionAfterSeconds === null ? 'never evicted' : formatSeconds(f.evictionAfterSeconds)}`,
    ),
    'Then StatefulSet pods stay Terminating until someone confirms the node is gone: force-delete the pod, or taint the node node.kubernetes.io/out-of-service=nodeshutdown:NoExecute.',
  ].join('\n');
}

/** What `tolerations --not-ready/--unreachable` is about to change, said before the rolling restart. */
export function formatTolerationsChange(c: TolerationsChange): string {
  const show = (v: number | null | undefined) => (v === undefined ? 'admission default' : formatSeconds(v));
  const parts = [
    c.to.notReadySeconds !== undefined
      ? `not-ready ${show(c.from.notReadySeconds)} -> ${formatSeconds(c.to.notReadySeconds)}`
      : '',
    c.to.unreachableSeconds !== undefined
      ? `unreachable ${show(c.from.unreachableSeconds)} -> ${formatSeconds(c.to.unreachableSeconds)}`
      : '',
  ].filter(Boolean);
  const head = `release ${c.release} in namespace ${c.namespace}: ${parts.join(', ')}`;
  if (c.strategy !== 'OnDelete')
    return `${head}; the StatefulSet restarts its ${c.pods.length} pod(s) one by one`;
  const inUse = c.inUse ?? [];
  return `${head}; ${c.pods.length} Free room(s) are replaced in batches (--max-unavailable)${inUse.length ? `, and ${inUse.length} room(s) in use keep their tolerations until their match ends (deallocate replaces each)` : ''}`;
}
