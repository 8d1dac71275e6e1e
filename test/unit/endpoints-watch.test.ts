import assert from 'node:assert/strict';
import type { ParsedUrlQuery } from 'node:querystring';
import { PassThrough } from 'node:stream';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import { diffEndpoints } from '../../src/core/endpoint-changes.js';
import type { Endpoint } from '../../src/core/endpoints.js';
import type { Allocation } from '../../src/core/rooms.js';
import { ExitCode } from '../../src/errors.js';
import { watchEndpoints, type EndpointsUpdate } from '../../src/ops/endpoints-watch.js';
import { chartSelector, FAKE_SERVER, fakeKubeconfigFile, mockReleaseLists } from '../support/kube.js';
import { eventually } from '../support/poll.js';

const kubeconfig = fakeKubeconfigFile();

const row = (ordinal: number, over: Partial<Endpoint> = {}): Endpoint => ({
  ordinal,
  pod: `rooms-expose-pods-${ordinal}`,
  ready: true,
  status: 'Ready',
  node: 'n0',
  podIP: null,
  address: '203.0.113.1',
  addressType: 'ExternalIP',
  port: 30000 + ordinal,
  protocol: 'TCP',
  service: `rooms-expose-pods-${ordinal}`,
  serviceType: 'NodePort',
  dns: `rooms-expose-pods-${ordinal}.rooms-expose-pods.game.svc.cluster.local`,
  state: 'Free',
  draining: false,
  cordoned: false,
  allocation: null,
  lastAllocation: null,
  revision: null,
  outdated: false,
  ...over,
});

describe('diffEndpoints', () => {
  it('reports rows added, modified and deleted, by ordinal, and nothing for unchanged rows', () => {
    const before = [row(0), row(1), row(2)];
    const after = [row(0), row(1, { ready: false, status: 'NotReady' }), row(3)];
    assert.deepEqual(
      diffEndpoints(before, after).map((c) => [c.type, c.endpoint.ordinal, c.endpoint.status]),
      [
        ['MODIFIED', 1, 'NotReady'],
        ['DELETED', 2, 'Ready'],
        ['ADDED', 3, 'Ready'],
      ],
    );
    assert.deepEqual(diffEndpoints(before, before), []);
    assert.deepEqual(
      diffEndpoints([], [row(0)]).map((c) => c.type),
      ['ADDED'],
    );
  });
});

describe('diffEndpoints: what counts as a change', () => {
  const allocation = (id: string): Allocation => ({
    id,
    allocatedAt: '2026-12-07T10:00:00Z',
    metadata: { match: 'm1' },
    stale: false,
  });

  it('in ordinal order (numeric), whatever order the rows came in', () => {
    const changes = diffEndpoints([row(2), row(10)], [row(10, { ready: false }), row(1), row(3)]);
    assert.deepEqual(
      changes.map((c) => [c.type, c.endpoint.ordinal]),
      [
        ['ADDED', 1],
        ['DELETED', 2],
        ['ADDED', 3],
        ['MODIFIED', 10],
      ],
    );
  });

  it('an allocation is compared by content: an equal copy is no change, another id is', () => {
    const before = [row(0, { allocation: allocation('a') })];
    const copy = [row(0, { allocation: allocation('a') })];
    assert.deepEqual(diffEndpoints(before, copy), []);
    const other = [row(0, { allocation: allocation('b') })];
    assert.deepEqual(
      diffEndpoints(before, other).map((c) => c.type),
      ['MODIFIED'],
    );
  });

  it('a field only one side has is a change, whichever side has it', () => {
    const extra = { ...row(0), probe: 'reachable' } as Endpoint;
    assert.deepEqual(
      diffEndpoints([row(0)], [extra]).map((c) => c.type),
      ['MODIFIED'],
    );
    assert.deepEqual(
      diffEndpoints([extra], [row(0)]).map((c) => c.type),
      ['MODIFIED'],
    );
  });

  it('a DELETED change carries the row as it was last seen, MODIFIED and ADDED the row now', () => {
    const gone = row(4, { status: 'Terminating' });
    const [deleted] = diffEndpoints([gone], []);
    assert.equal(deleted?.endpoint, gone);
    const now = row(5, { status: 'NotReady' });
    const [modified] = diffEndpoints([row(5)], [now]);
    assert.equal(modified?.endpoint, now);
  });
});

// --- nock: the list and watch requests, and the stream handling ---

const pod = (i: number, ready = true, node = 'n0') => ({
  metadata: { name: `rooms-expose-pods-${i}`, namespace: 'game', resourceVersion: `${500 + i}` },
  spec: { nodeName: node },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const service = (i: number) => ({
  metadata: { name: `rooms-expose-pods-${i}`, namespace: 'game' },
  spec: {
    type: 'NodePort',
    selector: { 'statefulset.kubernetes.io/pod-name': `rooms-expose-pods-${i}` },
    ports: [{ port: 7777, nodePort: 30000 + i }],
  },
});
const node = {
  metadata: { name: 'n0' },
  status: {
    conditions: [{ type: 'Ready', status: 'True' }],
    addresses: [{ type: 'ExternalIP', address: '203.0.113.1' }],
  },
};
const statefulSet = {
  metadata: { name: 'rooms-expose-pods', namespace: 'game' },
  spec: { replicas: 2, serviceName: 'rooms-expose-pods', selector: {}, template: {} },
};

const PATHS = {
  sts: '/apis/apps/v1/namespaces/game/statefulsets',
  pods: '/api/v1/namespaces/game/pods',
  services: '/api/v1/namespaces/game/services',
  nodes: '/api/v1/nodes',
};

type Query = ParsedUrlQuery;
const isWatch = (q: Query) => q.watch === 'true';
const isList = (q: Query) => q.watch === undefined;

/** The four lists, each at its own resourceVersion. */
function lists(scope: nock.Scope, opts: { nodes?: 'forbidden' } = {}) {
  mockReleaseLists(scope, {
    statefulSets: { items: [statefulSet], resourceVersion: '100' },
    roomPods: { items: [pod(0), pod(1)], resourceVersion: '200' },
    podServices: { items: [service(0), service(1)], resourceVersion: '300' },
  });
  if (opts.nodes === 'forbidden') {
    scope.get(PATHS.nodes).query(isList).reply(403, { kind: 'Status', code: 403, reason: 'Forbidden' });
  } else {
    scope
      .get(PATHS.nodes)
      .query(isList)
      .reply(200, { metadata: { resourceVersion: '400' }, items: [node] });
  }
}

/** A watch stream the test writes events into; it stays open until ended. */
function stream() {
  const body = new PassThrough();
  return {
    body,
    send: (type: string, object: unknown) => body.write(`${JSON.stringify({ type, object })}\n`),
  };
}

/** Watches on the StatefulSet, Services and nodes that stay open and quiet. */
function quietWatches(scope: nock.Scope, queries: Query[], opts: { nodes?: boolean } = {}) {
  const record = (q: Query) => {
    if (!isWatch(q)) return false;
    queries.push(q);
    return true;
  };
  scope
    .get(PATHS.sts)
    .query(record)
    .reply(200, () => stream().body);
  scope
    .get(PATHS.services)
    .query(record)
    .reply(200, () => stream().body);
  if (opts.nodes !== false)
    scope
      .get(PATHS.nodes)
      .query(record)
      .reply(200, () => stream().body);
}

/** Runs the watch, collecting updates and notices, until `until` says stop. */
async function collect(
  until: (updates: EndpointsUpdate[]) => boolean,
  notices: string[] = [],
): Promise<EndpointsUpdate[]> {
  const updates: EndpointsUpdate[] = [];
  for await (const u of watchEndpoints({
    release: 'rooms',
    kubeconfig,
    onNotice: (m) => notices.push(m),
    backoffMs: { first: 10, max: 20 },
  })) {
    updates.push(u);
    if (until(updates)) break;
  }
  return updates;
}

const summary = (u: EndpointsUpdate) =>
  u.changes.map((c) => `${c.type} ${c.endpoint.ordinal} ${c.endpoint.status}`);

// A watch that misses an event would wait forever: the timeout turns that into a failure.
describe('watchEndpoints against a fake API server (nock)', { timeout: 10_000 }, () => {
  before(() => {
    nock.disableNetConnect();
  });
  after(() => {
    nock.enableNetConnect();
  });
  afterEach(() => {
    nock.cleanAll();
  });

  it('lists once, then watches each collection from its list resourceVersion, with the release selector', async () => {
    const scope = nock(FAKE_SERVER);
    lists(scope);
    const queries: Query[] = [];
    quietWatches(scope, queries);
    const pods = stream();
    scope
      .get(PATHS.pods)
      .query((q: Query) => isWatch(q) && (queries.push(q), true))
      .reply(200, () => pods.body);

    const updates = await collect((u) => {
      if (u.length === 1) setImmediate(() => pods.send('MODIFIED', pod(1, false)));
      return u.length === 2;
    });
    assert.deepEqual(summary(updates[0]!), ['ADDED 0 Ready', 'ADDED 1 Ready']);
    assert.deepEqual(summary(updates[1]!), ['MODIFIED 1 NotReady']);
    assert.equal(updates[1]!.endpoints.length, 2, 'every row comes with each update');

    const byRv = Object.fromEntries(queries.map((q) => [String(q.resourceVersion), q]));
    assert.deepEqual(Object.keys(byRv).sort(), ['100', '200', '300', '400']);
    assert.equal(byRv['100']!.labelSelector, chartSelector('room'));
    assert.equal(byRv['200']!.labelSelector, chartSelector('room'));
    assert.equal(byRv['300']!.labelSelector, chartSelector('pod-service'));
    assert.equal(byRv['400']!.labelSelector, undefined, 'nodes are watched unfiltered');
    for (const q of queries) {
      assert.equal(q.allowWatchBookmarks, 'true');
      const t = Number(q.timeoutSeconds);
      assert.ok(t >= 300 && t < 600, `timeoutSeconds ${t} is 5 to 10 minutes`);
    }
  });

  it('follows ADDED, MODIFIED and DELETED pod events; a BOOKMARK changes nothing', async () => {
    const scope = nock(FAKE_SERVER);
    lists(scope);
    quietWatches(scope, []);
    const pods = stream();
    scope
      .get(PATHS.pods)
      .query(isWatch)
      .reply(200, () => pods.body);

    const steps: [string, unknown][] = [
      ['DELETED', pod(1)],
      ['BOOKMARK', { metadata: { resourceVersion: '900' } }],
      ['ADDED', { ...pod(1, false, 'n0'), status: { phase: 'Pending' } }],
      ['MODIFIED', pod(1, true)],
    ];
    const updates = await collect((u) => {
      const next = steps.shift();
      if (next) setImmediate(() => pods.send(...next));
      // The bookmark is followed at once by the ADDED event, so it cannot hide an update.
      if (next?.[0] === 'BOOKMARK') {
        const added = steps.shift();
        if (added) setImmediate(() => pods.send(...added));
      }
      return u.length === 4;
    });
    assert.deepEqual(updates.slice(1).map(summary), [
      ['MODIFIED 1 Pending'],
      ['MODIFIED 1 NotReady'],
      ['MODIFIED 1 Ready'],
    ]);
  });

  it('410 Gone: lists the pods again, reports what changed meanwhile, and watches from the new version', async () => {
    const scope = nock(FAKE_SERVER);
    lists(scope);
    quietWatches(scope, []);
    scope
      .get(PATHS.pods)
      .query((q: Query) => isWatch(q) && q.resourceVersion === '200')
      .reply(
        200,
        `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 200 (950)' } })}\n`,
      );
    scope
      .get(PATHS.pods)
      .query((q: Query) => isList(q) && q.labelSelector === chartSelector('room'))
      .reply(200, { metadata: { resourceVersion: '960' }, items: [pod(0)] });
    const rewatch: Query[] = [];
    const pods = stream();
    scope
      .get(PATHS.pods)
      .query((q: Query) => isWatch(q) && (rewatch.push(q), true))
      .reply(200, () => pods.body);

    const notices: string[] = [];
    const updates = await collect((u) => u.length === 2, notices);
    assert.deepEqual(summary(updates[1]!), ['MODIFIED 1 Pending']);
    assert.match(
      notices.join('\n'),
      /the watch on pods in namespace game expired \(410 Gone\); listing again/,
    );
    const watch = await eventually('the new watch', () => rewatch[0], 5000, 5);
    assert.equal(watch.resourceVersion, '960', 'the new watch starts at the relist version');
  });

  it('an HTTP 410 on the watch request itself also relists', async () => {
    const scope = nock(FAKE_SERVER);
    lists(scope);
    quietWatches(scope, []);
    scope.get(PATHS.pods).query(isWatch).reply(410, { kind: 'Status', code: 410, reason: 'Gone' });
    scope
      .get(PATHS.pods)
      .query(isList)
      .reply(200, { metadata: { resourceVersion: '970' }, items: [pod(0), pod(1, false)] });
    const pods = stream();
    scope
      .get(PATHS.pods)
      .query(isWatch)
      .reply(200, () => pods.body);
    const updates = await collect((u) => u.length === 2);
    assert.deepEqual(summary(updates[1]!), ['MODIFIED 1 NotReady']);
  });

  it('a closed watch is reopened, a refused one retried, from the last resourceVersion seen', async () => {
    const scope = nock(FAKE_SERVER);
    lists(scope);
    quietWatches(scope, []);
    const first = stream();
    scope
      .get(PATHS.pods)
      .query(isWatch)
      .reply(200, () => first.body);
    scope
      .get(PATHS.pods)
      .query(isWatch)
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const again: Query[] = [];
    const second = stream();
    scope
      .get(PATHS.pods)
      .query((q: Query) => isWatch(q) && (again.push(q), true))
      .reply(200, () => second.body);

    const notices: string[] = [];
    const updates = await collect((u) => {
      if (u.length === 1) {
        setImmediate(() => {
          first.send('MODIFIED', {
            ...pod(1, false),
            metadata: { ...pod(1).metadata, resourceVersion: '777' },
          });
        });
      }
      if (u.length === 2) {
        // Seen: the server closes the watch (its timeoutSeconds); the reconnect is refused once,
        // and the event is sent once the watch is open again.
        first.body.end();
        void eventually('the reopened watch', () => again[0], 5000, 5).then(() => {
          second.send('MODIFIED', pod(1, true));
        });
      }
      return u.length === 3;
    }, notices);
    assert.deepEqual(updates.slice(1).map(summary), [['MODIFIED 1 NotReady'], ['MODIFIED 1 Ready']]);
    assert.match(
      notices.join('\n'),
      /the watch on pods in namespace game was lost \(ECONNRESET\); reconnecting in 0\.0[12]s/,
    );
    assert.equal(again[0]?.resourceVersion, '777');
  });

  it('without permission to list nodes: addresses unknown, nodes not watched, no error', async () => {
    const scope = nock(FAKE_SERVER);
    lists(scope, { nodes: 'forbidden' });
    quietWatches(scope, [], { nodes: false });
    const pods = stream();
    scope
      .get(PATHS.pods)
      .query(isWatch)
      .reply(200, () => pods.body);
    const notices: string[] = [];
    const updates = await collect((u) => {
      if (u.length === 1) setImmediate(() => pods.send('MODIFIED', pod(0, false)));
      return u.length === 2;
    }, notices);
    assert.equal(updates[0]!.nodesVisible, false);
    assert.equal(updates[0]!.endpoints[0]!.address, 'unknown (no permission to list nodes)');
    assert.deepEqual(summary(updates[1]!), ['MODIFIED 0 NotReady']);
    assert.deepEqual(notices, []);
  });

  it('403 on the watch ends it with the forbidden exit code; retrying cannot help', async () => {
    const scope = nock(FAKE_SERVER);
    lists(scope);
    quietWatches(scope, []);
    scope.get(PATHS.pods).query(isWatch).reply(403, { kind: 'Status', code: 403, reason: 'Forbidden' });
    await assert.rejects(
      collect(() => false),
      (e: Error & { exitCode?: number }) => {
        assert.equal(e.exitCode, ExitCode.FORBIDDEN);
        assert.match(e.message, /the API server refused to watch pods in namespace game \(403\)/);
        return true;
      },
    );
  });

  it('no StatefulSet at the start is the same NOT_FOUND error as endpoints without --watch', async () => {
    const scope = nock(FAKE_SERVER);
    scope
      .get(PATHS.sts)
      .query(isList)
      .reply(200, { metadata: { resourceVersion: '1' }, items: [] });
    scope
      .get(PATHS.pods)
      .query(isList)
      .reply(200, { metadata: { resourceVersion: '1' }, items: [] });
    scope
      .get(PATHS.services)
      .query(isList)
      .reply(200, { metadata: { resourceVersion: '1' }, items: [] });
    scope
      .get(PATHS.nodes)
      .query(isList)
      .reply(200, { metadata: { resourceVersion: '1' }, items: [] });
    await assert.rejects(
      collect(() => true),
      {
        exitCode: ExitCode.NOT_FOUND,
        message: 'release rooms has no StatefulSet in namespace game',
      },
    );
  });

  it('the StatefulSet deleted mid-watch: every row DELETED and a notice, not an error', async () => {
    const scope = nock(FAKE_SERVER);
    lists(scope);
    const sts = stream();
    scope
      .get(PATHS.sts)
      .query(isWatch)
      .reply(200, () => sts.body);
    scope
      .get(PATHS.services)
      .query(isWatch)
      .reply(200, () => stream().body);
    scope
      .get(PATHS.nodes)
      .query(isWatch)
      .reply(200, () => stream().body);
    scope
      .get(PATHS.pods)
      .query(isWatch)
      .reply(200, () => stream().body);
    const notices: string[] = [];
    const updates = await collect((u) => {
      if (u.length === 1) setImmediate(() => sts.send('DELETED', statefulSet));
      return u.length === 2;
    }, notices);
    assert.deepEqual(summary(updates[1]!), ['DELETED 0 Ready', 'DELETED 1 Ready']);
    assert.deepEqual(updates[1]!.endpoints, []);
    assert.match(notices.join('\n'), /the StatefulSet of release rooms is gone from namespace game/);
  });
});
