import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';

import nock from 'nock';

import { ExitCode, ExposePodsError } from '../../src/errors.js';
import type { PinnedCluster } from '../../src/ops/change-pin.js';
import type { Helm } from '../../src/helm/helm.js';
import { processRun, type PendingRevision, type ReleaseLock, type Tenure } from '../../src/kube/lock.js';
import {
  awaitOrphanedHelm,
  settleRelease,
  spareRoomsForRollback,
  type SettleLock,
} from '../../src/ops/change-settle.js';
import type { SessionRequest } from '../../src/ops/mutation.js';
import { FAKE_SERVER, fakeKube, mockReleaseLists } from '../support/kube.js';

const W = 'rooms-expose-pods';

/** A revision's manifest: the StatefulSet alone, with its image and strategy (and name). */
const manifest = (image: string, strategy: string, name = W) =>
  `---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: ${name}, namespace: game}\nspec:\n  replicas: 2\n  updateStrategy: {type: ${strategy}}\n  template: {spec: {containers: [{name: room, image: ${image}}]}}\n`;

const liveSet = (image: string, strategy: string) => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: W, namespace: 'game' },
  spec: {
    replicas: 2,
    updateStrategy: { type: strategy },
    template: { spec: { containers: [{ name: 'room', image }] } },
  },
  status: { updateRevision: 'r2' },
});

const room = (i: number, allocated: boolean) => ({
  metadata: {
    name: `${W}-${i}`,
    resourceVersion: `10${i}`,
    uid: `u${i}`,
    labels: {
      'controller-revision-hash': 'r2',
      ...(allocated ? { 'expose-pods.io/state': 'Allocated' } : {}),
    },
    annotations: {},
  },
  spec: { nodeName: 'n0' },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
});

/**
 * The reads of a rollback's checks, in order: revision 1's release Secret, the
 * drain's round (nothing to mark: the replicas stay), the rooms read again, and
 * the API server's dry run of revision 1's StatefulSet (which answers `image`).
 */
function rollbackReads(
  target: { image: string; strategy: string; name?: string },
  live: ReturnType<typeof liveSet>,
) {
  const payload = {
    name: 'rooms',
    version: 1,
    manifest: manifest(target.image, target.strategy, target.name),
    config: {},
  };
  const release = gzipSync(Buffer.from(JSON.stringify(payload))).toString('base64');
  const scope = nock(FAKE_SERVER)
    .get('/api/v1/namespaces/game/secrets/sh.helm.release.v1.rooms.v1')
    .reply(200, {
      metadata: { name: 'sh.helm.release.v1.rooms.v1', labels: { owner: 'helm', status: 'superseded' } },
      data: { release: Buffer.from(release).toString('base64') },
    });
  const rooms = { items: [room(0, true), room(1, false)] };
  for (let i = 0; i < 2; i++) mockReleaseLists(scope, { statefulSets: { items: [live] }, roomPods: rooms });
  const applied: string[] = [];
  scope
    .get('/apis/apps/v1')
    .reply(200, { resources: [{ name: 'statefulsets', kind: 'StatefulSet', namespaced: true }] })
    .patch(`/apis/apps/v1/namespaces/game/statefulsets/${W}`)
    .query({ dryRun: 'All', fieldManager: 'kubectl-expose-pods', force: 'true' })
    .reply(200, (u: string) => (applied.push(u), liveSet(target.image, target.strategy)));
  return { scope, applied };
}

describe('the automatic rollback of an interrupted change: the restart check of every change', () => {
  // A kube of its own per test: reads and discovery are memoised per kube.
  const cluster = () => ({ kube: fakeKube(), namespace: 'game' }) as unknown as PinnedCluster;
  const req = { release: 'rooms', orphanWaitMs: 5_000 } as SessionRequest;
  const pending = manifest('room:2', 'RollingUpdate');
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('under RollingUpdate, back to another pod template with a room in use: exit 15, naming it and helm rollback; nothing rolled back', async () => {
    const { scope, applied } = rollbackReads(
      { image: 'room:1', strategy: 'RollingUpdate' },
      liveSet('room:2', 'RollingUpdate'),
    );
    await assert.rejects(
      spareRoomsForRollback(cluster(), req, 1, new AbortController().signal, pending),
      (e) => {
        assert.ok(e instanceof ExposePodsError);
        assert.equal(e.exitCode, ExitCode.ROOMS_IN_USE);
        assert.equal(
          e.message,
          `release rooms was left pending by an interrupted operation, and rolling it back to revision 1 restarts 1 room(s) in use (Allocated): ${W}-0: their matches would end; nothing was rolled back`,
        );
        assert.match(
          e.hint ?? '',
          /and run the command again: it rolls back then\. To roll back now, ending those matches: helm rollback rooms 1 -n game$/,
        );
        return true;
      },
    );
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    assert.equal(applied.length, 1, 'the revision dry-run, never applied');
  });

  it('under OnDelete, the same rollback restarts no room: it goes on (the rollout after it spares rooms in use)', async () => {
    const { scope } = rollbackReads({ image: 'room:1', strategy: 'OnDelete' }, liveSet('room:2', 'OnDelete'));
    await spareRoomsForRollback(
      cluster(),
      req,
      1,
      new AbortController().signal,
      manifest('room:2', 'OnDelete'),
    );
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
  });

  it('back to another StatefulSet name (an interrupted rename): exit 9, nothing rolled back, every room kept', async () => {
    const { scope } = rollbackReads(
      { image: 'room:2', strategy: 'OnDelete', name: 'old-rooms' },
      liveSet('room:2', 'OnDelete'),
    );
    await assert.rejects(
      spareRoomsForRollback(cluster(), req, 1, new AbortController().signal, manifest('room:2', 'OnDelete')),
      (e) => {
        assert.ok(e instanceof ExposePodsError);
        assert.equal(e.exitCode, ExitCode.CONFLICT);
        assert.equal(
          e.message,
          `release rooms was left pending by an interrupted operation, and rolling it back renames the StatefulSet ${W} -> old-rooms: helm would delete it and its 2 room(s), 1 of them in use, with no way back for their matches; nothing was rolled back`,
        );
        assert.equal(
          e.hint,
          'Roll back yourself once its rooms may go (it deletes them): helm rollback rooms 1 -n game',
        );
        return true;
      },
    );
    // Refused before the dry run of the revision's StatefulSet: only that request is left.
    assert.equal(scope.pendingMocks().length, 2, scope.pendingMocks().join(', '));
  });

  it('under RollingUpdate, back to the same pod template (every room on the update revision): it goes on', async () => {
    const { scope } = rollbackReads(
      { image: 'room:2', strategy: 'RollingUpdate' },
      liveSet('room:2', 'RollingUpdate'),
    );
    await spareRoomsForRollback(cluster(), req, 1, new AbortController().signal, pending);
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
  });
});

describe('settleRelease: a pending revision is ours when a dead holder whose tenure we inherited wrote it, or an earlier holder recognised it', () => {
  const T = Date.parse('2026-12-07T12:00:00Z');
  let dir: string;
  let helm: Helm;
  const target = { namespace: 'game' };
  const rollbacks = () =>
    existsSync(path.join(dir, 'rollbacks')) ? readFileSync(path.join(dir, 'rollbacks'), 'utf8').trim() : '';
  const deployed = {
    revision: 1,
    status: 'deployed',
    description: 'Install complete',
    updated: new Date(T - 3600_000).toISOString(),
  };
  // Helm's own description of an upgrade under way: nothing in it says whose it is.
  const pending = {
    revision: 2,
    status: 'pending-upgrade',
    description: 'Preparing upgrade',
    updated: new Date(T).toISOString(),
  };
  const history = (...revisions: object[]) =>
    writeFileSync(path.join(dir, 'history.json'), JSON.stringify(revisions));
  /** The lock as settleRelease sees it: what it inherited, and what settling records in it. */
  const lockWith = (unsettled?: Tenure[], recorded?: PendingRevision) => {
    const lock = {
      unsettled,
      pending: recorded,
      recognisedAs: [] as PendingRevision[],
      helms: [] as number[],
      settledCalls: 0,
      settled: () => {
        lock.settledCalls++;
      },
      recognised: (r: PendingRevision) => void lock.recognisedAs.push(r),
      noteHelm: (pid: number) => Promise.resolve(void lock.helms.push(pid)),
    };
    return lock;
  };
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-settle-'));
    helm = { path: path.join(dir, 'helm'), version: { major: 4 } } as Helm;
    // A helm that answers `history` from a file and records each `rollback`.
    writeFileSync(
      helm.path,
      `#!/bin/sh\ncase "$1" in\n  history) cat "${dir}/history.json" ;;\n  rollback) echo "$*" >> "${dir}/rollbacks" ;;\nesac\n`,
    );
    chmodSync(helm.path, 0o755);
  });
  beforeEach(() => {
    rmSync(path.join(dir, 'rollbacks'), { force: true });
    history(deployed, pending);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** settleRelease on this release with the fake helm, warnings dropped. */
  const settle = (
    status: string,
    lock: SettleLock | undefined,
    beforeRollback?: (revision: number) => Promise<void>,
  ) => settleRelease(helm, 'rooms', target, { status }, lock, () => undefined, beforeRollback);

  const during = { acquired: T - 10_000, renewed: T + 5_000 };
  /** Ended before the revision, by more than a lease (30 s). */
  const before35 = { acquired: T - 100_000, renewed: T - 35_000 };
  /** Began 31 s after the revision. */
  const after31 = { acquired: T + 31_000, renewed: T + 60_000 };
  const refusedAsBusy = (status: string, revision: string) => (e: unknown) => {
    assert.ok(e instanceof ExposePodsError);
    assert.equal(e.exitCode, ExitCode.CONFLICT);
    assert.match(
      e.message,
      new RegExp(
        `another operation is in progress on release rooms: it is ${status} \\(revision ${revision}`,
      ),
    );
    return true;
  };

  it('a tenure anywhere in the chain that spans the revision (within a lease either side): recognised and recorded, spared first, then rolled back by a helm the lock records', async () => {
    const spared: number[] = [];
    const warnings: string[] = [];
    const lock = lockWith([before35, during]);
    const status = await settleRelease(
      helm,
      'rooms',
      target,
      { status: 'pending-upgrade' },
      lock,
      (m) => warnings.push(m),
      (revision) => Promise.resolve(void spared.push(revision)),
    );
    assert.equal(status, 'rolled back');
    // Recognised first; marked as rolling back just before its helm starts.
    assert.deepEqual(lock.recognisedAs, [
      { revision: 2, updated: T },
      { revision: 2, updated: T, rollingBack: true },
    ]);
    assert.deepEqual(spared, [1]);
    assert.equal(rollbacks(), 'rollback rooms 1 --namespace game');
    assert.equal(lock.helms.length, 1, "the rollback's helm recorded in the lock");
    assert.ok(lock.helms[0]! > 0);
    assert.match(
      warnings.join(),
      /left pending-upgrade by an interrupted operation \(revision 2\); rolling back to revision 1 first/,
    );
  });

  it('no tenure spans it (ended 35 s before, began 31 s after), or none inherited: exit 9, nothing recorded, nothing rolled back', async () => {
    for (const unsettled of [[before35, after31], [], undefined]) {
      const lock = lockWith(unsettled);
      await assert.rejects(settle('pending-upgrade', lock), refusedAsBusy('pending-upgrade', '2'));
      assert.deepEqual(lock.recognisedAs, []);
    }
    await assert.rejects(settle('pending-upgrade', undefined), refusedAsBusy('pending-upgrade', '2'));
    assert.equal(rollbacks(), '');
  });

  it('recognised by an earlier holder: the same number written at the same time, whatever the clocks; another time is another revision', async () => {
    const lock = lockWith(undefined, { revision: 2, updated: T });
    assert.equal(await settle('pending-upgrade', lock), 'rolled back');
    assert.equal(rollbacks(), 'rollback rooms 1 --namespace game');
    rmSync(path.join(dir, 'rollbacks'));
    await assert.rejects(
      settle('pending-upgrade', lockWith(undefined, { revision: 2, updated: T + 1 })),
      refusedAsBusy('pending-upgrade', '2'),
    );
    assert.equal(rollbacks(), '');
  });

  it('our rollback of it stopped (left pending-rollback, "Rollback to 1"): ours when the record says our rollback started; a helm rollback run by hand over it, or someone else\'s, is not (exit 9, the record dropped)', async () => {
    const stopped = {
      revision: 3,
      status: 'pending-rollback',
      description: 'Rollback to 1',
      updated: new Date(T + 60_000).toISOString(),
    };
    // helm marks the revision it leaves superseded only once its rollback is through: killed before, it stays pending.
    history(deployed, pending, stopped);
    const lock = lockWith(undefined, { revision: 2, updated: T, rollingBack: true });
    assert.equal(await settle('pending-rollback', lock), 'rolled back');
    assert.deepEqual(
      lock.recognisedAs[0],
      { revision: 3, updated: T + 60_000 },
      'the newest pending recorded',
    );
    assert.equal(rollbacks(), 'rollback rooms 1 --namespace game');
    rmSync(path.join(dir, 'rollbacks'));
    for (const recorded of [
      { revision: 2, updated: T },
      { revision: 1, updated: T - 3600_000, rollingBack: true },
    ]) {
      const other = lockWith(undefined, recorded);
      await assert.rejects(settle('pending-rollback', other), refusedAsBusy('pending-rollback', '3'));
      assert.equal(other.settledCalls, 1, 'not ours: nothing of ours is pending under it');
    }
    assert.equal(rollbacks(), '');
  });

  it('a refused rollback (the rooms it spares are in use) rolls nothing back, and the revision stays recorded', async () => {
    const refusal = new ExposePodsError('in use', ExitCode.ROOMS_IN_USE);
    const lock = lockWith([during]);
    await assert.rejects(
      settle('pending-upgrade', lock, () => Promise.reject(refusal)),
      (e) => e === refusal,
    );
    assert.deepEqual(lock.recognisedAs, [{ revision: 2, updated: T }]);
    assert.equal(rollbacks(), '');
  });

  it('a release that is not pending is left as it is: helm is not asked', async () => {
    assert.equal(
      await settleRelease(
        { path: '/nonexistent/helm' } as Helm,
        'rooms',
        target,
        { status: 'deployed' },
        lockWith([during]),
        () => undefined,
      ),
      'deployed',
    );
  });
});

describe('awaitOrphanedHelm: a helm a dead holder left, still running past the wait, stops the command', () => {
  it('exit 9 naming its pid, nothing else done; one that ends within the wait lets the command go on', async () => {
    const child = spawn('/bin/sleep', ['30'], { detached: true, stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    const pid = child.pid ?? 0;
    const lock = { orphanedHelm: { pid, run: processRun(pid) } } as ReleaseLock;
    const warnings: string[] = [];
    try {
      await assert.rejects(
        awaitOrphanedHelm(lock, 600, (m) => warnings.push(m), 'rooms', 'game'),
        (e) => {
          assert.ok(e instanceof ExposePodsError);
          assert.equal(e.exitCode, ExitCode.CONFLICT);
          assert.equal(
            e.message,
            `the helm an interrupted operation left on release rooms (pid ${pid}) is still running after 1s; nothing was changed`,
          );
          assert.match(e.hint ?? '', new RegExp(`kill ${pid}`));
          return true;
        },
      );
      assert.match(warnings.join(), new RegExp(`left helm running \\(pid ${pid}\\); waiting up to 1s`));
      const ends = awaitOrphanedHelm(lock, 20_000, () => undefined, 'rooms', 'game');
      process.kill(-pid, 'SIGKILL');
      await ends;
    } finally {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
});
