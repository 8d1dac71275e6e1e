/**
 * Benchmark: how soon `endpoints --watch` reports a room that moved to another
 * node, against when the packets change, through the local cluster's real
 * kube-proxy (test/cluster/dataplane.sh; needs root). Each move deletes the pod
 * with its node tainted; times are from that delete to: the NDJSON event naming
 * the new node, the first answer at the new node's address, and the first drop
 * at the old one (probes every 20 ms). Figures, never a pass/fail gate.
 * Run: npm run bench (or node --import tsx bench/dataplane.ts 5)
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

import { askTcp, DATAPLANE, dataPlaneNode } from '../test/support/dataplane.js';
import { CLI, eventually, TOOLS } from '../test/support/tools.js';
import { markdownTable, pluginEnv, sh } from './support.js';

const MOVES = Number(process.argv[2] ?? 5);
const NS = 'bench-dataplane';
const RELEASE = 'mover';
const POD = `${RELEASE}-expose-pods-0`;

const env = pluginEnv();
const kubectl = (...args: string[]) => sh(TOOLS.KUBECTL, args, { env });
const cli = (...args: string[]) => sh(process.execPath, [CLI, ...args], { env });

interface Row {
  endpoint: { node: string | null; status: string; port: number | null };
}

/** Waits for a moment, checking every 20 ms: the figures are the instants these return. */
const until = <T>(what: string, fn: () => Promise<T | undefined> | T | undefined): Promise<T> =>
  eventually(what, fn, 3 * 60_000, 20);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

cli(
  'install',
  RELEASE,
  '-n',
  NS,
  '--create-namespace',
  '--replicas',
  '1',
  '--no-redis',
  '--node-port-base',
  '32750',
  '--yes',
);
const events: { at: number; row: Row }[] = [];
const watch = spawn(process.execPath, [CLI, 'endpoints', RELEASE, '-n', NS, '--watch', '-o', 'json'], {
  env: { ...process.env, ...env },
});
createInterface({ input: watch.stdout }).on('line', (l) =>
  events.push({ at: Date.now(), row: JSON.parse(l) as Row }),
);
await until('the first event', () => (events.length ? true : undefined));

const samples: { event: number; answer: number; drop: number }[] = [];
try {
  for (let i = 0; i < MOVES; i++) {
    const from = events.at(-1)?.row.endpoint.node ?? '';
    const port = events.at(-1)?.row.endpoint.port ?? 0;
    kubectl('taint', 'nodes', from, 'bench-move=1:NoSchedule', '--overwrite');
    const seen = events.length;
    const t0 = Date.now();
    kubectl('delete', 'pod', POD, '-n', NS, '--wait=false');
    const dropP = until('the old node to stop answering', async () =>
      'failed' in (await askTcp(dataPlaneNode(from).internalIP, port, 200)) ? Date.now() : undefined,
    );
    const moved = await until('the event', () =>
      events.slice(seen).find((e) => e.row.endpoint.status === 'Ready' && e.row.endpoint.node !== from),
    );
    const to = moved.row.endpoint.node ?? '';
    const answer = await until('the new node to answer', async () => {
      const r = await askTcp(dataPlaneNode(to).internalIP, port, 200);
      return 'answer' in r && r.answer.pod === POD ? Date.now() : undefined;
    });
    const drop = await dropP;
    kubectl('taint', 'nodes', from, 'bench-move-');
    samples.push({ event: moved.at - t0, answer: answer - t0, drop: drop - t0 });
    process.stderr.write(`… move ${i + 1}: ${from} -> ${to}\n`);
  }
} finally {
  watch.kill('SIGINT');
  for (const n of DATAPLANE.nodes) {
    try {
      kubectl('taint', 'nodes', n.node, 'bench-move-');
    } catch {
      // not tainted: nothing to undo
    }
  }
}
cli('uninstall', RELEASE, '-n', NS, '--yes');

const line = (label: string, xs: number[]) => [
  label,
  String(median(xs)),
  String(Math.min(...xs)),
  String(Math.max(...xs)),
];
console.log(
  markdownTable(
    ['from the pod delete to', 'median ms', 'min ms', 'max ms'],
    [
      line(
        'the old node drops its port',
        samples.map((s) => s.drop),
      ),
      line(
        'the NDJSON event names the new node',
        samples.map((s) => s.event),
      ),
      line(
        'the new node answers',
        samples.map((s) => s.answer),
      ),
      line(
        'event minus answer (negative: the event came first)',
        samples.map((s) => s.event - s.answer),
      ),
    ],
  ),
);
console.log(
  `\n${MOVES} moves of one room; kube-proxy ${DATAPLANE.mode}; node ${process.version}; ${new Date().toISOString()}`,
);
