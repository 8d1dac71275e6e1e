/**
 * Benchmark: allocation at fleet size on the local control plane. Prints
 *   1. allocations per second through the library (createAllocator, and allocate()) with 10
 *      concurrent callers, until no room is Free, checking that no room was
 *      handed out twice; every allocation carries an allocation id (a match id), and between
 *      two rounds of matches every room is deallocated by its id (deallocations per second),
 *      then allocated again with new ids; and matches end to end (allocate by id, deallocate by
 *      id, 10 at a time), checking that no room is held by two matches at once;
 *   2. the physical floor: one conditional merge PATCH per room (the write an
 *      allocation makes), sent by the same 10 callers;
 *   3. the latency of one `kubectl expose-pods allocate` process against one
 *      `kubectl label pod` of the same pod.
 * Figures, never a pass/fail gate. Run: npm run bench (or node --import tsx bench/allocate.ts 1000)
 * `--sea PATH` also times the single executable at PATH (what krew installs), e.g. one
 * unpacked from `npm run package -- --platform linux/amd64 --out-dir /tmp/pkg`.
 */

import { allocate, createAllocator } from '../src/index.js';
import { markPod } from '../src/kube/writes.js';
import { loadKube } from '../src/kube/config.js';
import { ALLOCATED, STATE_LABEL } from '../src/core/rooms.js';
import { CLI, TOOLS } from '../test/support/tools.js';
import { clusterEnv, freeAllRooms, installRooms, markdownTable, pluginEnv, sh } from './support.js';

const N = Number(process.argv[2] ?? 1000);
/** `--library-only`: the allocator against the floor, without the one-shot calls and the processes. */
const LIBRARY_ONLY = process.argv.includes('--library-only');
/** `--sea PATH`: the single executable to time beside the npm install's bin/run.js. */
const SEA = process.argv.find((a) => a.startsWith('--sea='))?.slice('--sea='.length);
const CALLERS = 10;
const RUNS = 5;
const NS = 'bench-alloc';
const RELEASE = 'alloc';
/** Matches run end to end (allocate, then deallocate by id) in the churn figure. */
const MATCHES = Number(process.env.BENCH_MATCHES ?? 1000);
const STS = `${RELEASE}-expose-pods`;
const ROOMS = `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=room`;

const env = pluginEnv();
const kubeconfig = clusterEnv().KUBECONFIG;
const kubectl = (...args: string[]) => sh(TOOLS.KUBECTL, args, { env });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function timed(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function waitReady(n: number): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    const ready = Number(
      kubectl('get', 'statefulset', STS, '-n', NS, '-o', 'jsonpath={.status.readyReplicas}') || 0,
    );
    if (ready === n) return;
    if (Date.now() > deadline) throw new Error(`${ready}/${n} ready after 10 minutes`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const freeAll = () => {
  freeAllRooms(RELEASE, NS);
};

/** Runs `callers` workers that each call `one` until it returns false; the count of trues and the seconds. */
async function drain(
  callers: number,
  one: () => Promise<boolean>,
): Promise<{ done: number; seconds: number }> {
  let done = 0;
  const t = Date.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (await one()) done++;
    }),
  );
  return { done, seconds: (Date.now() - t) / 1000 };
}

installRooms(RELEASE, NS, N);
await waitReady(N);
freeAll();

const rows: string[][] = [];

// 1. The library, 10 callers, until exit 14: createAllocator (watched rooms, one write per
// allocation), every allocation with a match id as its allocation id; then every room
// deallocated by its id, and allocated again with new ids (the next round of matches);
// then matches end to end. For comparison, allocate() (four lists per allocation) for the
// first rooms only.
const handed = new Set<string>();
let twice = 0;
let matchNo = 0;
const allocator = await createAllocator({ release: RELEASE, namespace: NS, kubeconfig });
const untilNone = (one: () => Promise<{ pod: string }>) => async () => {
  try {
    const room = await one();
    if (handed.has(room.pod)) twice++;
    handed.add(room.pod);
    return true;
  } catch (e) {
    if ((e as { exitCode?: number }).exitCode === 14) return false;
    throw e;
  }
};
/** Room -> the match id it was handed to, this round. */
const ids = new Map<string, string>();
const byId = () =>
  untilNone(async () => {
    const id = `m-${matchNo++}`;
    const room = await allocator.allocate({ allocationId: id, metadata: { match: id } });
    if (room.allocation?.id !== id)
      throw new Error(`${room.pod}: allocation id ${String(room.allocation?.id)}, not ${id}`);
    ids.set(room.pod, id);
    return room;
  });
const row = (what: string, r: { done: number; seconds: number }, two: string) => [
  what,
  String(r.done),
  r.seconds.toFixed(1),
  (r.done / r.seconds).toFixed(1),
  two,
];
const lib = await drain(CALLERS, byId());
if (lib.done !== N || twice)
  throw new Error(`${lib.done} allocations of ${N} rooms, ${twice} handed out twice`);
rows.push(row(`createAllocator().allocate({ allocationId }) x ${CALLERS} callers`, lib, String(twice)));

// Between two rounds of matches: every room deallocated by its id, by the same callers.
const toEnd = [...ids.values()];
const freed = await drain(CALLERS, async () => {
  const id = toEnd.pop();
  if (id === undefined) return false;
  const out = await allocator.deallocate(id);
  if (!out.wasAllocated) throw new Error(`deallocate ${id}: not ended`);
  return true;
});
rows.push(row(`createAllocator().deallocate(id) x ${CALLERS} callers`, freed, '-'));
handed.clear();
ids.clear();
const again = await drain(CALLERS, byId());
if (again.done !== N || twice)
  throw new Error(`round 2: ${again.done} allocations of ${N} rooms, ${twice} handed out twice`);
rows.push(row(`round 2 (rooms freed by id), allocate({ allocationId }) x ${CALLERS}`, again, String(twice)));
// Retried allocates (same ids): the rooms they hold, nothing written.
const retried = [...ids.entries()].slice(0, 100);
for (const [pod, id] of retried) {
  const room = await allocator.allocate({ allocationId: id });
  if (room.pod !== pod) throw new Error(`retry of ${id}: ${room.pod}, not ${pod}`);
}
const ended = await drain(CALLERS, async () => {
  const next = ids.entries().next();
  if (next.done) return false;
  ids.delete(next.value[0]);
  await allocator.deallocate(next.value[1]);
  return true;
});
if (ended.done !== N) throw new Error(`round 2: ${ended.done} deallocations of ${N}`);

// Matches end to end: allocate by id, deallocate by id, 10 at a time; a room is never held by two.
const live = new Map<string, string>();
let overlap = 0;
let matches = 0;
const churn = await drain(CALLERS, async () => {
  if (matches++ >= MATCHES) return false;
  const id = `c-${matches}`;
  const room = await allocator.allocate({ allocationId: id });
  if (live.has(room.pod)) overlap++;
  live.set(room.pod, id);
  // The match is over: it no longer holds the room once deallocate starts.
  live.delete(room.pod);
  const out = await allocator.deallocate(room);
  if (!out.wasAllocated) throw new Error(`deallocate ${id}: not ended`);
  return true;
});
allocator.close();
if (overlap) throw new Error(`${overlap} rooms held by two matches at once`);
rows.push(row(`matches (allocate + deallocate by id) x ${CALLERS} callers`, churn, String(overlap)));

freeAll();
handed.clear();
const ONE_SHOT = LIBRARY_ONLY ? 0 : Math.min(N, 100);
let left = ONE_SHOT;
if (!LIBRARY_ONLY) {
  const oneShot = await drain(
    CALLERS,
    untilNone(async () => {
      if (left-- <= 0) throw Object.assign(new Error('enough'), { exitCode: 14 });
      return allocate({ release: RELEASE, namespace: NS, kubeconfig });
    }),
  );
  rows.push([
    `allocate() x ${CALLERS} callers (first ${ONE_SHOT} rooms)`,
    String(oneShot.done),
    oneShot.seconds.toFixed(1),
    (oneShot.done / oneShot.seconds).toFixed(1),
    String(twice),
  ]);
}

// 2. The floor: one conditional PATCH per room, same callers.
freeAll();
const kube = await loadKube({ kubeconfig, namespace: NS });
const pods = (
  JSON.parse(kubectl('get', 'pods', '-n', NS, '-l', ROOMS, '-o', 'json')) as {
    items: { metadata: { name: string; resourceVersion: string } }[];
  }
).items.map((p) => p.metadata);
let next = 0;
const floor = await drain(CALLERS, async () => {
  const p = pods[next++];
  if (!p) return false;
  const out = await markPod(kube, NS, p, { labels: { [STATE_LABEL]: ALLOCATED }, annotations: {} }, true);
  if (out.kind !== 'written') throw new Error(`${p.name}: ${out.kind}`);
  return true;
});
rows.push([
  `conditional PATCH x ${CALLERS} callers (floor)`,
  String(floor.done),
  floor.seconds.toFixed(1),
  (floor.done / floor.seconds).toFixed(1),
  '-',
]);

// 3. One process: the CLI's allocate against kubectl label of the same pod.
const cli: number[] = [];
const sea: number[] = [];
const label: number[] = [];
for (let i = 0; i < (LIBRARY_ONLY ? 0 : RUNS); i++) {
  freeAll();
  cli.push(timed(() => sh(process.execPath, [CLI, 'allocate', RELEASE, '-n', NS, '-o', 'name'], { env })));
  freeAll();
  if (SEA) {
    sea.push(timed(() => sh(SEA, ['allocate', RELEASE, '-n', NS, '-o', 'name'], { env })));
    freeAll();
  }
  label.push(timed(() => kubectl('label', 'pod', `${STS}-0`, '-n', NS, `${STATE_LABEL}=${ALLOCATED}`)));
}
sh(TOOLS.HELM4, ['uninstall', RELEASE, '-n', NS, '--wait'], { env });

console.log(
  markdownTable(['at ' + String(N) + ' rooms', 'calls', 'seconds', 'per second', 'handed out twice'], rows),
);
if (!LIBRARY_ONLY) {
  console.log('');
  console.log(
    markdownTable(
      ['one process', 'median ms'],
      [
        ['kubectl expose-pods allocate -o name (npm install)', median(cli).toFixed(0)],
        ...(SEA
          ? [
              ['kubectl expose-pods allocate -o name (single executable)', median(sea).toFixed(0)],
              ['ratio, single executable', (median(sea) / median(label)).toFixed(2)],
            ]
          : []),
        ['kubectl label pod (same pod)', median(label).toFixed(0)],
        ['ratio, npm install', (median(cli) / median(label)).toFixed(2)],
      ],
    ),
  );
}
console.log(`\n${RUNS} runs for the processes; node ${process.version}; ${new Date().toISOString()}`);
