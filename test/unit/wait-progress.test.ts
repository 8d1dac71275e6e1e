import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import { progressLine } from '../../src/core/progress.js';
import type { WatchClient } from '../../src/kube/reflector.js';
import { followProgress } from '../../src/ops/wait.js';
import { chartSelector, FAKE_SERVER, fakeKube } from '../support/kube.js';
import { eventually } from '../support/poll.js';

const PATHS = {
  statefulsets: '/apis/apps/v1/namespaces/game/statefulsets',
  pods: '/api/v1/namespaces/game/pods',
  deployments: '/apis/apps/v1/namespaces/game/deployments',
} as const;

const set = (replicas: number) => ({
  metadata: { name: 'rooms-expose-pods', namespace: 'game', resourceVersion: '10' },
  spec: { replicas, selector: {}, template: {} },
});
const pod = (name: string, ready: boolean, rv: string) => ({
  metadata: { name, namespace: 'game', resourceVersion: rv },
  spec: { nodeName: 'n0' },
  status: {
    phase: ready ? 'Running' : 'Pending',
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
  },
});
const room = (n: number, ready: boolean, rv = `${200 + n}`) => pod(`rooms-expose-pods-${n}`, ready, rv);
const redisDeployment = { metadata: { name: 'rooms-expose-pods-redis', namespace: 'game' } };
const redis = (ready: boolean) => pod('rooms-expose-pods-redis-abc', ready, '400');

/** The four lists, answered once each; `cached` from the watch cache (resourceVersion=0) as the watches' first lists and polls ask, else consistent as the last word asks. */
function lists(
  scope: nock.Scope,
  o: { replicas: number; rooms: unknown[]; redis: unknown[] },
  how: 'consistent' | 'cached' = 'consistent',
) {
  const q = (component: string) =>
    how === 'cached'
      ? { labelSelector: chartSelector(component), resourceVersion: '0' }
      : { labelSelector: chartSelector(component) };
  const list = (items: unknown[], rv: string) => ({ metadata: { resourceVersion: rv }, items });
  scope
    .get(PATHS.statefulsets)
    .query(q('room'))
    .reply(200, list([set(o.replicas)], '100'));
  scope.get(PATHS.pods).query(q('room')).reply(200, list(o.rooms, '200'));
  scope
    .get(PATHS.deployments)
    .query(q('redis'))
    .reply(200, list([redisDeployment], '300'));
  scope.get(PATHS.pods).query(q('redis')).reply(200, list(o.redis, '400'));
  return scope;
}

interface FakeWatch {
  path: string;
  query: Record<string, unknown>;
  send: (type: string, object: unknown) => void;
}

/** A watch client the test drives: each watch is recorded, and events are sent into it by hand. */
class FakeWatcher implements WatchClient {
  readonly watches: FakeWatch[] = [];
  constructor(private readonly refuse?: number) {}
  watch(
    path: string,
    query: Record<string, unknown>,
    callback: (phase: string, object: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const c = new AbortController();
    if (this.refuse) {
      setImmediate(() => {
        done({ statusCode: this.refuse });
      });
      return Promise.resolve(c);
    }
    c.signal.addEventListener('abort', () => {
      done(null);
    });
    this.watches.push({ path, query, send: callback });
    return Promise.resolve(c);
  }
  of(path: string, component: string): FakeWatch {
    const w = this.watches.find((x) => x.path === path && x.query.labelSelector === chartSelector(component));
    assert.ok(w, `a watch on ${path} ${component}`);
    return w;
  }
}

/** A helm run the test settles by hand. */
function helmRun() {
  let succeed!: () => void;
  let fail!: (e: Error) => void;
  const run = new Promise<void>((resolve, reject) => {
    succeed = resolve;
    fail = reject;
  });
  run.catch(() => undefined);
  return { run, succeed, fail };
}

/** followProgress on release rooms, its lines collected, helm settled by hand, and the watches it opens. */
function follow(opts: { refuse?: number; catchUpMs?: number; settleMs?: number } = {}) {
  const watcher = new FakeWatcher(opts.refuse);
  const helm = helmRun();
  const lines: string[] = [];
  const done = followProgress(
    { release: 'rooms', kube: fakeKube() },
    (p) => lines.push(progressLine(p)),
    helm.run,
    undefined,
    { watcher, settleMs: opts.settleMs ?? 0, catchUpMs: opts.catchUpMs },
  );
  const watching = () =>
    eventually('the four watches', () => (watcher.watches.length === 4 ? true : undefined), 5000, 5);
  return { watcher, helm, lines, done, watching };
}

describe('progress while helm waits: listed once, then followed by watches', { timeout: 10_000 }, () => {
  const unmatched: string[] = [];
  const noMatch = (req: { method: string; path: string }) => unmatched.push(`${req.method} ${req.path}`);
  before(() => {
    nock.disableNetConnect();
    nock.emitter.on('no match', noMatch);
  });
  after(() => {
    nock.emitter.removeListener('no match', noMatch);
    nock.enableNetConnect();
  });
  afterEach(() => {
    nock.cleanAll();
    unmatched.length = 0;
  });

  it('each change becomes a line, no list is repeated, and the last line is the state helm waited for', async () => {
    const scope = lists(
      nock(FAKE_SERVER),
      { replicas: 2, rooms: [room(0, true)], redis: [redis(false)] },
      'cached',
    );
    const { watcher, helm, lines, done, watching } = follow();
    await watching();
    assert.ok(scope.isDone());
    // Each watch starts where its list ended, with the release's selector.
    assert.deepEqual(
      watcher.watches.map((w) => [w.path, w.query.labelSelector, w.query.resourceVersion]).sort(),
      [
        [PATHS.deployments, chartSelector('redis'), '300'],
        [PATHS.pods, chartSelector('redis'), '400'],
        [PATHS.pods, chartSelector('room'), '200'],
        [PATHS.statefulsets, chartSelector('room'), '100'],
      ].sort(),
    );
    assert.deepEqual(lines, ['pods ready 1/2 · rooms-expose-pods-1 not created yet · redis starting']);

    watcher.of(PATHS.pods, 'room').send('ADDED', room(1, false, '210'));
    await eventually('the new pod', () => (lines.length === 2 ? true : undefined), 5000, 5);
    watcher.of(PATHS.pods, 'room').send('MODIFIED', room(1, true, '211'));
    watcher.of(PATHS.pods, 'redis').send('MODIFIED', redis(true));
    await eventually(
      'all ready',
      () => (lines.at(-1)?.startsWith('pods ready 2/2') ? true : undefined),
      5000,
      5,
    );
    helm.succeed();
    await done;
    assert.deepEqual(lines, [
      'pods ready 1/2 · rooms-expose-pods-1 not created yet · redis starting',
      'pods ready 1/2 · rooms-expose-pods-1 Pending · redis starting',
      'pods ready 2/2 · redis ready',
      'pods ready 2/2 · redis ready',
    ]);
    assert.deepEqual(unmatched, [], 'nothing is read but the first lists');
  });

  it('watches behind helm: after the catch-up time, a consistent list (not the watch cache) gives the last line', async () => {
    const scope = lists(nock(FAKE_SERVER), { replicas: 2, rooms: [room(0, true)], redis: [] }, 'cached');
    const { helm, lines, done, watching } = follow({ catchUpMs: 50 });
    await watching();
    lists(scope, { replicas: 2, rooms: [room(0, true), room(1, true)], redis: [redis(true)] });
    helm.succeed();
    await done;
    assert.ok(scope.isDone(), 'the last word is a list without resourceVersion=0');
    assert.deepEqual(lines, [
      'pods ready 1/2 · rooms-expose-pods-1 not created yet · redis starting',
      'pods ready 2/2 · redis ready',
    ]);
  });

  it('a watch the cluster refuses (403: no watch verb) falls back to polls of the watch cache', async () => {
    const scope = lists(nock(FAKE_SERVER), { replicas: 1, rooms: [], redis: [] }, 'cached');
    lists(scope, { replicas: 1, rooms: [room(0, false)], redis: [] }, 'cached');
    const { helm, lines, done } = follow({ refuse: 403 });
    await eventually('a poll', () => (lines.length === 2 ? true : undefined), 5000, 5);
    lists(scope, { replicas: 1, rooms: [room(0, true)], redis: [] });
    helm.succeed();
    await done;
    assert.ok(scope.isDone());
    assert.deepEqual(lines, [
      'pods ready 0/1 · rooms-expose-pods-0 not created yet · redis starting',
      'pods ready 0/1 · rooms-expose-pods-0 Pending · redis starting',
      'pods ready 1/1 · redis starting',
    ]);
  });

  it('helm failing ends the progress at once, with no last read', async () => {
    lists(nock(FAKE_SERVER), { replicas: 1, rooms: [], redis: [] }, 'cached');
    const { helm, lines, done, watching } = follow({ settleMs: 1000 });
    await watching();
    helm.fail(new Error('helm failed'));
    await done;
    assert.deepEqual(lines, ['pods ready 0/1 · rooms-expose-pods-0 not created yet · redis starting']);
    assert.deepEqual(unmatched, []);
  });
});
