import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { clusterEnv, TOOLS } from '../test/support/tools.js';

/** Runs a command to completion; its stdout, or an error with its stderr. */
export function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 512 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

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
