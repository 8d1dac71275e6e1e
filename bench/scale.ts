/**
 * Benchmark: `kubectl expose-pods scale` 0 -> 100 -> 0 on the local control
 * plane. Prints, per step, the wall time of the command, the time until every
 * per-pod Service exists and has a ready endpoint (EndpointSlices), and the
 * Helm revisions the step created (it should be exactly one). Figures, never a
 * pass/fail gate. Run: npm run bench (or node --import tsx bench/scale.ts 100)
 */

import { CHART, CLI, eventually, TOOLS } from '../test/support/tools.js';
import { markdownTable, pluginEnv, sh } from './support.js';

const N = Number(process.argv[2] ?? 100);
const NS = 'bench-scale';
const RELEASE = 'rooms';

const env = pluginEnv();
const kubectl = (...args: string[]) => sh(TOOLS.KUBECTL, args, { env });
const revisions = () =>
  (JSON.parse(sh(TOOLS.HELM4, ['history', RELEASE, '-n', NS, '-o', 'json'], { env })) as unknown[]).length;

/** Per-pod Services of the release that have at least one ready endpoint. */
function servedServices(): number {
  const slices = JSON.parse(
    kubectl(
      'get',
      'endpointslices',
      '-n',
      NS,
      '-l',
      `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=pod-service`,
      '-o',
      'json',
    ),
  ) as {
    items: {
      metadata: { labels: Record<string, string> };
      endpoints?: { conditions?: { ready?: boolean } }[] | null;
    }[];
  };
  const served = new Set<string>();
  for (const s of slices.items) {
    if ((s.endpoints ?? []).some((e) => e.conditions?.ready !== false))
      served.add(s.metadata.labels['kubernetes.io/service-name'] ?? '');
  }
  return served.size;
}
const podServices = () =>
  (
    JSON.parse(
      kubectl(
        'get',
        'services',
        '-n',
        NS,
        '-l',
        `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=pod-service`,
        '-o',
        'json',
      ),
    ) as { items: unknown[] }
  ).items.length;

sh(
  TOOLS.HELM4,
  [
    'upgrade',
    '--install',
    RELEASE,
    CHART,
    '-n',
    NS,
    '--create-namespace',
    '--set',
    'room.replicas=0',
    '--set',
    'expose.nodePortBase=null',
    '--set',
    'redis.enabled=false',
    '--set',
    'tests.enabled=false',
    '--wait',
  ],
  { env },
);

const rows: string[][] = [];
for (const [from, to] of [
  [0, N],
  [N, 0],
] as const) {
  const before = revisions();
  const t0 = Date.now();
  sh(
    process.execPath,
    [CLI, 'scale', RELEASE, '-n', NS, '--replicas', String(to), '--yes', '--timeout', '10m'],
    { env },
  );
  const command = Date.now() - t0;
  await eventually(
    `${to} Services with endpoints`,
    () => (podServices() === to && servedServices() === to) || undefined,
    10 * 60_000,
  );
  const settled = Date.now() - t0;
  rows.push([
    `${from} -> ${to}`,
    (command / 1000).toFixed(1),
    (settled / 1000).toFixed(1),
    String(revisions() - before),
  ]);
  process.stderr.write(`… ${from} -> ${to} done\n`);
}
sh(TOOLS.HELM4, ['uninstall', RELEASE, '-n', NS, '--wait'], { env });

const head = [
  'step',
  'scale command, s',
  'until every Service has its endpoint, s',
  'Helm revisions created',
];
console.log(markdownTable(head, rows));
console.log(
  `\nreplicas ${N}; chart default podManagementPolicy (OrderedReady); node ${process.version}; ${new Date().toISOString()}`,
);
