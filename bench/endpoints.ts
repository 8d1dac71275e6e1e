/**
 * Benchmark: `kubectl expose-pods endpoints -o json` against a release of 10,
 * 100 and 1000 replicas on the local control plane, next to the kubectl
 * baseline that reads the same objects (pods, Services, nodes). Prints, per
 * size, the API requests our command sent (counted from the apiserver's audit
 * log, which records only the benchmark's own token user) and the median wall
 * time of each. Figures, never a pass/fail gate. Run: npm run bench
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { CHART, CLI, TOOLS } from '../test/support/tools.js';
import { clusterEnv, markdownTable, sh } from './support.js';

const SIZES = (process.argv[2] ?? '10,100,1000').split(',').map(Number);
const RUNS = 5;
const NS = 'bench';

const cluster = clusterEnv();
const KUBECONFIG = path.join(cluster.CLUSTER_RUN, 'bench.kubeconfig');
const AUDIT = path.join(cluster.CLUSTER_RUN, 'audit.log');
const env = { KUBECONFIG, NO_COLOR: '1' };
const kubectl = (...args: string[]) => sh(TOOLS.KUBECTL, args, { env });
const auditLines = () => readFileSync(AUDIT, 'utf8').split('\n').filter(Boolean).length;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timed(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function waitReady(release: string, n: number): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    const ready = Number(
      kubectl(
        'get',
        'statefulset',
        `${release}-expose-pods`,
        '-n',
        NS,
        '-o',
        'jsonpath={.status.readyReplicas}',
      ) || 0,
    );
    if (ready === n) return;
    if (Date.now() > deadline) throw new Error(`${release}: ${ready}/${n} ready after 10 minutes`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const rows: string[][] = [];
for (const n of SIZES) {
  const release = `bench-${n}`;
  const t0 = Date.now();
  sh(
    TOOLS.HELM4,
    [
      'upgrade',
      '--install',
      release,
      CHART,
      '-n',
      NS,
      '--create-namespace',
      '--set',
      `room.replicas=${n}`,
      '--set',
      'room.podManagementPolicy=Parallel',
      '--set',
      'expose.nodePortBase=null',
      '--set',
      'redis.enabled=false',
      '--set',
      'tests.enabled=false',
    ],
    { env },
  );
  await waitReady(release, n);
  process.stderr.write(`… ${release}: ${n} pods Ready in ${((Date.now() - t0) / 1000).toFixed(0)}s\n`);

  const before = auditLines();
  const out = sh(process.execPath, [CLI, 'endpoints', release, '-n', NS, '-o', 'json'], { env });
  const requests = auditLines() - before;
  const ready = (JSON.parse(out) as { endpoints: { ready: boolean }[] }).endpoints.filter(
    (e) => e.ready,
  ).length;
  if (ready !== n) throw new Error(`${release}: endpoints shows ${ready} Ready of ${n}`);

  const sel = `app.kubernetes.io/instance=${release}`;
  const ours = median(
    Array.from({ length: RUNS }, () =>
      timed(() => sh(process.execPath, [CLI, 'endpoints', release, '-n', NS, '-o', 'json'], { env })),
    ),
  );
  const base = median(
    Array.from({ length: RUNS }, () =>
      timed(() => {
        kubectl('get', 'pods', '-n', NS, '-l', `${sel},app.kubernetes.io/component=room`, '-o', 'json');
        kubectl(
          'get',
          'services',
          '-n',
          NS,
          '-l',
          `${sel},app.kubernetes.io/component=pod-service`,
          '-o',
          'json',
        );
        kubectl('get', 'nodes', '-o', 'json');
      }),
    ),
  );
  rows.push([String(n), String(requests), ours.toFixed(0), base.toFixed(0), (ours / base).toFixed(2)]);
  sh(TOOLS.HELM4, ['uninstall', release, '-n', NS, '--wait'], { env });
}

const head = [
  'replicas',
  'API requests (endpoints)',
  'endpoints -o json, median ms',
  'kubectl baseline (3 gets), median ms',
  'ratio',
];
console.log(markdownTable(head, rows));
console.log(`\n${RUNS} runs each; node ${process.version}; ${new Date().toISOString()}`);
