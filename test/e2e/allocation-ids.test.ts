import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createAllocator, deallocate, ExitCode } from '../../src/index.js';
import { eventually, isReadyPod, printClusterLogsOnFailure, userShell } from '../support/e2e.js';
import { HELMS } from '../support/tools.js';

after(printClusterLogsOnFailure);

// Allocations with an identity on the real control plane: a retried allocate gets the room the
// first try took, and a retried or late deallocate never ends the next match's allocation.
describe('allocation ids: one room, one match', { timeout: 600_000 }, () => {
  const sh = userShell(HELMS[1].path);
  const ns = 'e2e-alloc-ids';
  const release = 'ids';
  const sts = `${release}-expose-pods`;
  const plugin = (...args: string[]) => sh.kubectl('expose-pods', ...args, '-n', ns);
  const json = (...args: string[]) => {
    const r = plugin(...args, '-o', 'json');
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    return { out: JSON.parse(r.stdout), stderr: r.stderr };
  };
  /** The rooms marked Allocated, with the allocation id on each pod: [pod, id]. */
  const allocated = (): [string, string][] =>
    sh
      .roomPods(ns, release)
      .filter((p) => p.metadata.labels?.['expose-pods.io/state'] === 'Allocated')
      .map((p): [string, string] => [
        p.metadata.name,
        p.metadata.annotations?.['expose-pods.io/allocation-id'],
      ])
      .sort(([a], [b]) => a.localeCompare(b));

  before(() => {
    const r = sh.install(release, {
      ns,
      replicas: 3,
      nodePortBase: 31900,
      redis: false,
      set: ['room.podManagementPolicy=Parallel'],
    });
    assert.equal(r.status, 0, r.stderr);
  });

  it('allocate --allocation-id K twice returns the same room, and one room is Allocated', () => {
    const first = json('allocate', release, '--allocation-id', 'match-1');
    assert.deepEqual([first.out.pod, first.out.allocation.id], [`${sts}-0`, 'match-1']);
    const again = json('allocate', release, '--allocation-id', 'match-1');
    assert.equal(again.out.pod, first.out.pod, 'the retry gets the room the first try took');
    assert.equal(again.out.allocation.allocatedAt, first.out.allocation.allocatedAt, 'nothing written again');
    assert.match(again.stderr, /allocation match-1 holds ids-expose-pods-0 already: nothing new allocated/);
    assert.deepEqual(allocated(), [[`${sts}-0`, 'match-1']]);
    // Without an id, one is generated and shown in the row and in -o wide.
    const other = json('allocate', release);
    assert.match(other.out.allocation.id, /^[0-9a-f-]{36}$/);
    const wide = plugin('endpoints', release, '-o', 'wide', '--ordinal', '1');
    assert.match(wide.stdout, new RegExp(`${other.out.allocation.id} \\S+Z$`, 'm'));
    const bad = plugin('allocate', release, '--allocation-id', 'not an id');
    assert.equal(bad.status, ExitCode.USAGE, bad.stderr);
    assert.match(bad.stderr, /^error: --allocation-id "not an id": use 1 to 128 letters/m);
    const d = json('deallocate', release, '--allocation-id', other.out.allocation.id);
    assert.equal(d.out.ended, true);
  });

  it('a retried deallocate --allocation-id after the room was allocated again leaves the new allocation in place', () => {
    const ended = json('deallocate', release, '--allocation-id', 'match-1');
    assert.deepEqual(
      [ended.out.ended, ended.out.endpoint.pod, ended.out.endpoint.state],
      [true, `${sts}-0`, 'Free'],
    );
    // The next match gets the same room (the lowest Free one).
    const next = json('allocate', release, '--allocation-id', 'match-2');
    assert.equal(next.out.pod, `${sts}-0`);
    // The first deallocate's retry (its answer was lost): nothing written, exit 0, said so.
    const before = sh.getJson('pod', `${sts}-0`, '-n', ns).metadata.resourceVersion;
    const retry = json('deallocate', release, '--allocation-id', 'match-1');
    assert.deepEqual(retry.out, { allocationId: 'match-1', ended: false, endpoint: null });
    assert.match(retry.stderr, /allocation match-1 had already ended: no room holds it; nothing to change/);
    const table = plugin('deallocate', release, '--allocation-id', 'match-1');
    assert.deepEqual([table.status, table.stdout], [0, '']);
    // Naming the room too: it holds another allocation, so nothing changes either.
    const named = json('deallocate', release, `${sts}-0`, '--allocation-id', 'match-1');
    assert.deepEqual([named.out.ended, named.out.endpoint.allocation.id], [false, 'match-2']);
    assert.equal(
      sh.getJson('pod', `${sts}-0`, '-n', ns).metadata.resourceVersion,
      before,
      'nothing was written',
    );
    assert.deepEqual(allocated(), [[`${sts}-0`, 'match-2']]);
  });

  it("a room replaced and allocated again is safe from the old match's deallocate", async () => {
    const uid = sh.getJson('pod', `${sts}-0`, '-n', ns).metadata.uid;
    assert.equal(sh.kubectl('delete', 'pod', `${sts}-0`, '-n', ns, '--wait=false').status, 0);
    await eventually(`${sts}-0 replaced and Ready`, () => {
      const p = sh.roomPods(ns, release).find((x) => x.metadata.name === `${sts}-0`);
      return p && p.metadata.uid !== uid && isReadyPod(p) ? true : undefined;
    });
    const next = json('allocate', release, '--allocation-id', 'match-3');
    assert.equal(next.out.pod, `${sts}-0`, 'the new pod started Free');
    const late = json('deallocate', release, '--allocation-id', 'match-2');
    assert.equal(late.out.ended, false);
    assert.deepEqual(allocated(), [[`${sts}-0`, 'match-3']]);
    assert.equal(json('deallocate', release, '--allocation-id', 'match-3').out.ended, true);
    assert.deepEqual(allocated(), []);
  });

  it('the library allocator: ids on allocate and deallocate, a retry returns the same room, a late deallocate ends nothing', async () => {
    const opts = { release, namespace: ns, kubeconfig: sh.env.KUBECONFIG };
    const rooms = await createAllocator(opts);
    try {
      const a = await rooms.allocate({ allocationId: 'lib-1', metadata: { match: 'lib-1' } });
      const again = await rooms.allocate({ allocationId: 'lib-1' });
      assert.equal(again.pod, a.pod);
      const [b, c] = await Promise.all([
        rooms.allocate({ allocationId: 'lib-2' }),
        rooms.allocate({ allocationId: 'lib-2' }),
      ]);
      assert.equal(b.pod, c.pod, 'one id, one room, even for concurrent calls');
      assert.notEqual(b.pod, a.pod);
      assert.deepEqual(allocated(), [
        [a.pod, 'lib-1'],
        [b.pod, 'lib-2'],
      ]);
      // The row allocate returned ends its own allocation; lib-3 takes a Free room (the watch decides which).
      assert.equal((await rooms.deallocate(a)).wasAllocated, true);
      const d = await rooms.allocate({ allocationId: 'lib-3' });
      // lib-1's late deallocate, through the allocator and through the one-shot library call.
      assert.equal((await rooms.deallocate('lib-1')).wasAllocated, false);
      const oneShot = await deallocate({ ...opts, allocationId: 'lib-1' });
      assert.deepEqual([oneShot.wasAllocated, oneShot.endpoint], [false, null]);
      assert.deepEqual(
        allocated(),
        [
          [d.pod, 'lib-3'],
          [b.pod, 'lib-2'],
        ].sort(([x = ''], [y = '']) => x.localeCompare(y)),
      );
      for (const id of ['lib-2', 'lib-3']) assert.equal((await rooms.deallocate(id)).wasAllocated, true);
      assert.deepEqual(allocated(), []);
    } finally {
      rooms.close();
    }
  });

  it('a retry with --selector gets the same room while the selector matches it; one that leaves it out is exit 9, no second room', () => {
    // Rooms labelled by hand, as a fleet labels its rooms by region: only room 2 is in zone a.
    assert.equal(sh.kubectl('label', 'pod', `${sts}-2`, '-n', ns, 'zone=a').status, 0);
    try {
      const first = json('allocate', release, '--allocation-id', 'sel-1', '--selector', 'zone=a');
      assert.equal(first.out.pod, `${sts}-2`);
      const again = json('allocate', release, '--allocation-id', 'sel-1', '--selector', 'zone=a');
      assert.deepEqual(
        [again.out.pod, again.out.allocation.allocatedAt],
        [`${sts}-2`, first.out.allocation.allocatedAt],
      );
      const elsewhere = plugin('allocate', release, '--allocation-id', 'sel-1', '--selector', 'zone!=a');
      assert.equal(elsewhere.status, ExitCode.CONFLICT, elsewhere.stderr);
      assert.match(
        elsewhere.stderr,
        /^error: allocation sel-1 holds ids-expose-pods-2 already, which --selector zone!=a leaves out: one allocation id is one room/m,
      );
      assert.deepEqual(allocated(), [[`${sts}-2`, 'sel-1']], 'no second room for the same match');
      // A selector on the labels allocate writes would change its answer by the allocation itself.
      const marks = plugin(
        'allocate',
        release,
        '--allocation-id',
        'sel-1',
        '--selector',
        '!expose-pods.io/state',
      );
      assert.equal(marks.status, ExitCode.USAGE, marks.stderr);
      assert.match(
        marks.stderr,
        /^error: --selector "!expose-pods.io\/state" names expose-pods.io\/state, which allocate writes itself/m,
      );
      // Without a selector the retry is the same room, as before.
      assert.equal(json('allocate', release, '--allocation-id', 'sel-1').out.pod, `${sts}-2`);
      assert.equal(json('deallocate', release, '--allocation-id', 'sel-1').out.ended, true);
      assert.deepEqual(allocated(), []);
    } finally {
      sh.kubectl('label', 'pod', `${sts}-2`, '-n', ns, 'zone-');
    }
  });
});
