import path from 'node:path';

import { clusterEnv, TOOLS } from '../test/support/tools.js';

export { sh } from '../scripts/lib/run.js';

/** The local control plane's paths: the one reader tests use. */
export { clusterEnv } from '../test/support/tools.js';

/** A Markdown table, as bench/RESULTS.md holds them. */
export function markdownTable(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => ' --- ').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** What a benchmark runs the plugin with: the local cluster's kubeconfig, helm 4 and this node on PATH. */
export function pluginEnv(): NodeJS.ProcessEnv {
  return {
    KUBECONFIG: clusterEnv().KUBECONFIG,
    NO_COLOR: '1',
    PATH: [path.dirname(TOOLS.HELM4), path.dirname(process.execPath), '/usr/bin', '/bin'].join(
      path.delimiter,
    ),
  };
}
