/**
 * Benchmark: the autoscaler (issue 37) on the local control plane. Prints
 *   1. time to capacity, at each size N (default 100 and 1000 rooms, `Parallel`, redis off):
 *      N - B rooms allocated (B the buffer: 10 at 100 rooms, 50 at 1000), then a burst of k
 *      allocations, k = 1 (the allocation that drops Free below the buffer, alone) and k = B
 *      (the buffer emptied at once, by 10 callers). Timed from the burst's first allocation
 *      until the watches show B rooms Free again, every room of the burst still Allocated:
 *      with `createAutoscaler` running (--buffer B), and, from the same starting state, the
 *      floor: `kubectl expose-pods scale --replicas N+k --yes` started at that moment by hand,
 *      knowing the final size;
 *   2. a ramp: from R rooms, a matchmaker allocating at a steady rate (default 3 a second for
 *      60 s, never deallocating) with the autoscaler running: the share of allocations that
 *      fail with exit 14 (no Free room), the scale steps and the replicas over time.
 * Figures, never a pass/fail gate. Run: npm run bench, or
 *   node --import tsx bench/autoscale.ts [SIZE...] [--no-ramp] [--ramp-only]
 *     [--runs=3] [--rate=3] [--ramp-seconds=60] [--ramp-buffer=10,30,10+lead,20,20+lead]
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { createAllocator, type Allocator } from '../src/ops/allocator.js';
import { createAutoscaler, type AutoscaleEvent, type Autoscaler } from '../src/ops/autoscale.js';
import { DEFAULT_ADDRESS_TYPES } from '../src/core/endpoints.js';
import { countRooms } from '../src/core/rooms.js';
import { loadKube } from '../src/kube/config.js';
import { releaseReader } from '../src/kube/reader.js';
import { ReleaseReflectors } from '../src/kube/reflector.js';
import { ExitCode } from '../src/errors.js';
import { CLI, eventually, TOOLS } from '../test/support/tools.js';
import { clusterEnv, freeAllRooms, installRooms, markdownTable, pluginEnv, sh } from './support.js';

const args = process.argv.slice(2);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const SIZES = args.filter((a) => /^\d+$/.test(a)).map(Number);
const RAMP_ONLY = args.includes('--ramp-only');
const NO_RAMP = args.includes('--no-ramp');
const RATE = Number(option('rate') ?? 3);
const RAMP_SECONDS = Number(option('ramp-seconds') ?? 60);
/** Each ramp: a buffer, with `+lead` for an autoscaler with --lead. */
const RAMP_BUFFERS = (option('ramp-buffer') ?? '10,30,10+lead,20,20+lead').split(',').map((b) => ({
  buffer: Number(b.replace('+lead', '')),
  lead: b.endsWith('+lead'),
}));
/** Pairs of runs (the autoscaler's, then the floor's) at each size. */
const RUNS = Number(option('runs') ?? 3);
const CALLERS = 10;
const NS = 'bench-autoscale';
const RELEASE = 'rooms';
const ROOMS = `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=room`;
/** No scale-down during a run: the surplus of the starting fleet stays. */
const SCALE_DOWN_DELAY = '1h';

const env = pluginEnv();
const kubeconfig = clusterEnv().KUBECONFIG;
const kubectl = (...a: string[]) => sh(TOOLS.KUBECTL, a, { env });
const run = promisify(execFile);
const seconds = (ms: number) => (ms / 1000).toFixed(1);
const log = (m: string) => process.stderr.write(`… ${m}\n`);

/** The buffer at a size: 10 at 100 rooms, 50 at 1000. */
const bufferAt = (n: number) => Math.max(1, Math.round(n >= 1000 ? n / 20 : n / 10));

interface Counts {
  replicas: number;
  free: number;
  allocated: number;
}

/** The release's rooms as watches show them (the autoscaler's and the allocator's view). */
class Observer {
  private readonly stop = new AbortController();
  private constructor(private readonly watch: ReleaseReflectors) {}

  static async open(): Promise<Observer> {
    const kube = await loadKube({ kubeconfig, namespace: NS });
    const read = await releaseReader(kube, NS, RELEASE, { fresh: true });
    const watch = await ReleaseReflectors.open(kube, read, RELEASE, {});
    await watch.list();
    const o = new Observer(watch);
    watch.run(o.stop.signal);
    return o;
  }

  counts(): Counts {
    const rows = this.watch.rows(DEFAULT_ADDRESS_TYPES) ?? [];
    const c = countRooms(rows);
    return { replicas: this.watch.objects()?.input.replicas ?? 0, free: c.free, allocated: c.allocated };
  }

  /** performance.now() when `done` first holds, as the watches show the rooms. */
  async until(what: string, done: (c: Counts) => boolean, timeoutMs = 10 * 60_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = this.counts();
      if (done(c)) return performance.now();
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(c)}`);
      const signal = AbortSignal.any([this.stop.signal, AbortSignal.timeout(deadline - Date.now() + 10)]);
      await this.watch.changed(signal, 10);
    }
  }

  close(): void {
    this.stop.abort();
  }
}

const install = (n: number) => {
  installRooms(RELEASE, NS, n);
};

/**
 * The release gone, and its rooms too: helm's wait ends with the StatefulSet deleted, while the
 * garbage collector still deletes its pods; a release installed meanwhile under the same name
 * would show them as its own rooms (Free, then gone with their allocations).
 */
async function uninstall(): Promise<void> {
  sh(TOOLS.HELM4, ['uninstall', RELEASE, '-n', NS, '--wait'], { env });
  await eventually(
    'the rooms of the release deleted',
    () => (kubectl('get', 'pods', '-n', NS, '-l', ROOMS, '-o', 'name').trim() === '' ? true : undefined),
    5 * 60_000,
    500,
  );
}

/** The plugin's scale, as a person runs it. */
async function scaleByHand(replicas: number): Promise<void> {
  await run(
    process.execPath,
    [CLI, 'scale', RELEASE, '-n', NS, '--replicas', String(replicas), '--yes', '--timeout', '10m'],
    { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
  );
}

/** `count` allocations by `CALLERS` concurrent callers; the number refused with exit 14. */
async function allocateMany(allocator: Allocator, count: number, each?: () => void): Promise<number> {
  let left = count;
  let refused = 0;
  await Promise.all(
    Array.from({ length: Math.min(CALLERS, count) }, async () => {
      while (left-- > 0) {
        try {
          await allocator.allocate();
          each?.();
        } catch (e) {
          if ((e as { exitCode?: number }).exitCode !== ExitCode.NO_FREE_ROOM) throw e;
          refused++;
        }
      }
    }),
  );
  return refused;
}

/** An autoscaler event, and when it came (performance.now()). */
interface Seen {
  at: number;
  e: AutoscaleEvent;
}

function startAutoscaler(buffer: number, min: number, max: number, events: Seen[], lead = false) {
  return createAutoscaler({
    lead,
    release: RELEASE,
    namespace: NS,
    kubeconfig,
    helmBinary: TOOLS.HELM4,
    buffer,
    min,
    max,
    scaleDownDelay: SCALE_DOWN_DELAY,
    timeout: '10m',
    onEvent: (e) => {
      events.push({ at: performance.now(), e });
      if (e.type !== 'pending' && e.type !== 'kept') log(`autoscaler: ${e.message}`);
    },
  });
}

interface CapacityRun {
  /** From the first allocation of the burst to B rooms Free again, ms. */
  capacity: number;
  /** The autoscaler: from that allocation to its first scaling event; by hand: the command's run, ms. */
  other: number;
  refused: number;
  steps: string;
  /** From the first allocation of the burst to its second and to its last, ms. */
  secondMs: number;
  burstMs: number;
}

/**
 * From N - B rooms Allocated: one allocation (t0: Free drops below the buffer), then the rest
 * of a burst of k by 10 callers, with `at0` run at t0 (the scale by hand, or nothing); until
 * B rooms are Free again with every room of the burst still Allocated.
 */
async function burst(
  observer: Observer,
  allocator: Allocator,
  n: number,
  b: number,
  k: number,
  at0: () => Promise<number>,
): Promise<Omit<CapacityRun, 'steps'> & { t0: number }> {
  await allocator.allocate();
  const t0 = performance.now();
  const other = at0();
  const times: number[] = [];
  const refused = await allocateMany(allocator, k - 1, () => times.push(performance.now() - t0));
  const burstMs = performance.now() - t0;
  const done = await observer.until(
    `${b} rooms Free again`,
    (c) => c.allocated >= n - b + k - refused && c.free >= b,
  );
  return { capacity: done - t0, other: await other, refused, t0, secondMs: times[0] ?? 0, burstMs };
}

/** Back to N Free rooms, none allocated. */
async function reset(observer: Observer, n: number): Promise<void> {
  freeAllRooms(RELEASE, NS);
  if (observer.counts().replicas !== n) await scaleByHand(n);
  await observer.until(`${n} Free rooms`, (c) => c.replicas === n && c.free === n && c.allocated === 0);
}

/** N - B rooms allocated, B Free, as the watches show them. */
async function fill(observer: Observer, allocator: Allocator, n: number, b: number): Promise<void> {
  await allocateMany(allocator, n - b);
  await observer.until(`${b} Free`, (c) => c.free === b && c.allocated === n - b);
}

/** The autoscaler's run: it runs before the fleet fills, and is stopped after the burst. */
async function autoscaledBurst(
  observer: Observer,
  allocator: Allocator,
  n: number,
  b: number,
  k: number,
): Promise<CapacityRun> {
  const events: Seen[] = [];
  const scaler: Autoscaler = await startAutoscaler(b, 0, 4 * n, events);
  await fill(observer, allocator, n, b);
  // Quiet before the burst: the autoscaler's last decision on the fill is behind it.
  await new Promise((r) => setTimeout(r, 2000));
  const from = events.length;
  const auto = await burst(observer, allocator, n, b, k, () => Promise.resolve(0));
  // Its last step returns after the rooms are allocatable (its endpoint diff): the events after stop().
  await scaler.stop();
  const ours = events.slice(from);
  const first = ours.find((x) => x.e.type === 'scaling');
  const steps = ours
    .map(({ e }) => (e.type === 'scaled' ? `${e.from} -> ${e.to} (${e.seconds}s)` : ''))
    .filter(Boolean)
    .join(', ');
  return { ...auto, other: first ? first.at - auto.t0 : NaN, steps };
}

/** The floor: the same burst, and the scale by hand to the final size started at its first allocation. */
async function floorBurst(
  observer: Observer,
  allocator: Allocator,
  n: number,
  b: number,
  k: number,
): Promise<CapacityRun> {
  await fill(observer, allocator, n, b);
  const floor = await burst(observer, allocator, n, b, k, async () => {
    const t = performance.now();
    await scaleByHand(n + k);
    return performance.now() - t;
  });
  return { ...floor, steps: `${n} -> ${n + k}` };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? (s[(s.length - 1) / 2] ?? NaN)
    : ((s[s.length / 2 - 1] ?? NaN) + (s[s.length / 2] ?? NaN)) / 2;
}

/**
 * At size n, for each burst size (1: the allocation that drops Free below the buffer alone;
 * b: the whole buffer at once), RUNS pairs of runs, the autoscaler's then the floor's, each
 * from the same state.
 */
async function timeToCapacity(n: number): Promise<string[][]> {
  const b = bufferAt(n);
  install(n);
  const observer = await Observer.open();
  await observer.until(`${n} Free rooms`, (c) => c.free === n && c.replicas === n, 15 * 60_000);
  const allocator = await createAllocator({ release: RELEASE, namespace: NS, kubeconfig });
  const rows: string[][] = [];
  for (const k of [1, b]) {
    const auto: CapacityRun[] = [];
    const floor: CapacityRun[] = [];
    for (let i = 0; i < RUNS; i++) {
      log(`time to capacity at ${n} rooms, buffer ${b}, burst of ${k}: run ${i + 1} of ${RUNS}`);
      auto.push(await autoscaledBurst(observer, allocator, n, b, k));
      await reset(observer, n);
      floor.push(await floorBurst(observer, allocator, n, b, k));
      await reset(observer, n);
    }
    const each = (xs: CapacityRun[]) => xs.map((x) => seconds(x.capacity)).join(', ');
    const a = median(auto.map((x) => x.capacity));
    const f = median(floor.map((x) => x.capacity));
    rows.push([
      `${n} rooms, buffer ${b}, burst of ${k}`,
      `**${seconds(a)}** (${each(auto)})`,
      auto.map((x) => seconds(x.other)).join(', '),
      k > 1 ? [...auto, ...floor].map((x) => `${seconds(x.secondMs)}-${seconds(x.burstMs)}`).join(', ') : '-',
      auto.map((x) => x.steps).join('; '),
      `**${seconds(f)}** (${each(floor)})`,
      floor.map((x) => seconds(x.other)).join(', '),
      `**${(a / f).toFixed(2)}**`,
      `${auto.reduce((t, x) => t + x.refused, 0)} / ${floor.reduce((t, x) => t + x.refused, 0)}`,
    ]);
  }
  allocator.close();
  observer.close();
  await uninstall();
  return rows;
}

/** A matchmaker at RATE allocations a second for RAMP_SECONDS from `buffer` rooms, the autoscaler keeping `buffer` Free. */
async function ramp({
  buffer,
  lead,
}: {
  buffer: number;
  lead: boolean;
}): Promise<{ row: string[]; timeline: string }> {
  const start = buffer;
  const total = Math.round(RATE * RAMP_SECONDS);
  const with_ = lead ? ' --lead' : '';
  log(`ramp: ${RATE}/s for ${RAMP_SECONDS}s from ${start} rooms, buffer ${buffer}${with_}`);
  install(start);
  const observer = await Observer.open();
  await observer.until(`${start} Free rooms`, (c) => c.free === start && c.replicas === start);
  const allocator = await createAllocator({ release: RELEASE, namespace: NS, kubeconfig });
  const events: Seen[] = [];
  const scaler = await startAutoscaler(buffer, start, 2 * total + 2 * buffer, events, lead);
  const t0 = performance.now();
  const samples: string[] = [];
  let minFree = Infinity;
  const sampler = setInterval(() => {
    const c = observer.counts();
    minFree = Math.min(minFree, c.free);
    const at = Math.round((performance.now() - t0) / 1000);
    if (at % 10 === 0 && !samples.some((s) => s.startsWith(`${at}s:`)))
      samples.push(`${at}s: ${c.replicas} replicas, ${c.allocated} Allocated, ${c.free} Free`);
  }, 100);
  let refused = 0;
  const calls: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    calls.push(
      allocator.allocate().then(
        () => undefined,
        (e: unknown) => {
          if ((e as { exitCode?: number }).exitCode !== ExitCode.NO_FREE_ROOM) throw e;
          refused++;
        },
      ),
    );
  }
  await Promise.all(calls);
  const ended = performance.now();
  await observer.until('the buffer back', (c) => c.free >= buffer, 120_000).catch(() => 0);
  clearInterval(sampler);
  const c = observer.counts();
  samples.push(
    `end (+${seconds(performance.now() - t0)}s): ${c.replicas} replicas, ${c.allocated} Allocated, ${c.free} Free`,
  );
  await scaler.stop();
  allocator.close();
  observer.close();
  await uninstall();

  const scaled = events.flatMap(({ at, e }) => (e.type === 'scaled' ? [{ at, e }] : []));
  const retries = events.filter(({ e }) => e.type === 'retrying').length;
  const steps = scaled
    .map(({ at, e }) => `+${((at - t0) / 1000 - e.seconds).toFixed(0)}s ${e.from} -> ${e.to} (${e.seconds}s)`)
    .join('; ');
  const secs = scaled.map(({ e }) => e.seconds);
  const mean = secs.length ? secs.reduce((x, y) => x + y, 0) / secs.length : 0;
  return {
    row: [
      `${RATE}/s for ${RAMP_SECONDS}s, buffer ${buffer}${with_}, from ${start} rooms`,
      String(total),
      `${refused} (${((100 * refused) / total).toFixed(1)}%)`,
      String(scaled.length),
      `${mean.toFixed(1)} / ${Math.max(0, ...secs).toFixed(1)}`,
      String(minFree),
      String(retries),
      seconds(ended - t0),
    ],
    timeline: `buffer ${buffer}${with_}: steps ${steps}\n  replicas: ${samples.join('; ')}`,
  };
}

const capacity: string[][] = [];
if (!RAMP_ONLY)
  for (const n of SIZES.length ? SIZES : [100, 1000]) capacity.push(...(await timeToCapacity(n)));
const ramps: { row: string[]; timeline: string }[] = [];
if (!NO_RAMP) for (const b of RAMP_BUFFERS) ramps.push(await ramp(b));

if (capacity.length)
  console.log(
    markdownTable(
      [
        'size',
        'autoscaler: to capacity, median s (each run)',
        'autoscaler: to its first step, s',
        'burst: its 2nd and its last allocation, s after the 1st (auto runs, then floor runs)',
        'autoscaler: steps',
        'floor (scale by hand): to capacity, median s (each run)',
        'floor: the scale command returned, s',
        'ratio of medians',
        'burst allocations refused (auto / floor)',
      ],
      capacity,
    ),
  );
if (ramps.length) {
  console.log('');
  console.log(
    markdownTable(
      [
        'ramp',
        'allocations',
        'refused (exit 14)',
        'scale steps',
        'step mean / max, s',
        'lowest Free seen',
        'retries',
        'ramp took, s',
      ],
      ramps.map((r) => r.row),
    ),
  );
  for (const r of ramps) console.log(`\n${r.timeline}`);
}
console.log(`\nnode ${process.version}; ${new Date().toISOString()}`);
process.exit(0);
