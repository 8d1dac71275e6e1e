/**
 * Benchmark: from `install` (or `scale`) returning to the moment each room
 * answers through its endpoint, with packets through the local cluster's real
 * kube-proxy (test/cluster/dataplane.sh; needs root). For each size: install N
 * rooms (Parallel, so the pods' start is not the figure), then scale up by a
 * tenth. Ports are assigned by the API server: an uninstall of 1000 rooms can
 * leave fixed ports allocated for minutes (see RESULTS.md). Each room is asked
 * at its node's InternalIP (the address kube-proxy serves in every mode) from the moment its pod is bound, while the
 * command runs; the time of its first answer from the right pod, after the
 * command returned, is its lag (negative when it answered before). Run it once per proxy mode
 * (EXPOSE_PODS_PROXY_MODE=iptables npm run cluster:up switches). Figures,
 * never a pass/fail gate.
 * Run: npm run bench (or node --import tsx bench/reachable.ts 100 1000)
 */
import { execFile, spawn } from 'node:child_process';

import { askTcp, DATAPLANE, dataPlaneNode } from '../test/support/dataplane.js';
import { CLI, TOOLS } from '../test/support/tools.js';
import { markdownTable, pluginEnv, sh } from './support.js';

const SIZES = process.argv.slice(2).map(Number);
if (!SIZES.length) SIZES.push(100, 1000);
const NS = 'bench-reachable';
const RELEASE = 'reach';

const env = pluginEnv();
const kubectl = (...args: string[]) => sh(TOOLS.KUBECTL, args, { env });

/** Runs the plugin without blocking the probes; resolves with the moment it returned. */
function cliAsync(...args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(Date.now()) : reject(new Error(`${args.join(' ')}: exit ${code}\n${stderr}`)),
    );
  });
}

/** `kubectl get KIND -n NS -o jsonpath=...` as "name value" pairs, without blocking the probes. */
function pairs(kind: string, value: string): Promise<Map<string, string>> {
  return new Promise((resolve) =>
    execFile(
      TOOLS.KUBECTL,
      ['get', kind, '-n', NS, '-o', `jsonpath={range .items[*]}{.metadata.name} {${value}}{"\\n"}{end}`],
      { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (_e, stdout) =>
        resolve(
          new Map(
            stdout
              .split('\n')
              .map((l) => l.split(' '))
              .filter((p): p is [string, string] => !!p[0] && !!p[1]),
          ),
        ),
    ),
  );
}

/**
 * Follows the rooms from ordinal `from` up while a command runs: as soon as a
 * pod is bound to a node and its Service has a nodePort (both listed every
 * second), asks that node's InternalIP at the nodePort every 100 ms (every
 * 500 ms for 1000 rooms) until that pod answers. Resolves each room's first
 * answer (epoch ms).
 */
function follow(from: number, to: number): { answered: Promise<number[]>; stop: () => void } {
  // Often enough to see the moment, rarely enough not to slow what is measured on 2 cores.
  const everyMs = Math.max(100, (to - from) / 2);
  const asked = new Map<number, Promise<number>>();
  const state = { stopped: false };
  const ask = async (pod: string, node: string, port: number): Promise<number> => {
    const host = dataPlaneNode(node).internalIP;
    for (;;) {
      const a = await askTcp(host, port, 500);
      if ('answer' in a && a.answer.pod === pod) return Date.now();
      if (state.stopped) throw new Error(`${pod} never answered at ${host}:${port}`);
      await new Promise((res) => setTimeout(res, everyMs));
    }
  };
  const answered = (async () => {
    while (asked.size < to - from) {
      const [nodes, ports] = await Promise.all([
        pairs('pods', '.spec.nodeName'),
        pairs('services', '.spec.ports[0].nodePort'),
      ]);
      for (const [pod, node] of nodes) {
        const ordinal = Number(pod.slice(pod.lastIndexOf('-') + 1));
        const port = Number(ports.get(pod));
        if (port && ordinal >= from && ordinal < to && !asked.has(ordinal))
          asked.set(ordinal, ask(pod, node, port));
      }
      if (state.stopped) throw new Error(`only ${asked.size} of ${to - from} rooms were placed`);
      await new Promise((res) => setTimeout(res, 1000));
    }
    return Promise.all(asked.values());
  })();
  return { answered, stop: () => (state.stopped = true) };
}

/** Runs a step: the command's time, and each room's first answer relative to its return. */
async function step(from: number, to: number, ...args: string[]): Promise<{ ms: number; lags: number[] }> {
  const f = follow(from, to);
  const t0 = Date.now();
  const returned = await cliAsync(...args);
  const timer = setTimeout(f.stop, 5 * 60_000);
  const answers = await f.answered;
  clearTimeout(timer);
  return { ms: returned - t0, lags: answers.map((a) => a - returned) };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

const table: string[][] = [];
for (const n of SIZES) {
  const more = Math.max(1, Math.round(n / 10));
  kubectl('create', 'namespace', NS);
  try {
    const install = await step(
      0,
      n,
      ...['install', RELEASE, '-n', NS, '--replicas', String(n), '--no-redis'],
      ...['--set', 'room.podManagementPolicy=Parallel'],
      ...['--timeout', '10m', '--yes'],
    );
    table.push(line(`install ${n}`, install.ms, install.lags));
    process.stderr.write(`… install ${n}: ${install.ms} ms\n`);
    const scale = await step(
      n,
      n + more,
      ...['scale', RELEASE, '-n', NS, '--replicas', String(n + more), '--timeout', '10m', '--yes'],
    );
    table.push(line(`scale ${n} -> ${n + more}`, scale.ms, scale.lags));
    process.stderr.write(`… scale ${n} -> ${n + more}: ${scale.ms} ms\n`);
  } finally {
    // The namespace goes with everything in it; Helm's release Secret too.
    kubectl('delete', 'namespace', NS, '--wait=true', '--timeout=10m');
  }
}

function line(step: string, commandMs: number, xs: number[]): string[] {
  return [
    step,
    String(commandMs),
    String(pct(xs, 50)),
    String(pct(xs, 99)),
    String(Math.max(...xs)),
    String(xs.filter((x) => x > 0).length),
  ];
}

console.log(
  markdownTable(
    [
      'step',
      'command ms',
      'answer after return, median ms',
      'p99 ms',
      'max ms',
      'rooms answering only after return',
    ],
    table,
  ),
);
console.log(`\nkube-proxy ${DATAPLANE.mode}; node ${process.version}; ${new Date().toISOString()}`);
