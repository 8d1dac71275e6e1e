import path from 'node:path';

import { ALLOCATION_ID_ANNOTATION, STATE_LABEL } from '../src/core/rooms.js';
import { CHART, clusterEnv, TOOLS } from '../test/support/tools.js';
import { sh } from '../scripts/lib/run.js';

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

/**
 * `helm upgrade --install` of the chart as the fleet benchmarks run it: `replicas` rooms created in
 * parallel, no fixed nodePorts, no Redis, no chart tests. Returns once helm has applied it.
 */
export function installRooms(release: string, namespace: string, replicas: number): void {
  sh(
    TOOLS.HELM4,
    [
      'upgrade',
      '--install',
      release,
      CHART,
      '-n',
      namespace,
      '--create-namespace',
      '--set',
      `room.replicas=${replicas}`,
      '--set',
      'room.podManagementPolicy=Parallel',
      '--set',
      'expose.nodePortBase=null',
      '--set',
      'redis.enabled=false',
      '--set',
      'tests.enabled=false',
    ],
    { env: pluginEnv() },
  );
}

/** Every room of the release Free again: the allocation marks removed from every pod. */
export function freeAllRooms(release: string, namespace: string): void {
  const rooms = `app.kubernetes.io/instance=${release},app.kubernetes.io/component=room`;
  const kubectl = (...args: string[]) => sh(TOOLS.KUBECTL, args, { env: pluginEnv() });
  kubectl(
    'label',
    'pods',
    '-n',
    namespace,
    '-l',
    rooms,
    `${STATE_LABEL}-`,
    'expose-pods.io/draining-',
    '--overwrite',
  );
  kubectl('annotate', 'pods', '-n', namespace, '-l', rooms, `${ALLOCATION_ID_ANNOTATION}-`, '--overwrite');
}
