/**
 * Benchmark: a fleet of rooms on the local control plane, as a user drives it.
 * install 1000 (Parallel), scale 1000 -> 2500, endpoints -o json and status at
 * 2500 (next to kubectl listing the same objects), scale 2500 -> 1000, and the
 * size of Helm's release Secret at each size (Kubernetes caps a Secret at 1 MiB).
 * Three extra KWOK nodes of 1000 pod slots each make room for 2500. Figures,
 * never a pass/fail gate. Run: npm run bench (or node --import tsx bench/fleet.ts 1000 2500)
 */
import { spawnSync } from 'node:child_process';

import { CLI, TOOLS } from '../test/support/tools.js';
import { markdownTable, pluginEnv, sh } from './support.js';

const SMALL = Number(process.argv[2] ?? 1000);
const LARGE = Number(process.argv[3] ?? 2500);
const NS = 'bench-fleet';
const RELEASE = 'fleet';
const EXTRA_NODES = ['kwok-fleet-1', 'kwok-fleet-2', 'kwok-fleet-3'];

const env = pluginEnv();
const kubectl = (...args: string[]) => sh(TOOLS.KUBECTL, args, { env });

/** Runs the plugin; its wall time in seconds, and its output. */
function plugin(...args: string[]): {
  seconds: number;
  stdout: string;
  stderr: string;
  status: number | null;
} {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 512 * 1024 * 1024,
  });
  const seconds = (Date.now() - t0) / 1000;
  if (r.status !== 0 && r.status !== 8)
    throw new Error(`${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return { seconds, stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function timed(fn: () => unknown): number {
  const t0 = Date.now();
  fn();
  return (Date.now() - t0) / 1000;
}

/** The latest Helm release Secret of the release: its stored size in bytes (base64 of gzip'd JSON). */
function helmSecretBytes(): number {
  const list = JSON.parse(
    kubectl('get', 'secrets', '-n', NS, '-l', `owner=helm,name=${RELEASE}`, '-o', 'json'),
  ) as { items: { metadata: { labels: Record<string, string> }; data: { release: string } }[] };
  const latest = list.items.sort(
    (a, b) => Number(b.metadata.labels.version) - Number(a.metadata.labels.version),
  )[0];
  return Buffer.from(latest?.data.release ?? '', 'base64').length;
}

function addNodes(): void {
  const nodes = EXTRA_NODES.map((name, i) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
      labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': name, type: 'kwok' },
    },
    status: {
      addresses: [{ type: 'InternalIP', address: `198.51.100.${200 + i}` }],
      allocatable: { cpu: '64', memory: '512Gi', pods: '1000', 'ephemeral-storage': '1Ti' },
      capacity: { cpu: '64', memory: '512Gi', pods: '1000', 'ephemeral-storage': '1Ti' },
    },
  }));
  const r = spawnSync(TOOLS.KUBECTL, ['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: nodes }),
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) throw new Error(`adding nodes failed:\n${r.stderr}`);
  kubectl('wait', '--for=condition=Ready', ...EXTRA_NODES.map((n) => `node/${n}`), '--timeout=60s');
}

const rows: string[][] = [];
const row = (step: string, seconds: number, note: string) => {
  rows.push([step, seconds.toFixed(1), note]);
  process.stderr.write(`… ${step}: ${seconds.toFixed(1)} s\n`);
};

addNodes();
try {
  const install = plugin(
    'install',
    RELEASE,
    '-n',
    NS,
    '--create-namespace',
    '--replicas',
    String(SMALL),
    '--no-redis',
    '--set',
    'expose.nodePortBase=null',
    '--set',
    'room.podManagementPolicy=Parallel',
    '--set',
    'tests.enabled=false',
    '--yes',
    '--timeout',
    '10m',
  );
  row(
    `install ${SMALL} (Parallel)`,
    install.seconds,
    `Helm Secret ${(helmSecretBytes() / 1024).toFixed(0)} KiB`,
  );

  const up = plugin('scale', RELEASE, '-n', NS, '--replicas', String(LARGE), '--yes', '--timeout', '15m');
  row(
    `scale ${SMALL} -> ${LARGE}`,
    up.seconds,
    `Helm Secret ${(helmSecretBytes() / 1024).toFixed(0)} KiB; output ${up.stdout.split('\n').length} lines`,
  );

  const endpoints = plugin('endpoints', RELEASE, '-n', NS, '-o', 'json');
  const rowsOut = (JSON.parse(endpoints.stdout) as { endpoints: unknown[] }).endpoints.length;
  row(`endpoints -o json at ${LARGE}`, endpoints.seconds, `${rowsOut} rows`);
  const sel = `app.kubernetes.io/instance=${RELEASE}`;
  const kubectlList = timed(() =>
    kubectl('get', 'statefulsets,pods,services,nodes', '-n', NS, '-l', sel, '-o', 'json'),
  );
  row(
    `kubectl get statefulsets,pods,services,nodes -o json at ${LARGE} (for comparison)`,
    kubectlList,
    'the same objects, by label',
  );

  const status = plugin('status', RELEASE, '-n', NS);
  const json = JSON.parse(plugin('status', RELEASE, '-n', NS, '-o', 'json').stdout) as {
    budget: { nodePorts?: { used: number; total: number }; podSlots?: { used: number; total: number } };
  };
  row(
    `status at ${LARGE}`,
    status.seconds,
    `${status.stdout.split('\n').length} lines; NodePorts ${json.budget.nodePorts?.used ?? '?'} of ${json.budget.nodePorts?.total ?? '?'}, pod slots ${json.budget.podSlots?.used ?? '?'} of ${json.budget.podSlots?.total ?? '?'}`,
  );

  const down = plugin('scale', RELEASE, '-n', NS, '--replicas', String(SMALL), '--yes', '--timeout', '15m');
  row(`scale ${LARGE} -> ${SMALL}`, down.seconds, `Helm Secret ${(helmSecretBytes() / 1024).toFixed(0)} KiB`);
} finally {
  spawnSync(process.execPath, [CLI, 'uninstall', RELEASE, '-n', NS, '--yes'], {
    env: { ...process.env, ...env },
  });
  spawnSync(TOOLS.KUBECTL, ['delete', 'namespace', NS, '--wait=false'], { env: { ...process.env, ...env } });
  spawnSync(TOOLS.KUBECTL, ['delete', 'node', ...EXTRA_NODES], { env: { ...process.env, ...env } });
}

console.log(markdownTable(['step', 'wall time, s', 'what it showed'], rows));
console.log(
  `\n${SMALL} and ${LARGE} rooms, no Redis, nodePorts assigned by Kubernetes; 3 KWOK nodes of 500 pod slots and 3 of 1000; node ${process.version}; ${new Date().toISOString()}`,
);
