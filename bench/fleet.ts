/**
 * Benchmark: a fleet of rooms on the local control plane, as a user drives it.
 * install 1000 (Parallel); a step of 100 rooms (1000 -> 1100) three ways, in
 * rounds: `scale`, a bare `helm upgrade --reuse-values` of the same change,
 * and the kubectl floor (kubectl apply of the 100 new per-pod Services,
 * kubectl scale, kubectl rollout status); scale 1000 -> 2500, endpoints -o json and status at
 * 2500 (next to kubectl listing the same objects), scale 2500 -> 1000, and the
 * size of Helm's release Secret at each size (Kubernetes caps a Secret at 1 MiB).
 * Three extra KWOK nodes of 1000 pod slots each make room for 2500. Figures,
 * never a pass/fail gate. Run: npm run bench (or node --import tsx bench/fleet.ts 1000 2500)
 */
import { spawnSync } from 'node:child_process';

import { CHART, CLI, TOOLS } from '../test/support/tools.js';
import { markdownTable, pluginEnv, sh } from './support.js';

const SMALL = Number(process.argv[2] ?? 1000);
const LARGE = Number(process.argv[3] ?? 2500);
const NS = 'bench-fleet';
const RELEASE = 'fleet';
const EXTRA_NODES = ['kwok-fleet-1', 'kwok-fleet-2', 'kwok-fleet-3'];
const STEP = 100;
const ROUNDS = Number(process.env.FLEET_ROUNDS ?? 3);

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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** helm 4, as a user runs it against the release. */
const helm = (...args: string[]) => sh(TOOLS.HELM4, args, { env });

/** A bare helm upgrade of the release to `n` rooms, its values reused, waiting for the pods. */
const helmScale = (n: number) =>
  helm(
    'upgrade',
    RELEASE,
    CHART,
    '-n',
    NS,
    '--reuse-values',
    '--set',
    `room.replicas=${n}`,
    '--wait',
    '--timeout',
    '10m',
  );

/**
 * The same step of STEP rooms, three ways, each timed from SMALL and put back
 * afterwards (untimed): our scale; a bare helm upgrade of the same change; and
 * the kubectl floor, which creates the new per-pod Services and scales the
 * StatefulSet without Helm, leaving the release behind (so it is undone by hand).
 */
function stepThreeWays(): { ours: number[]; helm: number[]; kubectl: number[] } {
  const to = SMALL + STEP;
  const sts = `${RELEASE}-expose-pods`;
  // The Services a step adds, as the chart renders them: the kubectl floor applies exactly these.
  const values = helm('get', 'values', RELEASE, '-n', NS, '-o', 'yaml');
  const rendered = spawnSync(
    TOOLS.HELM4,
    [
      'template',
      RELEASE,
      CHART,
      '-n',
      NS,
      '--values',
      '-',
      '--set',
      `room.replicas=${to}`,
      '--show-only',
      'templates/pod-services.yaml',
    ],
    { input: values, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 },
  ).stdout;
  const added = rendered
    .split(/^---$/m)
    .filter((d) => new RegExp(`name: ${sts}-(\\d+)\\s`).test(d))
    .filter((d) => Number(new RegExp(`name: ${sts}-(\\d+)\\s`).exec(d)?.[1]) >= SMALL)
    .join('\n---\n');
  const out = { ours: [] as number[], helm: [] as number[], kubectl: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    out.ours.push(
      plugin('scale', RELEASE, '-n', NS, '--replicas', String(to), '--yes', '--timeout', '10m').seconds,
    );
    plugin('scale', RELEASE, '-n', NS, '--replicas', String(SMALL), '--yes', '--timeout', '10m');
    out.helm.push(timed(() => helmScale(to)));
    helmScale(SMALL);
    out.kubectl.push(
      timed(() => {
        const r = spawnSync(TOOLS.KUBECTL, ['apply', '-f', '-'], {
          input: added,
          encoding: 'utf8',
          env: { ...process.env, ...env },
        });
        if (r.status !== 0) throw new Error(`kubectl apply failed:\n${r.stderr}`);
        kubectl('scale', 'statefulset', sts, '-n', NS, `--replicas=${to}`);
        kubectl('rollout', 'status', 'statefulset', sts, '-n', NS, '--timeout=10m');
      }),
    );
    // Back to the release's own state: its replica count, and no Services it does not list.
    kubectl('scale', 'statefulset', sts, '-n', NS, `--replicas=${SMALL}`);
    kubectl('delete', 'services', '-n', NS, ...Array.from({ length: STEP }, (_, k) => `${sts}-${SMALL + k}`));
    kubectl('rollout', 'status', 'statefulset', sts, '-n', NS, '--timeout=10m');
    process.stderr.write(
      `… round ${i + 1}: scale ${out.ours.at(-1)?.toFixed(1)} s, helm upgrade ${out.helm.at(-1)?.toFixed(1)} s, kubectl ${out.kubectl.at(-1)?.toFixed(1)} s\n`,
    );
  }
  return out;
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

  const step = stepThreeWays();
  const [ours, bare, floor] = [median(step.ours), median(step.helm), median(step.kubectl)];
  row(
    `scale ${SMALL} -> ${SMALL + STEP} (median of ${ROUNDS})`,
    ours,
    `${(ours / floor).toFixed(2)}x the kubectl floor, ${(ours / bare).toFixed(2)}x a bare helm upgrade; runs ${step.ours.map((x) => x.toFixed(1)).join(', ')}`,
  );
  row(
    `helm upgrade --reuse-values --set room.replicas=${SMALL + STEP} --wait (median of ${ROUNDS})`,
    bare,
    `runs ${step.helm.map((x) => x.toFixed(1)).join(', ')}`,
  );
  row(
    `kubectl apply of the ${STEP} new Services, kubectl scale, kubectl rollout status (median of ${ROUNDS})`,
    floor,
    `runs ${step.kubectl.map((x) => x.toFixed(1)).join(', ')}`,
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

  // The first right after the scale (the control plane still settling), then the median of three.
  const status = plugin('status', RELEASE, '-n', NS);
  const settled = median([1, 2, 3].map(() => plugin('status', RELEASE, '-n', NS).seconds));
  const json = JSON.parse(plugin('status', RELEASE, '-n', NS, '-o', 'json').stdout) as {
    budget: { nodePorts?: { used: number; total: number }; podSlots?: { used: number; total: number } };
  };
  row(
    `status at ${LARGE}`,
    status.seconds,
    `median of 3 more: ${settled.toFixed(1)} s; ${status.stdout.split('\n').length} lines; NodePorts ${json.budget.nodePorts?.used ?? '?'} of ${json.budget.nodePorts?.total ?? '?'}, pod slots ${json.budget.podSlots?.used ?? '?'} of ${json.budget.podSlots?.total ?? '?'}`,
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
