/**
 * Model-based sequences on the real control plane (fast-check's fc.commands):
 * seeded, reproducible runs of install (random value subsets), scale up and
 * down, tolerations, a second release on taken ports, uninstall, a kill -9
 * mid-wait, and an API server restart. After every step the cluster must match
 * the model:
 *   1. the release's values equal the model's (nothing set earlier reverted);
 *   2. no Service or PVC of the release beyond what the model expects;
 *   3. no Ready pod removed without a confirmation (a change without --yes refuses);
 *   4. no two Services in the cluster share a nodePort;
 *   5. running the last command again converges (exit 0, same state);
 *   6. rooms in use: the pods marked Allocated are exactly the model's, each still the pod
 *      (same UID) that allocate marked, unless --delete-in-use or a replaced pod ended it; an
 *      allocation never returns a room already allocated; the rooms marked Draining are the model's.
 *   9. a room ends its own match: a container restart of an allocated room frees it (its marks stay:
 *      Free, allocatable again, and nothing waits for it); a cordoned room is never allocated, keeps
 *      its cordon through every change, and a rollout leaves it on its build.
 *   8. allocation ids: every Allocated pod carries the id of the model's allocation there; an
 *      allocate with an id a room holds returns that room and writes nothing (a retry); a
 *      deallocate ends only its own allocation (a retried or late one, or one naming a room
 *      that holds another, changes nothing).
 * `npm test` runs SEQ_RUNS (default 4) sequences of up to 8 commands; `npm run test:soak` runs more.
 * A failure prints the seed and the shrunk sequence: replay with SEQ_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import fc from 'fast-check';

import {
  eventually,
  holdScheduling,
  isReadyPod,
  printClusterLogsOnFailure,
  userShell,
} from '../support/e2e.js';
import { HELMS, ROOT, run } from '../support/tools.js';

after(printClusterLogsOnFailure);

const RUNS = Number(process.env.SEQ_RUNS ?? 4);
// Adding commands changes what a seed generates. This seed was picked (by sampling seeds against a
// sketch of the model) when allocation ids were added: its 4 sequences then reached a refused
// install, the intruder, kill -9, an API server restart, allocations, deallocations (one replacing
// a room left on its old build), a new image over a room in use, a replaced room in use, a retried
// allocate by id, a deallocate by id naming its room, the same id allocating again after its room
// was replaced, and late deallocates. Room restarts and cordons were added beside them at the same
// time, which shifts what it reaches; it was not sampled again with all of them (to do). Other
// seeds are for npm run test:soak.
const SEED = Number(process.env.SEQ_SEED ?? 20272847);
const MAX_COMMANDS = Number(process.env.SEQ_MAX_COMMANDS ?? 8);
const RELEASE = 'seq';
const STS = `${RELEASE}-expose-pods`;

/** The chart's default room.replicas, for a release installed without --replicas. */
const DEFAULT_REPLICAS = 2;

/** What the user has set on the release so far (helm get values); undefined: not installed. */
interface Model {
  values?: { replicas?: number; tag?: string; notReady?: number; count?: number };
  base: number;
  /** Rooms in use: ordinal -> the UID of the pod allocate marked. */
  allocated: Map<number, string>;
  /** Ordinals marked Draining by a scale-down that timed out. */
  draining: Set<number>;
  /** Rooms in use that a new pod template left on their old build (OnDelete): deallocate replaces each. */
  outdated: Set<number>;
  /** Rooms whose match a container restart ended: their Allocated marks stay (ordinal -> UID), but they are Free. */
  ended: Map<number, string>;
  /** Rooms cordoned (held out of rotation): never allocated, kept on their build by a rollout. */
  cordoned: Set<number>;
  /** Allocation ids: ordinal -> the id of its last allocation (live while the ordinal is in `allocated`). */
  ids: Map<number, string>;
  /** Every allocation id handed out so far, live or ended: what retried and late deallocates pass. */
  usedIds: string[];
}

/** The rooms a change to `replicas` removes that are in use. */
const inUseFrom = (m: Model, replicas: number) => [...m.allocated.keys()].filter((n) => n >= replicas);

/** After a change went through: rooms removed are gone with their marks, rooms kept are out of Draining. */
function settled(m: Model, replicas: number): void {
  for (const n of [...m.allocated.keys()]) if (n >= replicas) m.allocated.delete(n);
  for (const n of [...m.outdated]) if (n >= replicas) m.outdated.delete(n);
  for (const n of [...m.ended.keys()]) if (n >= replicas) m.ended.delete(n);
  for (const n of [...m.cordoned]) if (n >= replicas) m.cordoned.delete(n);
  m.draining.clear();
}

/** A new pod template (image, tolerations): every Free room moves to it, each room in use kept stays on its build. */
function newTemplate(m: Model, replicas: number): void {
  const kept = (n: number) => m.allocated.has(n) || m.cordoned.has(n);
  for (let n = 0; n < replicas; n++) if (kept(n)) m.outdated.add(n);
  // The others are replaced: a new pod, on the new build, without marks.
  for (const n of [...m.outdated]) if (!kept(n)) m.outdated.delete(n);
  for (const n of [...m.ended.keys()]) if (!kept(n)) m.ended.delete(n);
}

/** Rooms kept by a change to `replicas` that are Free: a new template replaces them, which needs a yes. */
const freeKept = (m: Model, now: number, next: number) =>
  Array.from({ length: Math.min(now, next) }, (_, i) => i).filter((n) => !m.allocated.has(n));

const replicasOf = (v: NonNullable<Model['values']>) => v.replicas ?? DEFAULT_REPLICAS;

type Shell = ReturnType<typeof userShell>;
interface Real {
  sh: Shell;
  ns: string;
  /** The last command, to run again for invariant 5. */
  last?: string[];
}

const sh = userShell(HELMS[1].path);

const plugin = (r: Real, args: string[]) => sh.kubectl('expose-pods', ...args, '-n', r.ns);
const readyPods = (r: Real): number => sh.roomPods(r.ns, RELEASE).filter(isReadyPod).length;

/** Runs a change and, for invariant 5, the same command again. */
function change(m: Model, r: Real, args: string[]): void {
  if (m.values) settled(m, replicasOf(m.values));
  const first = plugin(r, args);
  assert.equal(first.status, 0, `${args.join(' ')}:\n${first.stderr}`);
  r.last = args;
  verify(m, r);
  const again = plugin(r, args);
  assert.equal(again.status, 0, `again: ${args.join(' ')}:\n${again.stderr}`);
  verify(m, r);
}

/** Invariants 1, 2 and 4. */
function verify(m: Model, r: Real): void {
  const services = sh
    .podServices(r.ns, RELEASE)
    .map((s) => s.metadata.name as string)
    .sort();
  const pvcs = sh.getJson('pvc', '-n', r.ns).items as any[];
  assert.deepEqual(
    pvcs.map((p) => p.metadata.name),
    [],
    'no claims: the sequences run without persistence',
  );
  if (!m.values) {
    assert.deepEqual(services, [], 'an uninstalled release leaves no Service behind');
  } else {
    const v = JSON.parse(sh.helm('get', 'values', RELEASE, '-n', r.ns, '-o', 'json').stdout);
    assert.equal(v.room?.replicas, m.values.replicas, 'room.replicas as the model says');
    assert.equal(v.room?.image?.tag, m.values.tag, 'room.image.tag as the model says');
    assert.equal(v.room?.failover?.notReadySeconds, m.values.notReady, 'the tolerations as the model says');
    assert.equal(v.expose?.count, m.values.count, 'expose.count as the model says');
    assert.equal(v.expose?.nodePortBase, m.base, 'the base as the model says');
    const count = m.values.count ?? replicasOf(m.values);
    assert.deepEqual(
      services,
      Array.from({ length: count }, (_, i) => `${STS}-${i}`).sort(),
      'one Service per exposed ordinal, no more',
    );
    assert.equal(sh.getJson('statefulset', STS, '-n', r.ns).spec.replicas, replicasOf(m.values));
  }
  verifyRooms(m, r);
  verifyIds(m, r);
  const ports = (sh.getJson('services', '-A').items as any[]).flatMap((s) =>
    (s.spec.ports ?? []).map((p: any) => p.nodePort).filter(Boolean),
  );
  assert.equal(new Set(ports).size, ports.length, 'no two Services share a nodePort');
}

/**
 * Invariant 7 (rollouts): after a change returns, every room below the replicas runs the
 * StatefulSet's update revision except the model's rooms in use left on their build.
 */
function verifyBuilds(m: Model, r: Real): void {
  if (!m.values) return;
  const set = sh.getJson('statefulset', STS, '-n', r.ns);
  const old = sh
    .roomPods(r.ns, RELEASE)
    .filter((p) => !p.metadata.deletionTimestamp)
    .filter((p) => p.metadata.labels?.['controller-revision-hash'] !== set.status.updateRevision)
    .map((p) => Number(String(p.metadata.name).slice(STS.length + 1)))
    .filter((n) => n < replicasOf(m.values ?? {}))
    .sort((a, b) => a - b);
  assert.deepEqual(
    old,
    [...m.outdated].sort((a, b) => a - b),
    'only the rooms in use (or cordoned) a new template reached run an older revision',
  );
}

/** Invariant 6: the marks on the pods are the model's, on the very pods allocate marked. */
function verifyRooms(m: Model, r: Real): void {
  const pods = m.values ? sh.roomPods(r.ns, RELEASE) : [];
  const ordinal = (p: any) => Number(String(p.metadata.name).slice(STS.length + 1));
  const marked = (label: string, value: string) =>
    pods
      .filter((p) => p.metadata.labels?.[label] === value && !p.metadata.deletionTimestamp)
      .map((p) => [ordinal(p), p.metadata.uid as string] as const)
      .sort(([a], [b]) => a - b);
  assert.deepEqual(
    marked('expose-pods.io/state', 'Allocated'),
    [...m.allocated, ...m.ended].sort(([a], [b]) => a - b),
    'the rooms in use (and those whose match a restart ended) are the model’s, on the pods allocate marked',
  );
  assert.deepEqual(
    marked('expose-pods.io/cordoned', 'true').map(([n]) => n),
    [...m.cordoned].sort((a, b) => a - b),
    'the rooms cordoned are the model’s: every change keeps the cordon',
  );
  assert.deepEqual(
    marked('expose-pods.io/draining', 'true').map(([n]) => n),
    [...m.draining].sort((a, b) => a - b),
    'the rooms Draining are the model’s',
  );
}

/** Invariant 8: each Allocated pod carries the id of the model's allocation of that room. */
function verifyIds(m: Model, r: Real): void {
  const pods = m.values ? sh.roomPods(r.ns, RELEASE) : [];
  const held = pods
    .filter(
      (p) => p.metadata.labels?.['expose-pods.io/state'] === 'Allocated' && !p.metadata.deletionTimestamp,
    )
    .map(
      (p) => [Number(String(p.metadata.name).slice(STS.length + 1)), p.metadata.annotations?.[ID]] as const,
    )
    .sort(([a], [b]) => a - b);
  assert.deepEqual(
    held,
    // A room whose match a restart ended keeps its marks, its id among them.
    [...m.allocated.keys(), ...m.ended.keys()].sort((a, b) => a - b).map((n) => [n, m.ids.get(n)] as const),
    'each room in use holds the id of the model’s allocation',
  );
}

const ID = 'expose-pods.io/allocation-id';

/** The room where allocation `id` is live, per the model. */
const liveAt = (m: Readonly<Model>, id: string) => [...m.allocated.keys()].find((n) => m.ids.get(n) === id);

/** The room allocate must take: the lowest that has an endpoint and is neither in use nor Draining. */
function nextFree(m: Readonly<Model>): number | undefined {
  // Rooms with a pod and a Service: a pinned expose.count leaves the rest without an endpoint.
  const rooms = m.values ? Math.min(replicasOf(m.values), m.values.count ?? replicasOf(m.values)) : 0;
  // Rooms without marks first, then those whose match a restart ended; never a cordoned one, nor one on an old build.
  const open = Array.from({ length: rooms }, (_, i) => i).filter(
    (n) => !m.allocated.has(n) && !m.draining.has(n) && !m.cordoned.has(n) && !m.outdated.has(n),
  );
  return open.find((n) => !m.ended.has(n)) ?? open.find((n) => m.ended.has(n));
}

/** The model after allocation `id` took room n (pod `pod`). */
function took(m: Model, r: Real, n: number, pod: string, id: string): void {
  assert.ok(!m.allocated.has(n), 'never a room already in use');
  m.ended.delete(n);
  m.allocated.set(n, sh.getJson('pod', pod, '-n', r.ns).metadata.uid);
  m.ids.set(n, id);
  if (!m.usedIds.includes(id)) m.usedIds.push(id);
}

/** After room n's allocation ended (uid: its pod): a room on an older build is replaced on the new one. */
async function freed(m: Model, r: Real, n: number, uid: string | undefined): Promise<void> {
  m.allocated.delete(n);
  // An ended allocation's marks go too.
  m.ended.delete(n);
  // A cordoned room is the operator's: deallocate leaves it on its build.
  if (!m.cordoned.has(n) && m.outdated.delete(n)) {
    // Its match ended on the old build: deallocate replaced it, and it comes back on the new one.
    const pod = `${STS}-${n}`;
    await eventually(`${pod} replaced on the new revision and Ready`, () => {
      const p = sh.getJson('pods', '-n', r.ns).items.find((x: any) => x.metadata.name === pod);
      return p && p.metadata.uid !== uid && isReadyPod(p) ? true : undefined;
    });
    m.draining.delete(n);
  }
}

class Install implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly replicas: number | undefined,
    readonly tag: string | undefined,
    readonly yes: boolean,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const args = [
      'install',
      RELEASE,
      '--no-redis',
      '--node-port-base',
      String(m.base),
      ...(this.replicas === undefined ? [] : ['--replicas', String(this.replicas)]),
      ...(this.tag === undefined ? [] : ['--set', `room.image.tag=${this.tag}`]),
      '--timeout',
      '2m',
    ];
    const before = m.values ? readyPods(r) : 0;
    const next = { ...m.values };
    if (this.replicas !== undefined) next.replicas = this.replicas;
    if (this.tag !== undefined) next.tag = this.tag;
    // Ready pods removed, or Free rooms replaced by a new image: what needs a yes. Rooms in use
    // keep their build (OnDelete): a new image is no longer refused over them.
    const now = m.values ? replicasOf(m.values) : 0;
    const newImage = m.values !== undefined && next.tag !== m.values.tag;
    const disrupts =
      m.values !== undefined &&
      (replicasOf(next) < now || (newImage && freeKept(m, now, replicasOf(next)).length > 0));
    if (disrupts && !this.yes) {
      // Invariant 3: without a yes, nothing is removed or restarted.
      const res = plugin(r, args);
      assert.equal(res.status, 13, res.stderr);
      assert.equal(readyPods(r), before, 'no Ready pod removed without a confirmation');
      verify(m, r);
      return;
    }
    if (m.values && inUseFrom(m, replicasOf(next)).length) {
      // Fewer replicas over rooms in use: they are waited for; on timeout nothing changes.
      waitedOut(m, r, replicasOf(next), [...args.slice(0, -2), '--timeout', '3s', '--yes']);
      return;
    }
    m.values = next;
    if (newImage) newTemplate(m, replicasOf(next));
    change(m, r, [...args, '--yes']);
    verifyBuilds(m, r);
    await Promise.resolve();
  }
  toString = () =>
    `install${this.replicas === undefined ? '' : ` --replicas ${this.replicas}`}${this.tag ? ` --set room.image.tag=${this.tag}` : ''}${this.yes ? ' --yes' : ''}`;
}

/**
 * A change to `replicas` that would remove rooms in use, with a short --timeout: exit 15,
 * nothing scaled, every room it would remove now Draining, the rooms in use untouched.
 */
function waitedOut(m: Model, r: Real, replicas: number, args: string[]): void {
  const res = plugin(r, args);
  assert.equal(res.status, 15, res.stderr);
  // Rooms it would remove are Draining now; rooms it keeps are not.
  for (const p of sh.roomPods(r.ns, RELEASE)) {
    const n = Number(String(p.metadata.name).slice(STS.length + 1));
    if (n >= replicas) m.draining.add(n);
    else m.draining.delete(n);
  }
  verify(m, r);
}

class Scale implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly replicas: number,
    readonly deleteInUse: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.values !== undefined;
  async run(m: Model, r: Real): Promise<void> {
    const inUse = inUseFrom(m, this.replicas);
    if (inUse.length && !this.deleteInUse) {
      waitedOut(m, r, this.replicas, [
        'scale',
        RELEASE,
        '--replicas',
        String(this.replicas),
        '--yes',
        '--timeout',
        '3s',
      ]);
      await Promise.resolve();
      return;
    }
    if (m.values) m.values.replicas = this.replicas;
    if (inUse.length) {
      // Told to: the rooms in use go with their matches, after the confirmation.
      change(m, r, [
        'scale',
        RELEASE,
        '--replicas',
        String(this.replicas),
        '--yes',
        '--delete-in-use',
        '--timeout',
        '2m',
      ]);
      await Promise.resolve();
      return;
    }
    change(m, r, ['scale', RELEASE, '--replicas', String(this.replicas), '--yes', '--timeout', '2m']);
    await Promise.resolve();
  }
  toString = () => `scale --replicas ${this.replicas}${this.deleteInUse ? ' --delete-in-use' : ''}`;
}

class Tolerations implements fc.AsyncCommand<Model, Real> {
  constructor(readonly seconds: number) {}
  check = (m: Readonly<Model>) => m.values !== undefined;
  async run(m: Model, r: Real): Promise<void> {
    // A new template: Free rooms are replaced, rooms in use keep their build (no longer refused).
    if (m.values && m.values.notReady !== this.seconds) newTemplate(m, replicasOf(m.values));
    if (m.values) m.values.notReady = this.seconds;
    change(m, r, ['tolerations', RELEASE, '--not-ready', `${this.seconds}s`, '--yes', '--timeout', '2m']);
    verifyBuilds(m, r);
    await Promise.resolve();
  }
  toString = () => `tolerations --not-ready ${this.seconds}s`;
}

class PinCount implements fc.AsyncCommand<Model, Real> {
  constructor(readonly count: number) {}
  check = (m: Readonly<Model>) => m.values !== undefined;
  async run(m: Model, r: Real): Promise<void> {
    if (m.values) m.values.count = this.count;
    change(m, r, ['install', RELEASE, '--set', `expose.count=${this.count}`, '--yes', '--timeout', '2m']);
    await Promise.resolve();
  }
  toString = () => `install --set expose.count=${this.count}`;
}

class SecondRelease implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => m.values !== undefined;
  async run(m: Model, r: Real): Promise<void> {
    const res = plugin(r, [
      'install',
      'intruder',
      '--no-redis',
      '--replicas',
      '1',
      '--node-port-base',
      String(m.base),
    ]);
    assert.equal(res.status, 4, res.stderr);
    assert.match(res.stderr, /is taken by Service/);
    assert.equal(
      sh.getJson('services', '-n', r.ns, '-l', 'app.kubernetes.io/instance=intruder').items.length,
      0,
    );
    verify(m, r);
    await Promise.resolve();
  }
  toString = () => 'install intruder (on taken nodePorts)';
}

class Uninstall implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => m.values !== undefined;
  async run(m: Model, r: Real): Promise<void> {
    if (m.allocated.size) {
      const refused = plugin(r, ['uninstall', RELEASE]);
      assert.equal(refused.status, 15, refused.stderr);
      verify(m, r);
    }
    const res = plugin(r, ['uninstall', RELEASE, ...(m.allocated.size ? ['--delete-in-use', '--yes'] : [])]);
    assert.equal(res.status, 0, res.stderr);
    m.values = undefined;
    m.allocated.clear();
    m.draining.clear();
    m.outdated.clear();
    m.ended.clear();
    m.cordoned.clear();
    // The release is gone: a later restart has no change of ours to run again (it would install anew).
    r.last = undefined;
    await eventually('the StatefulSet gone', () =>
      sh.kubectl('get', 'statefulset', STS, '-n', r.ns).status !== 0 ? true : undefined,
    );
    verify(m, r);
    // Again: the release is gone, which says so (exit 7) and changes nothing.
    assert.equal(plugin(r, ['uninstall', RELEASE]).status, 7);
    verify(m, r);
  }
  toString = () => 'uninstall';
}

/** kill -9 of a scale while it waits for Pending pods; the same scale again converges. */
class KillMidScale implements fc.AsyncCommand<Model, Real> {
  constructor(readonly replicas: number) {}
  check = (m: Readonly<Model>) => m.values !== undefined && this.replicas > replicasOf(m.values);
  async run(m: Model, r: Real): Promise<void> {
    const hold = (on: boolean) => holdScheduling(on);
    hold(true);
    try {
      const child = spawn(
        'kubectl',
        ['expose-pods', 'scale', RELEASE, '-n', r.ns, '--replicas', String(this.replicas), '--yes'],
        {
          env: sh.env,
        },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise((res) => child.on('exit', res));
      await eventually(
        'the scale to wait for its pods',
        () => (/pods ready \d+\//.test(stderr) ? true : undefined),
        90_000,
      );
      child.kill('SIGKILL');
      await exited;
    } finally {
      hold(false);
    }
    if (m.values) m.values.replicas = this.replicas;
    change(m, r, ['scale', RELEASE, '--replicas', String(this.replicas), '--yes', '--timeout', '2m']);
  }
  toString = () => `kill -9 mid scale --replicas ${this.replicas}, then again`;
}

/** allocate: the lowest room that is neither in use nor Draining, or exit 14; never a room already in use. */
class Allocate implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => m.values !== undefined;
  async run(m: Model, r: Real): Promise<void> {
    const want = nextFree(m);
    const res = plugin(r, ['allocate', RELEASE, '-o', 'json', '--meta', `step=${m.allocated.size}`]);
    if (want === undefined) {
      assert.equal(res.status, 14, res.stderr);
    } else {
      assert.equal(res.status, 0, res.stderr);
      const row = JSON.parse(res.stdout);
      assert.equal(row.pod, `${STS}-${want}`, 'the lowest free room');
      assert.ok(!m.cordoned.has(row.ordinal), 'never a cordoned room');
      took(m, r, row.ordinal, row.pod, row.allocation.id);
    }
    verify(m, r);
    await Promise.resolve();
  }
  toString = () => 'allocate';
}

/** deallocate the pick-th room in use (or, with none, room 0: a no-op that still succeeds). */
class Deallocate implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.values !== undefined && replicasOf(m.values) > 0;
  async run(m: Model, r: Real): Promise<void> {
    const inUse = [...m.allocated.keys()].sort((a, b) => a - b);
    const n = inUse.length ? (inUse[this.pick % inUse.length] ?? 0) : 0;
    const uid = m.allocated.get(n);
    const res = plugin(r, ['deallocate', RELEASE, '--ordinal', String(n), '-o', 'json']);
    assert.equal(res.status, 0, res.stderr);
    const state = m.draining.has(n) ? 'Draining' : m.cordoned.has(n) ? 'Cordoned' : 'Free';
    assert.equal(JSON.parse(res.stdout).state, state);
    await freed(m, r, n, uid);
    verify(m, r);
    verifyBuilds(m, r);
    await Promise.resolve();
  }
  toString = () => `deallocate (room in use #${this.pick})`;
}

/** A room in use whose pod is replaced (deleted outside the plugin): the new pod starts Free. */
class ReplaceRoomInUse implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => m.values !== undefined && m.allocated.size > 0;
  async run(m: Model, r: Real): Promise<void> {
    const [n, uid] = [...m.allocated].sort(([a], [b]) => a - b)[0] ?? [0, ''];
    const pod = `${STS}-${n}`;
    assert.equal(sh.kubectl('delete', 'pod', pod, '-n', r.ns, '--wait=false').status, 0);
    await eventually(`${pod} replaced and Ready`, () => {
      const p = sh.getJson('pods', '-n', r.ns).items.find((x: any) => x.metadata.name === pod);
      return p && p.metadata.uid !== uid && isReadyPod(p) ? true : undefined;
    });
    m.allocated.delete(n);
    m.draining.delete(n);
    m.outdated.delete(n);
    m.cordoned.delete(n);
    verify(m, r);
  }
  toString = () => 'replace the pod of a room in use';
}

/** The room's state as endpoints -o json shows it. */
const stateOf = (r: Real, n: number): string =>
  JSON.parse(plugin(r, ['endpoints', RELEASE, '-o', 'json']).stdout).endpoints[n]?.state;

/** The state the model expects of room n (it has a pod). */
const modelState = (m: Readonly<Model>, n: number) =>
  m.allocated.has(n) ? 'Allocated' : m.draining.has(n) ? 'Draining' : m.cordoned.has(n) ? 'Cordoned' : 'Free';

/**
 * A container restart of the pick-th room, as its kubelet reports it: a room in use ends its
 * match (Free, its marks kept, allocatable again, nothing waits for it); any other room is as it was.
 */
class RestartRoom implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.values !== undefined && replicasOf(m.values) > 0;
  async run(m: Model, r: Real): Promise<void> {
    const inUse = [...m.allocated.keys()].sort((a, b) => a - b);
    const n = inUse.length ? (inUse[this.pick % inUse.length] ?? 0) : this.pick % replicasOf(m.values ?? {});
    const pod = `${STS}-${n}`;
    const restarts = Number(
      sh.getJson('pod', pod, '-n', r.ns).status.containerStatuses?.[0]?.restartCount ?? 0,
    );
    const patch = [{ op: 'replace', path: '/status/containerStatuses/0/restartCount', value: restarts + 1 }];
    const res = sh.kubectl(
      'patch',
      'pod',
      pod,
      '-n',
      r.ns,
      '--subresource',
      'status',
      '--type',
      'json',
      '-p',
      JSON.stringify(patch),
    );
    assert.equal(res.status, 0, res.stderr);
    const uid = m.allocated.get(n);
    if (uid !== undefined) {
      m.allocated.delete(n);
      m.ended.set(n, uid);
    }
    assert.equal(stateOf(r, n), modelState(m, n), `${pod} after a restart`);
    verify(m, r);
    await Promise.resolve();
  }
  toString = () => `restart a container of room #${this.pick}`;
}

/** cordon (or uncordon) the pick-th room, twice: the second converges; its allocation is untouched. */
class Cordon implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly pick: number,
    readonly on: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.values !== undefined && replicasOf(m.values) > 0;
  async run(m: Model, r: Real): Promise<void> {
    const n = this.pick % replicasOf(m.values ?? {});
    const args = [this.on ? 'cordon' : 'uncordon', RELEASE, '--ordinal', String(n), '-o', 'json'];
    const res = plugin(r, args);
    assert.equal(res.status, 0, res.stderr);
    if (this.on) m.cordoned.add(n);
    else m.cordoned.delete(n);
    const row = JSON.parse(res.stdout);
    assert.deepEqual([row.state, row.cordoned], [modelState(m, n), this.on]);
    const again = plugin(r, args);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /nothing to change/);
    verify(m, r);
    await Promise.resolve();
  }
  toString = () => `${this.on ? 'cordon' : 'uncordon'} room #${this.pick}`;
}

/**
 * allocate --allocation-id, then the same again (a retry after a lost answer): a fresh id, or one
 * handed out before (live: its room, nothing written; ended: a new allocation, as a fresh one).
 */
class AllocateById implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly pick: number,
    readonly fresh: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.values !== undefined;
  async run(m: Model, r: Real): Promise<void> {
    const used = m.usedIds;
    const id =
      this.fresh || !used.length ? `k${used.length}-${this.pick}` : (used[this.pick % used.length] ?? '');
    const live = liveAt(m, id);
    const want = live ?? nextFree(m);
    const args = ['allocate', RELEASE, '--allocation-id', id, '-o', 'json'];
    const res = plugin(r, args);
    if (want === undefined) {
      assert.equal(res.status, 14, res.stderr);
      verify(m, r);
      return;
    }
    assert.equal(res.status, 0, res.stderr);
    const row = JSON.parse(res.stdout);
    assert.deepEqual([row.pod, row.allocation.id], [`${STS}-${want}`, id]);
    if (live === undefined) took(m, r, want, row.pod, id);
    else assert.match(res.stderr, /nothing new allocated/);
    verify(m, r);
    const retry = plugin(r, args);
    assert.equal(retry.status, 0, retry.stderr);
    assert.equal(JSON.parse(retry.stdout).pod, row.pod, 'a retry with the same id gets the same room');
    verify(m, r);
    await Promise.resolve();
  }
  toString = () => `allocate --allocation-id (${this.fresh ? 'new' : `handed out #${this.pick}`}), twice`;
}

/**
 * deallocate --allocation-id of an id handed out before (live or ended), by id alone or naming a
 * room too, then the same again (a retry): it ends that allocation only, and the retry nothing.
 */
class DeallocateById implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly pick: number,
    readonly named: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.values !== undefined && replicasOf(m.values) > 0;
  async run(m: Model, r: Real): Promise<void> {
    const id = m.usedIds.length ? (m.usedIds[this.pick % m.usedIds.length] ?? '') : 'never-handed-out';
    const live = liveAt(m, id);
    const room = this.named ? this.pick % replicasOf(m.values ?? {}) : undefined;
    const ends = live !== undefined && (room === undefined || room === live);
    const args = [
      'deallocate',
      RELEASE,
      '--allocation-id',
      id,
      ...(room === undefined ? [] : ['--ordinal', String(room)]),
      '-o',
      'json',
    ];
    const res = plugin(r, args);
    assert.equal(res.status, 0, res.stderr);
    const out = JSON.parse(res.stdout);
    assert.equal(out.ended, ends, `${args.join(' ')} ends it iff the room holds it`);
    // Rooms whose match a restart ended with this id: their leftover marks go too (those named).
    const leftovers = [...m.ended.keys()].filter(
      (n) => m.ids.get(n) === id && (room === undefined || room === n),
    );
    if (ends) {
      const state = m.draining.has(live) ? 'Draining' : m.cordoned.has(live) ? 'Cordoned' : 'Free';
      assert.equal(out.endpoint.state, state);
      await freed(m, r, live, m.allocated.get(live));
    } else assert.match(res.stderr, /had already ended/);
    for (const n of leftovers) m.ended.delete(n);
    verify(m, r);
    const retry = plugin(r, args);
    assert.equal(retry.status, 0, retry.stderr);
    assert.equal(JSON.parse(retry.stdout).ended, false, 'a retried deallocate ends nothing');
    verify(m, r);
  }
  toString = () =>
    `deallocate --allocation-id (handed out #${this.pick}${this.named ? ', naming a room' : ''}), twice`;
}

class RestartApiServer implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const res = run('bash', [path.join(ROOT, 'test/cluster/cluster.sh'), 'restart-apiserver']);
    assert.equal(res.status, 0, res.stderr);
    verify(m, r);
    if (r.last) {
      const again = plugin(r, r.last);
      assert.equal(again.status, 0, `after the restart, again: ${r.last.join(' ')}:\n${again.stderr}`);
      // A change that goes through returns the rooms it keeps to service.
      if (m.values) settled(m, replicasOf(m.values));
      verify(m, r);
    }
    await Promise.resolve();
  }
  toString = () => 'restart the API server';
}

const commands = [
  fc
    .tuple(
      fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
      fc.option(fc.constantFrom('2.50', '2.51'), { nil: undefined }),
      fc.boolean(),
    )
    .map(([n, t, y]) => new Install(n, t, y)),
  fc.tuple(fc.integer({ min: 0, max: 5 }), fc.boolean()).map(([n, d]) => new Scale(n, d)),
  fc.integer({ min: 5, max: 60 }).map((s) => new Tolerations(s)),
  fc.integer({ min: 1, max: 6 }).map((c) => new PinCount(c)),
  fc.constant(new SecondRelease()),
  fc.constant(new Uninstall()),
  fc.integer({ min: 3, max: 6 }).map((n) => new KillMidScale(n)),
  fc.constant(new RestartApiServer()),
  fc.constant(new Allocate()),
  fc.constant(new Allocate()),
  fc.integer({ min: 0, max: 5 }).map((k) => new Deallocate(k)),
  fc.constant(new ReplaceRoomInUse()),
  fc.integer({ min: 0, max: 5 }).map((k) => new RestartRoom(k)),
  fc.tuple(fc.integer({ min: 0, max: 5 }), fc.boolean()).map(([k, on]) => new Cordon(k, on)),
  // Allocation ids (issue 36): allocates by id, and retried or late deallocates by id.
  fc.tuple(fc.nat({ max: 7 }), fc.boolean()).map(([k, fresh]) => new AllocateById(k, fresh)),
  fc.tuple(fc.nat({ max: 7 }), fc.boolean()).map(([k, named]) => new DeallocateById(k, named)),
];

describe('model-based sequences of day-two commands (fast-check, real control plane)', () => {
  it(
    `${RUNS} seeded sequences of up to ${MAX_COMMANDS} commands keep the model (seed ${SEED})`,
    { timeout: 60 * 60_000 },
    async () => {
      let runNo = 0;
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: MAX_COMMANDS, size: 'max' }), async (cmds) => {
          const ns = `e2e-seq-${SEED % 1000}-${runNo++}`;
          assert.equal(sh.kubectl('create', 'namespace', ns).status, 0);
          // Each run gets its own ports, clear of every other e2e file's.
          const base = 30000 + (runNo % 15) * 40;
          try {
            // Every sequence starts from an installed release: most commands need one.
            const first = plugin({ sh, ns }, [
              'install',
              RELEASE,
              '--no-redis',
              '--replicas',
              '2',
              '--node-port-base',
              String(base),
              '--timeout',
              '2m',
            ]);
            assert.equal(first.status, 0, first.stderr);
            const model: Model = {
              base,
              values: { replicas: 2 },
              allocated: new Map(),
              draining: new Set(),
              outdated: new Set(),
              ended: new Map(),
              cordoned: new Set(),
              ids: new Map(),
              usedIds: [],
            };
            const real: Real = { sh, ns };
            verify(model, real);
            await fc
              .asyncModelRun(() => ({ model, real }), cmds)
              .catch((e: unknown) => {
                // fast-check reports the sequence, not why it failed: say it here.
                console.log(
                  `sequence ${runNo} in ${ns} failed: ${e instanceof Error ? e.message : String(e)}`,
                );
                throw e;
              });
            // What ran, for the log; a failure prints the seed and the shrunk sequence by itself.
            // fast-check's commands value prints the commands that ran (its toString is not in its type).
            // eslint-disable-next-line @typescript-eslint/no-base-to-string
            console.log(`sequence ${runNo} in ${ns}: install --replicas 2, ${String(cmds)}`);
          } finally {
            sh.kubectl('delete', 'namespace', ns, '--wait=false');
          }
        }),
        { seed: SEED, numRuns: RUNS, verbose: fc.VerbosityLevel.Verbose },
      );
    },
  );
});
