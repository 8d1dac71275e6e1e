import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import { ExitCode } from '../../src/errors.js';
import {
  acquireReleaseLock,
  helmAlive,
  holderIdentity,
  parseHolder,
  parsePending,
  parseTenures,
  processRun,
  type ReleaseLock,
} from '../../src/kube/lock.js';
import { ourRevision } from '../../src/ops/change-settle.js';
import { stopOnSignals } from '../../src/ops/change-signals.js';
import type { HelmRevision } from '../../src/helm/release.js';
import { FAKE_SERVER, fakeKube } from '../support/kube.js';
import { signals } from '../support/signals.js';
import { eventually } from '../support/poll.js';

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/game/leases';
const LEASE = `${LEASES}/rooms-expose-pods-lock`;
const created = (rv: string) => (_u: string, b: any) => ({
  ...b,
  metadata: { ...b.metadata, resourceVersion: rv },
});
const micro = (d: Date) => d.toISOString().replace('Z', '000Z');
/** A lease another holder wrote, renewed at `renewed` by its own clock. */
const held = (
  rv: string,
  holder: string,
  renewed: Date,
  durationSeconds = 30,
  operation = 'scale --replicas 9',
) => ({
  metadata: {
    name: 'rooms-expose-pods-lock',
    resourceVersion: rv,
    annotations: { 'expose-pods.io/operation': operation },
  },
  spec: {
    holderIdentity: holder,
    leaseDurationSeconds: durationSeconds,
    acquireTime: micro(renewed),
    renewTime: micro(renewed),
  },
});

describe('the release lock (nock)', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('creates the Lease (a holder with a token of its own, 30 s, labels), and deletes it with a precondition on release', async () => {
    let body: any;
    let deleted: any;
    const scope = nock(FAKE_SERVER)
      .post(LEASES, (b: any) => ((body = b), true))
      .reply(201, created('41'))
      .delete(LEASE, (b: any) => ((deleted = b), true))
      .reply(200, {});
    const lock = await acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale --replicas 5', () => undefined);
    assert.equal(body.metadata.name, 'rooms-expose-pods-lock');
    assert.match(
      body.spec.holderIdentity,
      new RegExp(`^kubectl-expose-pods/${os.hostname()}/${process.pid}/[0-9a-f]{12}$`),
    );
    assert.equal(body.spec.leaseDurationSeconds, 30);
    assert.match(body.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'MicroTime: 6 digits');
    assert.equal(body.metadata.annotations['expose-pods.io/operation'], 'scale --replicas 5');
    await lock.release();
    assert.deepEqual(deleted.preconditions, { resourceVersion: '41' });
    assert.ok(scope.isDone());
  });

  it('every acquisition has its own identity, even in the same process', () => {
    assert.notEqual(holderIdentity(), holderIdentity());
    assert.deepEqual(parseHolder(holderIdentity('h', 7, 'abc123')), { host: 'h', pid: 7 });
    assert.deepEqual(
      parseHolder('kubectl-expose-pods/h/7'),
      { host: 'h', pid: 7 },
      'as earlier versions wrote it',
    );
    assert.equal(parseHolder('someone-else'), undefined);
  });

  it('one renewal at a time: a second waits for the first and sends the resourceVersion it got back; the helm binary is recorded', async () => {
    const puts: any[] = [];
    const scope = nock(FAKE_SERVER)
      .post(LEASES)
      .reply(201, created('41'))
      .put(LEASE, (b: any) => (puts.push(b), true))
      .delay(200)
      .reply(200, created('42'))
      .put(LEASE, (b: any) => (puts.push(b), true))
      .reply(200, created('43'))
      .delete(LEASE, (b: any) => b.preconditions.resourceVersion === '43')
      .reply(200, {});
    const lock = await acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined);
    const first = lock.noteHelm(1, process.execPath);
    while (puts.length < 1) await new Promise((r) => setImmediate(r));
    await lock.noteHelm(2, process.execPath);
    await first;
    assert.deepEqual(
      puts.map((b) => [
        b.metadata.resourceVersion,
        b.metadata.annotations['expose-pods.io/helm-pid'],
        b.metadata.annotations['expose-pods.io/helm-binary'],
      ]),
      [
        ['41', '1', process.execPath],
        ['42', '2', process.execPath],
      ],
    );
    assert.equal(lock.signal.aborted, false);
    await lock.release();
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
  });

  it('a 409 on renewal while the lease still names this very acquisition is not a loss: read again, renewed', async () => {
    let holder = '';
    const scope = nock(FAKE_SERVER)
      .post(LEASES, (b: any) => ((holder = b.spec.holderIdentity), true))
      .reply(201, created('41'))
      .put(LEASE)
      .reply(409, { kind: 'Status', code: 409, reason: 'Conflict' })
      .get(LEASE)
      .reply(200, () => ({
        metadata: { name: 'rooms-expose-pods-lock', namespace: 'game', resourceVersion: '45' },
        spec: { holderIdentity: holder, leaseDurationSeconds: 30 },
      }))
      .put(LEASE, (b: any) => b.metadata.resourceVersion === '45')
      .reply(200, created('46'))
      .delete(LEASE, (b: any) => b.preconditions.resourceVersion === '46')
      .reply(200, {});
    const lock = await acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined);
    await lock.noteHelm(7, process.execPath);
    assert.equal(lock.signal.aborted, false, 'still ours');
    await lock.noteHelm(7, process.execPath);
    await lock.release();
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
  });

  it('a 409 on renewal that finds another process of the same host and pid holding it is a loss, and release() leaves that lease alone', async () => {
    // Another container named like this one, with the same pid, took it over: only the token differs.
    const sameHostPid = holderIdentity(os.hostname(), process.pid, 'ffffffffffff');
    const scope = nock(FAKE_SERVER)
      .post(LEASES)
      .reply(201, created('41'))
      .put(LEASE)
      .reply(409, { kind: 'Status', code: 409, reason: 'Conflict' })
      .get(LEASE)
      .reply(200, held('50', sameHostPid, new Date()));
    const lock = await acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined);
    assert.equal(lock.held(), true, 'just taken: certainly ours');
    await lock.noteHelm(4242, process.execPath);
    assert.equal(lock.held(), false, 'lost: never certainly ours again');
    assert.equal(lock.signal.aborted, true);
    assert.equal(lock.signal.reason.exitCode, ExitCode.CONFLICT);
    assert.match(
      (lock.signal.reason as Error).message,
      /^lost the lock on release rooms: the lease game\/rooms-expose-pods-lock was taken over; stopped$/,
    );
    await lock.release(); // no DELETE: nock would refuse one
    assert.ok(scope.isDone());
  });

  it('clock skew: a holder whose clock runs 40 s slow, still renewing, is busy (never taken over at once)', async () => {
    // By our clock its renewTime is 40 s old, past its 30 s: the old rule took it over at once.
    const skewed = (rv: string) =>
      held(rv, 'kubectl-expose-pods/elsewhere/4242/abcdef', new Date(Date.now() - 40_000));
    const warnings: string[] = [];
    const scope = nock(FAKE_SERVER)
      .post(LEASES)
      .reply(409, { kind: 'Status', code: 409, reason: 'AlreadyExists' })
      .get(LEASE)
      .reply(200, skewed('60'))
      // Its next renewal: a new resourceVersion (and, by its clock, a renewTime still 40 s behind ours).
      .get(LEASE)
      .reply(200, skewed('61'));
    await assert.rejects(
      acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale --replicas 5', (m) => warnings.push(m)),
      (e: any) => {
        assert.equal(e.exitCode, ExitCode.CONFLICT);
        assert.match(
          e.message,
          /^another operation is in progress on release rooms: scale --replicas 9 by kubectl-expose-pods\/elsewhere\/4242\/abcdef since /,
        );
        return true;
      },
    );
    assert.match(warnings.join(), /waiting up to 30s to see whether it is renewed/);
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
  });

  it('clock skew the other way: a lease renewed "in the future" by its clock, but no longer renewed, is taken over after its duration as we watched it', async () => {
    const future = held('70', 'kubectl-expose-pods/elsewhere/1/abcdef', new Date(Date.now() + 3600_000), 2);
    let put: any;
    const scope = nock(FAKE_SERVER)
      .post(LEASES)
      .reply(409, {})
      .get(LEASE)
      .times(4)
      .reply(200, future)
      .put(LEASE, (b: any) => ((put = b), true))
      .reply(200, (_u: string, b: any) => b);
    const t0 = performance.now();
    const lock = await acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined);
    const waited = performance.now() - t0;
    assert.ok(waited >= 2000, `waited its 2 s duration from when we first saw it (${waited} ms)`);
    assert.equal(put.metadata.resourceVersion, '70', 'the take-over is conditional on the record we watched');
    nock.cleanAll();
    nock(FAKE_SERVER).delete(/.*/).reply(200, {});
    await lock.release();
    assert.ok(
      scope.pendingMocks().every((m) => m.startsWith('GET')),
      scope.pendingMocks().join(', '),
    );
  });

  it('a holder on this host whose process runs is busy at once, without waiting', async () => {
    nock(FAKE_SERVER)
      .post(LEASES)
      .reply(409, {})
      .get(LEASE)
      .reply(200, held('80', holderIdentity(os.hostname(), process.pid), new Date()));
    const t0 = Date.now();
    await assert.rejects(
      acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined),
      {
        exitCode: ExitCode.CONFLICT,
      },
    );
    assert.ok(Date.now() - t0 < 900, 'no poll');
  });

  it('a lease of its own (the autoscaler): its name, its annotations kept on renewal, and its own hint when busy', async () => {
    const own = `${LEASES}/rooms-expose-pods-autoscaler`;
    let body: any;
    const scope = nock(FAKE_SERVER)
      .post(LEASES, (b: any) => ((body = b), true))
      .reply(201, created('51'))
      .delete(own)
      .reply(200, {});
    const opts = {
      name: 'rooms-expose-pods-autoscaler',
      annotations: { 'expose-pods.io/autoscaler-policy': '{"buffer":"3"}' },
      busyHint: 'One autoscaler runs per release.',
    };
    const lock = await acquireReleaseLock(
      fakeKube(),
      'game',
      'rooms',
      'autoscale --buffer 3',
      () => undefined,
      opts,
    );
    assert.equal(body.metadata.name, 'rooms-expose-pods-autoscaler');
    assert.deepEqual(body.metadata.annotations, {
      'expose-pods.io/autoscaler-policy': '{"buffer":"3"}',
      'expose-pods.io/operation': 'autoscale --buffer 3',
      ...(body.metadata.annotations['expose-pods.io/holder-run'] && {
        'expose-pods.io/holder-run': body.metadata.annotations['expose-pods.io/holder-run'],
      }),
    });
    await lock.release();
    assert.ok(scope.isDone());

    nock(FAKE_SERVER)
      .post(LEASES)
      .reply(409, {})
      .get(own)
      .reply(200, {
        ...held('80', holderIdentity(os.hostname(), process.pid), new Date(), 30, 'autoscale --buffer 3'),
        metadata: {
          name: 'rooms-expose-pods-autoscaler',
          resourceVersion: '80',
          annotations: { 'expose-pods.io/operation': 'autoscale --buffer 3' },
        },
      });
    await assert.rejects(
      acquireReleaseLock(fakeKube(), 'game', 'rooms', 'autoscale', () => undefined, opts),
      {
        exitCode: ExitCode.CONFLICT,
        message: new RegExp(
          `^another operation is in progress on release rooms: autoscale --buffer 3 by kubectl-expose-pods/`,
        ),
        hint: 'One autoscaler runs per release.',
      },
    );
  });

  it('losing the take-over race is CONFLICT', async () => {
    const lapsed = held('77', 'kubectl-expose-pods/elsewhere/1/abcdef', new Date(Date.now() - 120_000), 1);
    nock(FAKE_SERVER)
      .post(LEASES)
      .reply(409, {})
      .get(LEASE)
      .times(3)
      .reply(200, lapsed)
      .put(LEASE)
      .reply(409, { kind: 'Status', code: 409, reason: 'Conflict' });
    await assert.rejects(
      acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined),
      {
        exitCode: ExitCode.CONFLICT,
      },
    );
  });

  it('403 on Leases: refused with exit 6 naming leases and the rbac command; nothing else is sent', async () => {
    const scope = nock(FAKE_SERVER)
      .post(LEASES)
      .reply(403, { kind: 'Status', code: 403, reason: 'Forbidden', message: 'leases is forbidden' });
    await assert.rejects(
      acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined),
      (e: any) => {
        assert.equal(e.exitCode, ExitCode.FORBIDDEN);
        assert.match(
          e.message,
          /^forbidden: you may not create leases \(coordination\.k8s\.io\) in namespace game, which the lock on release rooms needs; nothing was changed/,
        );
        assert.match(e.hint, /kubectl expose-pods rbac -n game --release rooms --user NAME/);
        return true;
      },
    );
    assert.ok(scope.isDone());
  });
});

/** A pid above Linux's highest pid_max: never a process. */
const NO_PID = 4_194_305;
/** This boot's id, as processRun names it (Linux). */
const BOOT = processRun(process.pid)?.split('/')[0] ?? '';

/** A shell script named helm that runs `body`: a version manager's shim (asdf, snap). */
function shim(body: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-shim-'));
  const file = path.join(dir, 'helm');
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** Started as mutation.ts starts helm: detached, the leader of a process group of its own. */
async function spawnAsHelm(file: string, args: string[]) {
  const child = spawn(file, args, { detached: true, stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  return { child, pid: child.pid ?? 0, stop: () => process.kill(-(child.pid ?? 0), 'SIGKILL') };
}

/**
 * Takes over a lapsed lease (1 s) of a dead holder on this host whose
 * annotations are `notes`: the lock as a successor gets it.
 */
async function takeOverWith(notes: Record<string, string>, holder = holderIdentity(os.hostname(), NO_PID)) {
  const lapsed = held('90', holder, new Date(Date.now() - 120_000), 1);
  lapsed.metadata.annotations = { ...lapsed.metadata.annotations, ...notes };
  nock(FAKE_SERVER)
    .post(LEASES)
    .reply(409, {})
    .get(LEASE)
    .times(3)
    .reply(200, lapsed)
    .put(LEASE)
    .reply(200, (_u: string, b: any) => b);
  const warnings: string[] = [];
  const lock = await acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', (m) => warnings.push(m));
  nock.cleanAll();
  await settleAndRelease(lock);
  return { lock, warnings };
}

/** A lease its holder released (no holder), with these annotations. */
const releasedLease = (rv: string, annotations: Record<string, string>) => ({
  metadata: { name: 'rooms-expose-pods-lock', resourceVersion: rv, annotations },
  spec: { leaseDurationSeconds: 30 },
});
/** Takes `existing` at once (a released lease): the lock and the body it wrote. */
async function takeReleased(existing: any) {
  let put: any;
  nock(FAKE_SERVER)
    .post(LEASES)
    .reply(409, {})
    .get(LEASE)
    .reply(200, existing)
    .put(LEASE, (b: any) => ((put = b), true))
    .reply(200, (_u: string, b: any) => ({ ...b, metadata: { ...b.metadata, resourceVersion: '95' } }));
  const lock = await acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined);
  assert.ok(nock.isDone(), nock.pendingMocks().join(', '));
  return { lock, put };
}

/** Acquires over `existing` (409 on create), recording the take-over's PUT. */
async function acquireOver(existing: any, name = 'rooms-expose-pods-lock') {
  const lease = `${LEASES}/${name}`;
  const bodies: any[] = [];
  nock(FAKE_SERVER)
    .post(LEASES)
    .reply(409, {})
    .get(lease)
    .times(3)
    .reply(200, existing)
    .put(lease, (b: any) => (bodies.push(b), true))
    .reply(200, (_u: string, b: any) => ({ ...b, metadata: { ...b.metadata, resourceVersion: '91' } }));
  const warnings: string[] = [];
  const lock = await acquireReleaseLock(
    fakeKube(),
    'game',
    'rooms',
    'scale',
    (m) => warnings.push(m),
    name === 'rooms-expose-pods-lock' ? {} : { name },
  );
  // The reads awaitLapse did not need.
  nock.cleanAll();
  return { lock, put: bodies[0], warnings };
}

/** Says the lock's change is settled and releases it: the Lease deleted. */
async function settleAndRelease(lock: ReleaseLock, lease = LEASE): Promise<void> {
  lock.settled();
  nock(FAKE_SERVER).delete(lease).reply(200, {});
  await lock.release();
}

describe('the helm a dead holder left: recognised by its pid and the run of that pid, whatever binary it runs', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('processRun: this boot, and when the process started (field 22 of /proc/<pid>/stat, in clock ticks since boot); nothing for a pid without a process', async () => {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    /** Seconds since boot when `pid` started, by its run (USER_HZ is 100 on Linux). */
    const startedAt = (pid: number) => {
      const m = new RegExp(`^${boot}/(\\d+)$`).exec(processRun(pid) ?? '');
      assert.ok(m?.[1], `a run of this boot: ${processRun(pid)}`);
      return Number(m[1]) / 100;
    };
    const uptime = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    assert.ok(Math.abs(startedAt(process.pid) - (uptime() - process.uptime())) < 2, 'this process');
    // A command name with spaces and parentheses (field 2) does not shift the fields after it.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-run-'));
    const odd = path.join(dir, 'a) b (c');
    copyFileSync('/bin/sleep', odd);
    const child = spawn(odd, ['30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => child.once('spawn', r));
      assert.ok(Math.abs(startedAt(child.pid ?? 0) - uptime()) < 2, 'a child started now');
    } finally {
      child.kill('SIGKILL');
    }
    assert.equal(processRun(process.pid), processRun(process.pid), 'the same run, read again');
    assert.equal(processRun(NO_PID), undefined);
  });

  it('helm started through a shim that execs the real binary (asdf, snap) is recorded as spawned and waited for after a take-over', async () => {
    const file = shim('exec /bin/sleep "$@"');
    const helm = await spawnAsHelm(file, ['30']);
    try {
      let notes: Record<string, string> = {};
      nock(FAKE_SERVER)
        .post(LEASES)
        .reply(201, created('41'))
        .put(LEASE, (b: any) => ((notes = b.metadata.annotations), true))
        .reply(200, created('42'));
      const first = await acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined);
      await first.noteHelm(helm.pid, file);
      nock(FAKE_SERVER).delete(LEASE).reply(200, {});
      await first.release();
      assert.equal(notes['expose-pods.io/helm-pid'], String(helm.pid));
      assert.equal(notes['expose-pods.io/helm-run'], processRun(helm.pid));
      // The shim has exec'd: the process now runs /bin/sleep, not the binary that was started.
      await eventually('the shim to exec sleep', () =>
        readFileSync(`/proc/${helm.pid}/cmdline`, 'utf8').startsWith('/bin/sleep') ? true : undefined,
      );
      const { lock } = await takeOverWith(notes);
      assert.deepEqual(lock.orphanedHelm, {
        pid: helm.pid,
        run: notes['expose-pods.io/helm-run'],
        binary: notes['expose-pods.io/helm-binary'],
      });
      const orphan = lock.orphanedHelm;
      assert.equal(helmAlive(orphan), true);
      helm.stop();
      await eventually('helm gone', () => (helmAlive(orphan) ? undefined : true));
    } finally {
      try {
        helm.stop();
      } catch {
        // Already gone.
      }
    }
  });

  it('a pid reused since by another process (even one of the recorded binary) is not waited for', async () => {
    const { lock } = await takeOverWith({
      'expose-pods.io/helm-pid': String(process.pid),
      'expose-pods.io/helm-run': `${BOOT}/1`,
      'expose-pods.io/helm-binary': process.execPath,
    });
    assert.equal(lock.orphanedHelm, undefined);
    const ours = processRun(process.pid)!;
    assert.equal(helmAlive({ pid: process.pid, run: ours }), true, 'the very run: alive');
    assert.equal(
      helmAlive({ pid: process.pid, run: ours.replace(BOOT, 'another-boot') }),
      false,
      'a run of an earlier boot',
    );
  });

  it('a shim that forks helm and died: helm runs on in its process group, and counts until the group is empty', async () => {
    const helm = await spawnAsHelm(shim('/bin/sleep "$@" &\nwait'), ['30']);
    try {
      const orphan = { pid: helm.pid, run: processRun(helm.pid) };
      assert.equal(helmAlive(orphan), true);
      const children = `/proc/${helm.pid}/task/${helm.pid}/children`;
      await eventually(
        'sleep to start in the group',
        () => readFileSync(children, 'utf8').trim() || undefined,
      );
      process.kill(helm.pid, 'SIGKILL');
      await eventually('the shim gone', () => (processRun(helm.pid) === undefined ? true : undefined));
      assert.equal(helmAlive(orphan), true, 'its group still runs helm');
      helm.stop();
      await eventually('the group empty', () => (helmAlive(orphan) ? undefined : true));
    } finally {
      try {
        helm.stop();
      } catch {
        // Already gone.
      }
    }
  });

  it('a holder on this host whose pid was reused since (another run) is not busy: its lease is watched, then taken over', async () => {
    const { lock, warnings } = await takeOverWith(
      { 'expose-pods.io/holder-run': `${BOOT}/1` },
      holderIdentity(os.hostname(), process.pid),
    );
    assert.ok(lock.unsettled, 'taken over');
    assert.match(warnings.join(), /waiting up to 1s to see whether it is renewed/);
  });

  it('every acquisition records the run of its own pid, so a successor can tell a reused pid', async () => {
    let body: any;
    nock(FAKE_SERVER)
      .post(LEASES, (b: any) => ((body = b), true))
      .reply(201, created('41'))
      .delete(LEASE)
      .reply(200, {});
    const lock = await acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined);
    await lock.release();
    assert.equal(body.metadata.annotations['expose-pods.io/holder-run'], processRun(process.pid));
  });
});

describe('helmAlive for a lock recorded without a run (an earlier version): by its binary', () => {
  it('a missing pid, and a live pid that is not helm (reused), are not waited for', () => {
    assert.equal(helmAlive({ pid: NO_PID }), false);
    assert.equal(helmAlive({ pid: process.pid }), false, 'this node process is alive, but is not named helm');
  });

  it('a binary not named helm (--helm-binary …/helm4) is recognised by its path, through a symlink too', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-helm4-'));
    const helm4 = path.join(dir, 'helm4');
    copyFileSync('/bin/sleep', helm4);
    const link = path.join(dir, 'helm-link');
    symlinkSync(helm4, link);
    const child = spawn(helm4, ['30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => child.once('spawn', r));
      const pid = child.pid ?? 0;
      assert.equal(helmAlive({ pid, binary: helm4 }), true);
      assert.equal(helmAlive({ pid, binary: link }), true, 'the path given, or a link to it');
      assert.equal(helmAlive({ pid }), false, 'without the binary, the name rule does not know helm4');
      assert.equal(helmAlive({ pid, binary: process.execPath }), false, 'another binary: a reused pid');
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('the evidence that a pending revision is ours, carried from holder to holder', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());
  const UNSETTLED = 'expose-pods.io/unsettled';
  const DEAD = holderIdentity('elsewhere', 1);

  it('a lapsed holder: its tenure is inherited, written on the new lease, and handed on at release when not settled: no holder, taken at once by the next', async () => {
    const renewed = new Date(Date.now() - 120_000);
    const { lock, put } = await acquireOver(held('90', DEAD, renewed, 1));
    const tenure = { acquired: renewed.getTime(), renewed: renewed.getTime() };
    assert.deepEqual(lock.unsettled, [tenure]);
    assert.deepEqual(JSON.parse(put.metadata.annotations[UNSETTLED]), [tenure], 'carried while held');
    assert.equal(put.metadata.resourceVersion, '90');
    let released: any;
    const scope = nock(FAKE_SERVER)
      .put(LEASE, (b: any) => ((released = b), true))
      .reply(200, {});
    await lock.release();
    assert.ok(scope.isDone(), 'replaced, not deleted');
    assert.equal(released.spec.holderIdentity, undefined, 'released: no holder');
    assert.equal(released.metadata.resourceVersion, '91', 'conditional on the lease as we held it');
    assert.deepEqual(JSON.parse(released.metadata.annotations[UNSETTLED]), [tenure]);
    assert.equal(released.metadata.annotations['expose-pods.io/helm-pid'], undefined);

    // The next command takes it at once: no watching for a lapse (which always warns), the same tenures (no holder adds none).
    const next = await acquireOver({
      ...released,
      metadata: { ...released.metadata, resourceVersion: '92' },
    });
    assert.deepEqual(next.warnings, [], 'not watched for a lapse');
    assert.deepEqual(next.lock.unsettled, [tenure]);
    assert.equal(next.put.metadata.resourceVersion, '92');
    assert.equal(next.put.spec.holderIdentity, next.lock.holder);
    await settleAndRelease(next.lock);
    assert.ok(nock.isDone(), 'settled: deleted');
  });

  it('a chain: a holder that inherited tenures and died hands on both, oldest first; unreadable annotations count as none', async () => {
    const first = { acquired: 1_000, renewed: 5_000 };
    const renewed = new Date(Date.now() - 120_000);
    const lapsed = held('90', DEAD, renewed, 1);
    (lapsed.metadata.annotations as any)[UNSETTLED] = JSON.stringify([first]);
    const { lock } = await acquireOver(lapsed);
    assert.deepEqual(lock.unsettled, [first, { acquired: renewed.getTime(), renewed: renewed.getTime() }]);
    await settleAndRelease(lock);
    assert.deepEqual(parseTenures('not json'), []);
    assert.deepEqual(parseTenures('{"acquired":1}'), []);
    assert.deepEqual(parseTenures('[{"acquired":1,"renewed":2},{"acquired":"x","renewed":2},null]'), [
      { acquired: 1, renewed: 2 },
    ]);
  });

  it("a lock that was free has none, and is deleted at release; the autoscaler's Lease never carries tenures", async () => {
    nock(FAKE_SERVER).post(LEASES).reply(201, created('41')).delete(LEASE).reply(200, {});
    const free = await acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined);
    assert.equal(free.unsettled, undefined);
    await free.release();
    assert.ok(nock.isDone());
    const name = 'rooms-expose-pods-autoscaler';
    const { lock, put } = await acquireOver(held('90', DEAD, new Date(Date.now() - 120_000), 1), name);
    assert.equal(lock.unsettled, undefined);
    assert.equal(put.metadata.annotations[UNSETTLED], undefined);
    nock(FAKE_SERVER).delete(`${LEASES}/${name}`).reply(200, {});
    await lock.release();
    assert.ok(nock.isDone(), 'deleted');
  });
});

describe('what a lease hands on besides tenures: the revision recognised, the helm still running; released leases in a race', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());
  const PENDING = 'expose-pods.io/pending-revision';
  const UNSETTLED = 'expose-pods.io/unsettled';

  it('recognised: the released lease hands on the revision, not the tenures; the next holder has it as pending, and carries it while it holds', async () => {
    const tenure = { acquired: 1_000, renewed: 2_000 };
    const { lock } = await takeReleased(releasedLease('90', { [UNSETTLED]: JSON.stringify([tenure]) }));
    assert.deepEqual(lock.unsettled, [tenure]);
    assert.equal(lock.pending, undefined);
    lock.recognised({ revision: 7, updated: 1_500 });
    let body: any;
    nock(FAKE_SERVER)
      .put(LEASE, (b: any) => ((body = b), true))
      .reply(200, {});
    await lock.release();
    assert.deepEqual(JSON.parse(body.metadata.annotations[PENDING]), { revision: 7, updated: 1_500 });
    assert.equal(
      body.metadata.annotations[UNSETTLED],
      undefined,
      'no times by another clock once the revision is known',
    );
    const next = await takeReleased({ ...body, metadata: { ...body.metadata, resourceVersion: '96' } });
    assert.deepEqual(next.lock.pending, { revision: 7, updated: 1_500 });
    assert.deepEqual(JSON.parse(next.put.metadata.annotations[PENDING]), { revision: 7, updated: 1_500 });
    await settleAndRelease(next.lock);
    assert.ok(nock.isDone(), 'settled: deleted');
  });

  it('a helm a dead holder left, still running: waited for by the next holder, and by the one after it when this one stops too (the host recorded with it)', async () => {
    const helm = await spawnAsHelm(shim('exec /bin/sleep "$@"'), ['30']);
    try {
      const notes = {
        'expose-pods.io/helm-pid': String(helm.pid),
        'expose-pods.io/helm-run': processRun(helm.pid) ?? '',
        'expose-pods.io/helm-host': os.hostname(),
        [UNSETTLED]: JSON.stringify([{ acquired: 1_000, renewed: 2_000 }]),
      };
      const { lock, put } = await takeReleased(releasedLease('90', notes));
      assert.equal(
        lock.orphanedHelm?.pid,
        helm.pid,
        'found through the host recorded with helm, not the holder',
      );
      assert.equal(
        put.metadata.annotations['expose-pods.io/helm-pid'],
        String(helm.pid),
        'carried while held',
      );
      assert.equal(put.metadata.annotations['expose-pods.io/helm-host'], os.hostname());
      // Stopped before it settled: the released lease keeps helm's notes, so the next one waits for it too.
      let body: any;
      nock(FAKE_SERVER)
        .put(LEASE, (b: any) => ((body = b), true))
        .reply(200, {});
      await lock.release();
      assert.equal(body.metadata.annotations['expose-pods.io/helm-pid'], String(helm.pid));
      const next = await takeReleased({ ...body, metadata: { ...body.metadata, resourceVersion: '96' } });
      assert.equal(next.lock.orphanedHelm?.pid, helm.pid);
      await settleAndRelease(next.lock);
      // Once helm is gone, nothing is carried of it.
      helm.stop();
      await eventually('helm gone', () =>
        helmAlive({ pid: helm.pid, run: notes['expose-pods.io/helm-run'] }) ? undefined : true,
      );
      const after = await takeReleased(releasedLease('97', notes));
      assert.equal(after.lock.orphanedHelm, undefined);
      assert.equal(after.put.metadata.annotations['expose-pods.io/helm-pid'], undefined);
      await settleAndRelease(after.lock);
    } finally {
      try {
        helm.stop();
      } catch {
        // Already gone.
      }
    }
  });

  it('a lease released while we watched its holder: free at once, not busy', async () => {
    const holding = held('80', holderIdentity('elsewhere', 1), new Date(), 30);
    let put: any;
    nock(FAKE_SERVER)
      .post(LEASES)
      .reply(409, {})
      .get(LEASE)
      .reply(200, holding)
      .get(LEASE)
      .reply(200, releasedLease('81', { [UNSETTLED]: JSON.stringify([{ acquired: 1_000, renewed: 2_000 }]) }))
      .put(LEASE, (b: any) => ((put = b), true))
      .reply(200, (_u: string, b: any) => b);
    const lock = await acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined);
    assert.equal(put.metadata.resourceVersion, '81');
    assert.deepEqual(lock.unsettled, [{ acquired: 1_000, renewed: 2_000 }]);
    await settleAndRelease(lock);
  });

  it('two take a released lease: the loser starts again and names the winner (exit 9), not "unknown"', async () => {
    const lease = held('91', holderIdentity(os.hostname(), process.pid), new Date(), 30, 'install');
    // This very process holds it: busy at once, no watching.
    const winner = {
      ...lease,
      metadata: {
        ...lease.metadata,
        annotations: {
          ...lease.metadata.annotations,
          'expose-pods.io/holder-run': processRun(process.pid) ?? '',
        },
      },
    };
    nock(FAKE_SERVER)
      .post(LEASES)
      .reply(409, {})
      .get(LEASE)
      .reply(200, releasedLease('90', {}))
      .put(LEASE)
      .reply(409, { kind: 'Status', reason: 'Conflict' })
      .post(LEASES)
      .reply(409, {})
      .get(LEASE)
      .reply(200, winner);
    await assert.rejects(
      acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined),
      (e: any) => {
        assert.equal(e.exitCode, ExitCode.CONFLICT);
        assert.match(
          e.message,
          new RegExp(`: install by kubectl-expose-pods/${os.hostname()}/${process.pid}/`),
        );
        return true;
      },
    );
    assert.ok(nock.isDone(), nock.pendingMocks().join(', '));
  });
});

describe('what a lease hands on: review findings of the second round', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('a helm recorded on another host: not waited for here, but its notes go on (a holder on its host judges it)', async () => {
    const notes = {
      'expose-pods.io/helm-pid': '4242',
      'expose-pods.io/helm-run': 'boot/1',
      'expose-pods.io/helm-binary': '/usr/bin/helm',
      'expose-pods.io/helm-host': 'other-host',
    };
    const { lock, put } = await takeReleased(releasedLease('90', notes));
    await settleAndRelease(lock);
    assert.equal(lock.orphanedHelm, undefined);
    for (const [k, v] of Object.entries(notes)) assert.equal(put.metadata.annotations[k], v, k);
    // A helm recorded on this host that is gone: dropped.
    const gone = await takeReleased(
      releasedLease('91', { ...notes, 'expose-pods.io/helm-host': os.hostname() }),
    );
    await settleAndRelease(gone.lock);
    assert.equal(gone.put.metadata.annotations['expose-pods.io/helm-pid'], undefined);
  });

  it("a revision recognised: the tenures that found it are not carried on, only a dead holder's own", async () => {
    const renewed = new Date(Date.now() - 120_000);
    const lapsed = held('90', holderIdentity('elsewhere', 1), renewed, 1);
    (lapsed.metadata.annotations as any)['expose-pods.io/unsettled'] = JSON.stringify([
      { acquired: 1, renewed: 2 },
    ]);
    (lapsed.metadata.annotations as any)['expose-pods.io/pending-revision'] = JSON.stringify({
      revision: 4,
      updated: 3,
      rollingBack: true,
    });
    const { lock, put } = await acquireOver(lapsed);
    const own = { acquired: renewed.getTime(), renewed: renewed.getTime() };
    assert.deepEqual(lock.unsettled, [own]);
    assert.deepEqual(lock.pending, { revision: 4, updated: 3, rollingBack: true });
    assert.deepEqual(JSON.parse(put.metadata.annotations['expose-pods.io/unsettled']), [own]);
    await settleAndRelease(lock);
    assert.deepEqual(parsePending('{"revision":4,"updated":3,"rollingBack":"yes"}'), {
      revision: 4,
      updated: 3,
    });
    assert.equal(parsePending('{"revision":4.5,"updated":3}'), undefined);
  });

  it('losing the take-over of a lapsed lease names the holder that won, not the dead one', async () => {
    const lapsed = held('90', holderIdentity('elsewhere', 1), new Date(Date.now() - 120_000), 1);
    const winner = held('92', holderIdentity('winner-host', 7), new Date(), 30, 'install');
    let taken = false;
    nock(FAKE_SERVER)
      .post(LEASES)
      .reply(409, {})
      .get(LEASE)
      .times(4)
      .reply(() => [200, taken ? winner : lapsed])
      .put(LEASE)
      .reply(() => ((taken = true), [409, { kind: 'Status', reason: 'Conflict' }]));
    await assert.rejects(
      acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', () => undefined),
      (e: any) => {
        assert.equal(e.exitCode, ExitCode.CONFLICT);
        assert.match(e.message, /: install by kubectl-expose-pods\/winner-host\/7\//);
        return true;
      },
    );
  });
});

describe('ourRevision: the revisions this plugin wrote, and a rollback of ours left pending', () => {
  const r = (revision: number, status: string, description: string): HelmRevision => ({
    revision,
    status,
    description,
    updated: 0,
  });
  it('our prefix; "Rollback to N" pending over a revision of ours; not a rollback of anyone else\'s', () => {
    const ours = [
      r(1, 'superseded', 'Install complete'),
      r(2, 'pending-upgrade', 'kubectl-expose-pods: scale 2 -> 5'),
    ];
    assert.equal(ourRevision(ours, 1), true);
    assert.equal(ourRevision(ours, 0), false);
    const rolling = [...ours, r(3, 'pending-rollback', 'Rollback to 1')];
    assert.equal(ourRevision(rolling, 2), true, 'the rollback our settling ran, interrupted');
    const theirs = [
      r(1, 'superseded', 'Install complete'),
      r(2, 'failed', 'Upgrade failed'),
      r(3, 'pending-rollback', 'Rollback to 1'),
    ];
    assert.equal(ourRevision(theirs, 2), false, "someone else's rollback");
    assert.equal(
      ourRevision([...ours, r(3, 'deployed', 'Rollback to 1')], 2),
      false,
      'a rollback that finished is not pending',
    );
    assert.equal(ourRevision(ours, 5), false);
  });
});

describe('Ctrl-C during a change: the first stops helm deliberately, a second does not wait', () => {
  it('first SIGINT: helm gets SIGTERM and the session aborts with exit 130 and a true hint; second: SIGKILL and exit 130 at once', () => {
    const stopped: string[] = [];
    const written: string[] = [];
    const exits: number[] = [];
    const sigint = signals('SIGINT');
    const s = stopOnSignals('rooms', 'game', {
      stop: (sig) => (stopped.push(sig), 1),
      write: (t) => written.push(t),
      exit: (c) => exits.push(c),
    });
    try {
      sigint.send();
      assert.deepEqual(stopped, ['SIGTERM']);
      assert.equal(s.signal.aborted, true);
      const reason = s.signal.reason as { exitCode: number; message: string; hint: string };
      assert.equal(reason.exitCode, ExitCode.INTERRUPTED);
      assert.equal(reason.message, 'interrupted (SIGINT): helm was stopped');
      assert.match(
        reason.hint,
        /^helm marks the revision it was writing failed; the next command on release rooms upgrades from there/,
      );
      assert.deepEqual(exits, [], 'the first waits for helm to stop');
      sigint.send();
      assert.deepEqual(stopped, ['SIGTERM', 'SIGKILL']);
      assert.deepEqual(exits, [ExitCode.INTERRUPTED]);
      assert.match(
        written.join(''),
        /^error: interrupted again \(SIGINT\): helm was killed\nThe release may be left pending; the next command on release rooms rolls it back first/,
      );
    } finally {
      s.dispose();
    }
    assert.equal(sigint.left(), 0, 'no handler left behind');
  });

  it('SIGHUP (the terminal closed) stops helm as SIGTERM does: exit 129; SIGTERM is 143', () => {
    for (const [sig, code] of [
      ['SIGHUP', ExitCode.HUNG_UP],
      ['SIGTERM', ExitCode.TERMINATED],
    ] as const) {
      const stopped: string[] = [];
      const signal = signals(sig);
      const s = stopOnSignals('rooms', 'game', {
        stop: (x) => (stopped.push(x), 1),
        write: () => undefined,
        exit: () => undefined,
      });
      try {
        signal.send();
        assert.deepEqual(stopped, ['SIGTERM'], sig);
        const reason = s.signal.reason as { exitCode: number; message: string };
        assert.equal(reason.exitCode, code);
        assert.equal(reason.message, `interrupted (${sig}): helm was stopped`);
      } finally {
        s.dispose();
      }
      assert.equal(signal.left(), 0, `no ${sig} handler left behind`);
    }
    assert.equal(ExitCode.HUNG_UP, 129);
  });
});
