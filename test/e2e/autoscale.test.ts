import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { ExitCode } from '../../src/index.js';
import {
  eventually,
  holdScheduling,
  isReadyPod,
  pluginInBackground,
  printClusterLogsOnFailure,
  userShell,
} from '../support/e2e.js';
import { HELMS, ROOT, run, type Run } from '../support/tools.js';

after(printClusterLogsOnFailure);

// Issue 37's proof on the real control plane: `kubectl expose-pods autoscale` as a user runs it,
// in the background beside the allocations a matchmaker makes with `allocate`. The tests share one
// release and follow on from each other: each starts from the fleet the one before left.
describe(
  'autoscale: a buffer of Free rooms, kept by watches, never removing a room in use',
  { timeout: 600_000 },
  () => {
    const sh = userShell(HELMS[1].path);
    const ns = 'e2e-autoscale';
    const release = 'auto';
    const sts = `${release}-expose-pods`;
    // Free in the whole e2e run: scale's burst goes up to 32724; --max 20 stays within 32759.
    const base = 32740;
    const delay = '15s';
    const lease = `${release}-expose-pods-autoscaler`;
    const settings = ['--buffer', '3', '--min', '3', '--max', '20', '--scale-down-delay', delay];

    /** An autoscaler running in the background: its stdout lines (parsed with -o json), its stderr, its exit. */
    type Background = ReturnType<typeof pluginInBackground<any>>;
    const started: Background[] = [];
    function autoscale(output: 'json' | 'text', extra: string[] = []): Background {
      const args = ['autoscale', release, '-n', ns, ...settings, ...extra, '--timeout', '3m', '-o', output];
      const b = pluginInBackground(sh.env, args, (l): any => (output === 'json' ? JSON.parse(l) : l));
      started.push(b);
      return b;
    }
    // No autoscaler outlives the file, whatever failed; the scheduler is never left held.
    after(async () => {
      holdScheduling(false);
      if (process.exitCode)
        for (const b of started)
          console.error(`autoscaler ${b.child.pid}:\n${b.lines.join('\n')}\n${b.stderr()}`);
      for (const b of started)
        if (b.child.exitCode === null && b.child.signalCode === null) {
          b.child.kill('SIGKILL');
          await b.exited;
        }
    });

    /** Until fn gives a value; fails at once, with its stderr, if the autoscaler exits meanwhile. */
    const until = <T>(
      b: Background,
      what: string,
      fn: () => T | undefined | Promise<T | undefined>,
      ms = 90_000,
    ): Promise<T> =>
      Promise.race([
        eventually(what, fn, ms),
        b.exited.then((code): never => {
          throw new Error(`the autoscaler exited (${code}) while waiting for ${what}:\n${b.stderr()}`);
        }),
      ]);
    /** The first event of a type from index `from` on (and matching `pred`), with its index. */
    const nextEvent = (b: Background, from: number, type: string, pred: (e: any) => boolean = () => true) =>
      until(b, `a ${type} event after #${from}`, () => {
        const i = b.events.findIndex((e, j) => j >= from && e.type === type && pred(e));
        return i >= 0 ? { e: b.events[i], i } : undefined;
      });

    /** A command run without blocking this process, so the autoscaler's lines are read meanwhile. */
    const plugin = (...args: string[]): Promise<Run> =>
      new Promise((resolve, reject) => {
        const child = spawn('kubectl', ['expose-pods', ...args, '-n', ns], { env: sh.env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });

    /**
     * `allocate -o json` as a matchmaker retries it: again while it is refused
     * (exit 14, no Free room). It must succeed at the latest on the first try
     * made after a scale-up decided after its first refusal has finished
     * (`scaling` after the refusal, then its `scaled`): never more than the
     * time of one scale-up. Returns the room and how many tries were refused.
     */
    async function allocate(b: Background): Promise<{ pod: string; refused: number }> {
      let refusedAt: number | undefined;
      let refused = 0;
      for (;;) {
        await new Promise((r) => setImmediate(r));
        const seen = b.events.length;
        const r = await plugin('allocate', release, '-o', 'json');
        if (r.status === 0) return { pod: JSON.parse(r.stdout).pod, refused };
        assert.equal(r.status, ExitCode.NO_FREE_ROOM, r.stderr);
        refused++;
        refusedAt ??= b.events.length;
        const scaling = b.events.findIndex((e, i) => i >= refusedAt! && e.type === 'scaling');
        const done =
          scaling >= 0 && b.events.findIndex((e, i) => i > scaling && i < seen && e.type === 'scaled') >= 0;
        assert.ok(
          !done,
          `allocate was still refused after the scale-up that followed its first refusal had finished:\n${r.stderr}\n${b.lines.join('\n')}`,
        );
        await until(b, 'the autoscaler to report something new', () =>
          b.events.length > seen ? true : undefined,
        );
      }
    }
    const deallocate = async (ordinal: number) => {
      const r = await plugin('deallocate', release, `${sts}-${ordinal}`, '-o', 'json');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).state, 'Free');
    };

    /** The fleet as `endpoints -o json` and the StatefulSet show it. */
    const fleet = async () => {
      const r = await plugin('endpoints', release, '-o', 'json');
      assert.equal(r.status, 0, r.stderr);
      const rows: any[] = JSON.parse(r.stdout).endpoints;
      const s = sh.getJson('statefulset', sts, '-n', ns);
      return {
        replicas: s.spec.replicas as number,
        ready: (s.status.readyReplicas ?? 0) as number,
        allocated: rows.filter((e) => e.state === 'Allocated').map((e) => e.ordinal as number),
        free: rows.filter((e) => e.state === 'Free' && e.ready).length,
      };
    };
    /** Each room has its per-pod Service, on its own nodePort (base + ordinal), and no Service is left over. */
    const servicesFollow = (replicas: number) => {
      const services = sh
        .podServices(ns, release)
        .map((s) => [s.spec.selector['statefulset.kubernetes.io/pod-name'], s.spec.ports[0].nodePort])
        .sort(([a], [b]) => String(a).localeCompare(String(b), 'en', { numeric: true }));
      const want = Array.from({ length: replicas }, (_, i) => [`${sts}-${i}`, base + i]);
      assert.deepEqual(services, want);
      assert.equal(sh.roomPods(ns, release).filter(isReadyPod).length, replicas);
    };
    const leaseHolder = () => sh.getJson('lease', lease, '-n', ns).spec.holderIdentity as string;

    before(() => {
      const r = sh.install(release, {
        ns,
        replicas: 3,
        nodePortBase: base,
        redis: false,
        set: ['room.podManagementPolicy=Parallel'],
      });
      assert.equal(r.status, 0, r.stderr);
    });

    let first: Background;

    it('--buffer 3 --min 3 --max 20 on 3 rooms: 5 allocations one by one bring 8 rooms, 3 Free, each with its Service', async () => {
      first = autoscale('json');
      const { e: start } = await nextEvent(first, 0, 'started');
      assert.deepEqual(
        [start.schemaVersion, start.release, start.namespace, start.policy, start.rooms],
        [
          1,
          release,
          ns,
          { buffer: '3', min: 3, max: 20, scaleDownDelaySeconds: 15, lead: false },
          { replicas: 3, allocated: 0, free: 3, cordoned: 0 },
        ],
      );
      assert.ok(!Number.isNaN(Date.parse(start.time)));
      assert.equal(leaseHolder().split('/')[2], String(first.child.pid), 'the Lease names this process');

      const rooms: string[] = [];
      let refusals = 0;
      for (let i = 0; i < 5; i++) {
        const { pod, refused } = await allocate(first);
        rooms.push(pod);
        refusals += refused;
      }
      assert.equal(new Set(rooms).size, 5, `five rooms, one per match: ${rooms.join(' ')}`);
      await until(first, '8 rooms Ready, 5 Allocated and 3 Free', async () => {
        const f = await fleet();
        return f.replicas === 8 && f.ready === 8 && f.allocated.length === 5 && f.free === 3 ? f : undefined;
      });
      const last = await nextEvent(first, 0, 'scaled', (e) => e.to === 8);
      assert.equal(
        first.events.slice(last.i + 1).filter((e) => e.type === 'scaling').length,
        0,
        'nothing more to scale',
      );
      servicesFollow(8);

      // Every step was a scale-up to Allocated + 3, said as such, and each finished.
      const steps = first.events.filter((e) => e.type === 'scaling');
      assert.ok(steps.length >= 1);
      for (const s of steps) {
        assert.equal(s.direction, 'up');
        assert.equal(s.to, Number(s.rooms.allocated) + 3);
        assert.equal(
          s.message,
          `Allocated ${s.rooms.allocated}, Free ${s.rooms.free} < buffer 3: scaling ${s.from} -> ${s.to}`,
        );
        assert.ok(
          first.events.some((e) => e.type === 'scaled' && e.from === s.from && e.to === s.to),
          `scaled ${s.from} -> ${s.to}`,
        );
      }
      assert.equal(steps.at(-1).to, 8);
      // One scale at a time, each from where the last one left the fleet: no queue of upgrades.
      for (let k = 1; k < steps.length; k++) assert.equal(steps[k].from, steps[k - 1].to);
      assert.deepEqual(
        first.events.filter((e) => e.type === 'retrying'),
        [],
        'no step failed',
      );
      console.log(`allocate refused ${refusals} time(s) over 5 allocations; ${steps.length} scale-up(s)`);
    });

    it('--scale-down-delay 15s: all but the top room in use freed; nothing removed before the delay, then down to that room + 1, which keeps its UID and its match', async () => {
      const { allocated } = await fleet();
      const top = Math.max(...allocated);
      const pod = sh.getJson('pod', `${sts}-${top}`, '-n', ns);
      const from = first.events.length;
      for (const o of allocated.filter((x) => x !== top)) await deallocate(o);

      const pending = await nextEvent(first, from, 'pending');
      assert.equal(pending.e.from, 8);
      assert.equal(sh.getJson('statefulset', sts, '-n', ns).spec.replicas, 8, 'nothing removed yet');
      // One room in use at ordinal `top`: the buffer wants 1 + 3, the room in use keeps top + 1.
      const expected = Math.max(3, 1 + 3, top + 1);
      assert.equal(expected, 5);
      await until(
        first,
        `${expected} rooms`,
        async () => {
          const f = await fleet();
          return f.replicas === expected && f.ready === expected ? f : undefined;
        },
        150_000,
      );
      await nextEvent(first, from, 'scaled', (e) => e.to === expected);

      // Each step down waited its delay after the pending event that announced it, and none went lower.
      const downs = first.events.slice(from).filter((e) => e.type === 'scaling');
      assert.ok(downs.length >= 1);
      for (const d of downs) {
        assert.equal(d.direction, 'down');
        assert.ok(d.to >= expected, `${d.from} -> ${d.to}`);
        const announced = first.events
          .slice(from)
          .find((e) => e.type === 'pending' && e.from === d.from && e.to === d.to);
        assert.ok(announced, `a pending event for ${d.from} -> ${d.to}`);
        assert.ok(Date.parse(d.time) >= Date.parse(announced.at), `${d.time} is not before ${announced.at}`);
        assert.match(d.message, /> buffer 3 for 15s: scaling \d+ -> \d+, removing only Free rooms$/);
      }
      assert.equal(downs.at(-1).to, expected);
      servicesFollow(expected);

      const after = sh.getJson('pod', `${sts}-${top}`, '-n', ns);
      assert.equal(after.metadata.uid, pod.metadata.uid, 'the room in use was never replaced');
      assert.equal(after.metadata.labels['expose-pods.io/state'], 'Allocated');
      assert.equal(
        after.metadata.annotations['expose-pods.io/allocation-id'],
        pod.metadata.annotations['expose-pods.io/allocation-id'],
      );
      assert.equal(first.child.exitCode, null);
    });

    let second: Background;

    it('a second autoscaler exits 9 naming the first; after the first is killed (SIGKILL) one takes over and goes on scaling', async () => {
      const refused = autoscale('json');
      assert.equal(await refused.exited, ExitCode.CONFLICT, refused.stderr());
      assert.match(
        refused.stderr(),
        new RegExp(
          `^error: another operation is in progress on release ${release}: autoscale --buffer 3 --min 3 --max 20 --scale-down-delay 15s by kubectl-expose-pods/[^/]+/${first.child.pid}/[0-9a-f]{12} since `,
          'm',
        ),
      );
      assert.deepEqual(refused.events, [], 'no event from an autoscaler that never started');
      assert.equal(leaseHolder().split('/')[2], String(first.child.pid), 'the first still holds the Lease');

      first.child.kill('SIGKILL');
      assert.equal(await first.exited, null);
      second = autoscale('json');
      // It waits for the Lease to stay unrenewed for its 30s, then takes it.
      const notice = await nextEvent(second, 0, 'notice');
      assert.match(notice.e.message, /held by .*; waiting up to 30s to see whether it is renewed/);
      const { e: start } = await nextEvent(second, 0, 'started');
      assert.ok(Date.parse(start.time) - Date.parse(notice.e.time) >= 30_000, 'not before the Lease lapsed');
      assert.equal(leaseHolder().split('/')[2], String(second.child.pid));
      assert.deepEqual(start.rooms, { replicas: 5, allocated: 1, free: 4, cordoned: 0 });

      // Two more matches: Allocated 3 of 5, Free 2 < 3: it scales up to 6.
      const from = second.events.length;
      await allocate(second);
      await allocate(second);
      const up = await nextEvent(second, from, 'scaling');
      assert.deepEqual([up.e.direction, up.e.from, up.e.to], ['up', 5, 6]);
      await nextEvent(second, up.i, 'scaled', (e) => e.from === 5 && e.to === 6);
      servicesFollow(6);
    });

    it('the API server restarts mid-loop: the autoscaler carries on, and a later allocation is followed by a scale-up', async () => {
      const from = second.events.length;
      const restart = run('bash', [path.join(ROOT, 'test/cluster/cluster.sh'), 'restart-apiserver']);
      assert.equal(restart.status, 0, restart.stderr);
      await eventually('the API server back', () =>
        sh.kubectl('get', '--raw', '/readyz').status === 0 ? true : undefined,
      );
      // It saw its watches drop, and reconnected by itself.
      await nextEvent(second, from, 'notice', (e) => /^the watch on .* was lost/.test(e.message));
      // Allocated 4 of 6, Free 2 < 3: up to 7.
      await allocate(second);
      const up = await nextEvent(second, from, 'scaling');
      assert.deepEqual([up.e.direction, up.e.from, up.e.to], ['up', 6, 7]);
      await nextEvent(second, up.i, 'scaled', (e) => e.to === 7);
      assert.equal(second.child.exitCode, null, `still running:\n${second.stderr()}`);
      servicesFollow(7);

      // Ctrl-C: exit 0 after a `stopped` event, and the Lease is given back.
      second.child.kill('SIGINT');
      assert.equal(await second.exited, 0, second.stderr());
      assert.equal(second.events.at(-1).type, 'stopped');
      assert.match(second.stderr(), /SIGINT: stopping once the scale in flight, if any, has finished/);
      const gone = sh.kubectl('get', 'lease', lease, '-n', ns);
      assert.notEqual(gone.status, 0);
      assert.match(gone.stderr, /NotFound/);
    });

    it('-o text: a line per decision; Ctrl-C during a scale-up lets it finish, then exits 0', async () => {
      const text = autoscale('text');
      const startLine = new RegExp(
        `^\\d\\d:\\d\\d:\\d\\d autoscaling ${release} in ${ns}: buffer 3, min 3, max 20, scale-down delay 15s; 7 rooms: Allocated 4, Free 3$`,
      );
      await until(text, 'the started line', () =>
        text.lines.some((l) => startLine.test(l)) ? true : undefined,
      );
      // Allocated 5 of 7, Free 2 < 3: up to 8.
      const r = await plugin('allocate', release, '-o', 'json');
      assert.equal(r.status, 0, r.stderr);
      const scaling = /^\d\d:\d\d:\d\d Allocated 5, Free 2 < buffer 3: scaling 7 -> 8$/;
      await until(text, 'the scaling line', () =>
        text.lines.some((l) => scaling.test(l)) ? true : undefined,
      );
      text.child.kill('SIGINT');
      assert.equal(await text.exited, 0, text.stderr());
      assert.match(text.lines.join('\n'), /^\d\d:\d\d:\d\d scaled 7 -> 8 in [\d.]+s \(revision \d+\)$/m);
      assert.match(text.lines.at(-1) ?? '', /^\d\d:\d\d:\d\d autoscaler stopped$/);
      assert.doesNotMatch(text.stderr(), /error|at .*\.js:\d+/);
      servicesFollow(8);
    });

    it('allocations made while a scale-up runs are folded into the next one; SIGTERM ends it with exit 0', async () => {
      const fold = autoscale('json');
      const { e: start } = await nextEvent(fold, 0, 'started');
      assert.deepEqual(start.rooms, { replicas: 8, allocated: 5, free: 3, cordoned: 0 });
      // New pods stay Pending while the scheduler is held: the scale-up 8 -> 9 is certainly still running.
      holdScheduling(true);
      try {
        const a = await plugin('allocate', release, '-o', 'json');
        assert.equal(a.status, 0, a.stderr);
        const up = await nextEvent(fold, 0, 'scaling');
        assert.deepEqual([up.e.from, up.e.to], [8, 9]);
        // Two more matches take the last Free rooms, a third is refused, while 8 -> 9 waits for its pod.
        for (let i = 0; i < 2; i++) {
          const r = await plugin('allocate', release, '-o', 'json');
          assert.equal(r.status, 0, r.stderr);
        }
        const refused = await plugin('allocate', release, '-o', 'json');
        assert.equal(refused.status, ExitCode.NO_FREE_ROOM, refused.stderr);
        assert.equal(fold.events.filter((e) => e.type === 'scaling').length, 1, 'nothing queued behind it');
      } finally {
        holdScheduling(false);
      }
      const done = await nextEvent(fold, 0, 'scaled', (e) => e.from === 8 && e.to === 9);
      // The next step covers both allocations made meanwhile at once (Allocated 8: 11 rooms), not one upgrade each.
      const next = await nextEvent(fold, done.i, 'scaling');
      assert.deepEqual([next.e.direction, next.e.from, next.e.rooms.allocated], ['up', 9, 8]);
      assert.equal(next.e.to, 11);
      // The refused match, retried: a room within that scale-up at the latest.
      await allocate(fold);
      const f = await until(fold, '3 Free rooms again', async () => {
        const x = await fleet();
        return x.free === 3 && x.ready === x.replicas ? x : undefined;
      });
      assert.deepEqual([f.replicas, f.allocated.length], [12, 9]);
      await nextEvent(fold, done.i, 'scaled', (e) => e.to === 12);
      servicesFollow(12);

      fold.child.kill('SIGTERM');
      assert.equal(await fold.exited, 0, fold.stderr());
      assert.equal(fold.events.at(-1).type, 'stopped');
    });

    it('--lead: the rooms taken while a scale-up ran are added to the next one; status shows the setting', async () => {
      const lead = autoscale('json', ['--lead']);
      const { e: start } = await nextEvent(lead, 0, 'started');
      assert.deepEqual(start.policy, { buffer: '3', min: 3, max: 20, scaleDownDelaySeconds: 15, lead: true });
      assert.deepEqual(start.rooms, { replicas: 12, allocated: 9, free: 3, cordoned: 0 });
      const st = await plugin('status', release);
      assert.match(st.stdout, /^AUTOSCALER active: buffer 3, min 3, max 20, scale-down delay 15s, lead \(/m);
      holdScheduling(true);
      try {
        const a = await plugin('allocate', release, '-o', 'json');
        assert.equal(a.status, 0, a.stderr);
        // The first step has no step before it: no lead.
        const up = await nextEvent(lead, 0, 'scaling');
        assert.deepEqual([up.e.from, up.e.to], [12, 13]);
        // Two matches taken while it waits for its pod: the lead of the next step.
        for (let i = 0; i < 2; i++) {
          const r = await plugin('allocate', release, '-o', 'json');
          assert.equal(r.status, 0, r.stderr);
        }
      } finally {
        holdScheduling(false);
      }
      const done = await nextEvent(lead, 0, 'scaled', (e) => e.from === 12 && e.to === 13);
      const next = await nextEvent(lead, done.i, 'scaling');
      // Allocated 12 + buffer 3 = 15, and the 2 taken during the last step: 17.
      assert.deepEqual(
        [next.e.direction, next.e.from, next.e.to, next.e.rooms.allocated],
        ['up', 13, 17, 12],
      );
      // (Free 0 or 1: the new room's readiness may reach the watches just after the StatefulSet's.)
      assert.match(
        next.e.message,
        /^Allocated 12, Free [01] < buffer 3 \(\+2 taken during the last step, expected during this one\): scaling 13 -> 17$/,
      );
      await nextEvent(lead, next.i, 'scaled', (e) => e.to === 17);
      const f = await until(lead, '17 rooms Ready, 5 Free', async () => {
        const x = await fleet();
        return x.replicas === 17 && x.ready === 17 && x.free === 5 ? x : undefined;
      });
      assert.equal(f.allocated.length, 12);
      servicesFollow(17);
      // No allocation during that step: the lead lapses, and nothing more is scaled.
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(lead.events.filter((e) => e.type === 'scaling').length, 2, lead.lines.join('\n'));

      lead.child.kill('SIGTERM');
      assert.equal(await lead.exited, 0, lead.stderr());
    });
  },
);
