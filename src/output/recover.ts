import type { RecoverResult } from '../ops/recover.js';
import { renderTable } from './table.js';

/** The pods of the release on lost nodes: stuck Terminating, or at risk of it. */
export function formatLostPods(result: RecoverResult, opts: { headers?: boolean } = {}): string {
  const lost = result.pods.filter((p) => p.state === 'stuck' || p.state === 'at-risk');
  return renderTable(
    ['POD', 'NODE', 'NODE-READY', 'FOR', 'POD-STATE', 'STATE', 'OUT-OF-SERVICE'],
    lost.map((p) => [
      p.pod,
      p.node ?? '-',
      p.nodeReady ?? 'missing',
      p.forSeconds === null ? '-' : `${p.forSeconds}s`,
      p.state === 'stuck' ? 'stuck Terminating' : 'at risk',
      p.roomState,
      p.outOfService ? 'yes' : 'no',
    ]),
    opts,
  );
}

/** The replacement pods a recovery brought up, with the endpoint each answers at. */
export function formatReplacements(result: RecoverResult, opts: { headers?: boolean } = {}): string {
  return renderTable(
    ['POD', 'NODE', 'ENDPOINT', 'STATUS'],
    result.replacements.map((r) => [r.pod, r.node ?? '-', r.endpoint ?? '-', r.status]),
    opts,
  );
}
