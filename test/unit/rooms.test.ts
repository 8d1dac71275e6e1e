import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';

import { diffEndpoints } from '../../src/core/endpoint-changes.js';
import { resolveEndpointRows, UNKNOWN_ADDRESS, type Endpoint } from '../../src/core/endpoints.js';
import type { NodeView } from '../../src/core/model.js';
import {
  allocatable,
  allocationIdProblem,
  allocatedMeanwhile,
  allocationOf,
  allocationEnded,
  allocationPatch,
  cordonPatch,
  countRooms,
  countsPhrase,
  deallocationPatch,
  drainChanges,
  drainPatch,
  holdsAllocation,
  inUsePhrase,
  MAX_ALLOCATION_ID,
  parseMetadataFlags,
  roomMark,
  removedByStatefulSet,
  roomState,
  settledMark,
  shortAge,
  shownState,
  SAFE_TO_EVICT_ANNOTATION,
  type RoomMark,
} from '../../src/core/rooms.js';
import { endpointRow, podService, roomPod } from '../support/fixtures.js';

const row = (n: number, extra: Partial<Endpoint> = {}) => endpointRow('web', n, extra);

describe('roomMark: what a pod says of its room', () => {
  const cases: [string, Record<string, string>, Record<string, string>, RoomMark][] = [
    ['no marks', {}, {}, { allocated: false, draining: false }],
    ['allocated', { 'expose-pods.io/state': 'Allocated' }, {}, { allocated: true, draining: false }],
    [
      'another state value is not an allocation',
      { 'expose-pods.io/state': 'allocated' },
      {},
      { allocated: false, draining: false },
    ],
    ['draining', { 'expose-pods.io/draining': 'true' }, {}, { allocated: false, draining: true }],
    [
      'draining must say true',
      { 'expose-pods.io/draining': 'yes' },
      {},
      { allocated: false, draining: false },
    ],
    [
      'the annotations of an allocation',
      { 'expose-pods.io/state': 'Allocated' },
      {
        'expose-pods.io/allocated-at': '2026-12-04T10:00:00.000Z',
        'expose-pods.io/allocated-restarts': '2',
        'expose-pods.io/allocation-metadata': '{"match":"m-1","n":3}',
      },
      {
        allocated: true,
        draining: false,
        allocatedAt: '2026-12-04T10:00:00.000Z',
        restartsAtAllocation: 2,
        metadata: { match: 'm-1' },
      },
    ],
    [
      'hand-edited annotations that do not parse are ignored',
      { 'expose-pods.io/state': 'Allocated' },
      { 'expose-pods.io/allocated-restarts': 'two', 'expose-pods.io/allocation-metadata': '[1]' },
      { allocated: true, draining: false },
    ],
  ];
  for (const [name, labels, annotations, want] of cases)
    it(name, () => {
      assert.deepEqual(roomMark(labels, annotations), want);
    });
});

describe('roomState and allocationOf', () => {
  it('an allocated room stays Allocated while it drains; a draining one is Draining; else Free', () => {
    assert.equal(roomState({ allocated: true, draining: true }), 'Allocated');
    assert.equal(roomState({ allocated: false, draining: true }), 'Draining');
    assert.equal(roomState({ allocated: false, draining: false }), 'Free');
    assert.equal(roomState(undefined), 'Free');
  });
  it('stale only when the pod restarted a container since the allocation', () => {
    const mark: RoomMark = { allocated: true, draining: false, restartsAtAllocation: 1, allocatedAt: 't' };
    assert.deepEqual(allocationOf(mark, 1), { id: null, allocatedAt: 't', metadata: {}, stale: false });
    assert.deepEqual(allocationOf(mark, 2), { id: null, allocatedAt: 't', metadata: {}, stale: true });
    assert.equal(
      allocationOf({ allocated: true, draining: false }, 5)?.stale,
      false,
      'unknown restarts at allocation',
    );
    assert.equal(allocationOf({ allocated: false, draining: true }, 5), null);
    assert.equal(allocationOf(undefined, 0), null);
  });
});

describe('resolveEndpointRows carries the room state', () => {
  const zero = { free: 0, allocated: 0, draining: 0, cordoned: 0, unavailable: 0, stale: 0, outdated: 0 };
  const node: NodeView = {
    name: 'n1',
    ready: true,
    addresses: [{ type: 'InternalIP', address: '198.51.100.1' }],
  };
  it('state, draining and allocation come from the pod; a row without a pod has no state', () => {
    const rows = resolveEndpointRows({
      namespace: 'game',
      workload: 'web',
      headless: 'web',
      replicas: 3,
      pods: [
        roomPod('web', 0, {
          mark: { allocated: true, draining: true, restartsAtAllocation: 0 },
          restarts: 1,
        }),
        roomPod('web', 1, { mark: { allocated: false, draining: true } }),
      ],
      services: [podService('web', 0), podService('web', 1), podService('web', 2)],
      nodes: [node],
      addressTypes: ['InternalIP'],
    });
    assert.deepEqual(
      rows.map((r) => [r.state, r.draining, r.allocation?.stale ?? null]),
      [
        ['Allocated', true, true],
        ['Draining', true, null],
        [null, false, null],
      ],
    );
  });

  it('a Service beyond the replicas (expose.count above room.replicas) is no room: state null, not counted', () => {
    const rows = resolveEndpointRows({
      namespace: 'game',
      workload: 'web',
      headless: 'web',
      replicas: 1,
      pods: [roomPod('web', 0)],
      services: [podService('web', 0), podService('web', 1)],
      nodes: [node],
      addressTypes: ['InternalIP'],
    });
    assert.deepEqual(
      rows.map((r) => [r.status, r.state]),
      [
        ['Ready', 'Free'],
        ['NoPod', null],
      ],
    );
    assert.deepEqual(countRooms(rows), { ...zero, free: 1 });
    assert.deepEqual(
      allocatable(rows).map((r) => r.pod),
      ['web-0'],
    );
  });

  it('rooms the StatefulSet removes (ordinal at or above spec.replicas) show Draining; a Terminating one keeps its state; neither is allocatable', () => {
    // kubectl scale sts --replicas 2 over three Ready rooms: web-2 is going; web-1 stays.
    const rows = resolveEndpointRows({
      namespace: 'game',
      workload: 'web',
      headless: 'web',
      replicas: 2,
      pods: [
        roomPod('web', 0, { terminating: true }),
        roomPod('web', 1),
        roomPod('web', 2),
        roomPod('web', 3, { mark: { allocated: true, draining: false } }),
      ],
      services: [0, 1, 2, 3].map((n) => podService('web', n)),
      nodes: [node],
      addressTypes: ['InternalIP'],
    });
    assert.deepEqual(
      rows.map((r) => [r.pod, r.state, r.draining]),
      [
        // Terminating: its status keeps it from a match; a replacement comes back here.
        ['web-0', 'Free', false],
        ['web-1', 'Free', false],
        ['web-2', 'Draining', false],
        // Its match runs until the controller removes it.
        ['web-3', 'Allocated', false],
      ],
    );
    assert.deepEqual(
      allocatable(rows).map((r) => r.pod),
      ['web-1'],
    );
    assert.deepEqual(countRooms(rows), { ...zero, free: 1, draining: 1, allocated: 1, unavailable: 1 });
  });
});

describe('removedByStatefulSet and shownState: rooms the StatefulSet removes, and rows without a pod', () => {
  it('the boundary is spec.replicas: the last kept ordinal stays, the first above it goes', () => {
    assert.equal(removedByStatefulSet(2, 3), false);
    assert.equal(removedByStatefulSet(3, 3), true);
    assert.equal(removedByStatefulSet(0, 0), true);
  });
  const cases: [string, Parameters<typeof shownState>, ReturnType<typeof shownState>][] = [
    ['no pod: no state', ['Free', false, 0, 2], null],
    ['kept and Free', ['Free', true, 1, 2], 'Free'],
    ['Free at spec.replicas', ['Free', true, 2, 2], 'Draining'],
    [
      'Free and Terminating below the replicas: still Free (its status says Terminating)',
      ['Free', true, 0, 2],
      'Free',
    ],
    ['Allocated above the replicas stays Allocated', ['Allocated', true, 5, 2], 'Allocated'],
    ['marked Draining', ['Draining', true, 0, 2], 'Draining'],
  ];
  for (const [name, args, want] of cases)
    it(name, () => {
      assert.equal(shownState(...args), want);
    });
});

describe('allocatable: which rooms a match may be given', () => {
  it('only Free, Ready rows with a port and a known address, lowest ordinal first', () => {
    const rows = [
      row(5),
      row(4, { state: 'Allocated' }),
      row(3, { state: 'Draining' }),
      row(2, { status: 'NotReady', ready: false }),
      row(1, { port: null }),
      row(6, { address: null }),
      row(7, { address: UNKNOWN_ADDRESS }),
      row(0),
    ];
    assert.deepEqual(
      allocatable(rows).map((r) => r.ordinal),
      [0, 5],
    );
  });
  it('nothing when every room is taken', () => {
    assert.deepEqual(allocatable([row(0, { state: 'Allocated' })]), []);
  });
  it('never a room on an older revision than its StatefulSet’s: a new match starts on the new build', () => {
    assert.deepEqual(
      allocatable([row(0, { outdated: true, revision: 'old' }), row(1, { revision: 'new' })]).map(
        (r) => r.ordinal,
      ),
      [1],
    );
  });
});

describe('countRooms and countsPhrase', () => {
  it('counts by state; a Service with no pod beyond the replicas is not a room', () => {
    const counts = countRooms([
      row(0),
      row(1, { state: 'Allocated', allocation: { id: 'a1', allocatedAt: null, metadata: {}, stale: true } }),
      row(2, { state: 'Allocated', allocation: { id: null, allocatedAt: null, metadata: {}, stale: false } }),
      row(3, { state: 'Draining' }),
      row(4, { status: 'NotReady', ready: false }),
      row(5, { status: 'NoPod', ready: false }),
    ]);
    assert.deepEqual(counts, {
      free: 1,
      allocated: 2,
      draining: 1,
      cordoned: 0,
      unavailable: 1,
      stale: 1,
      outdated: 0,
    });
    assert.equal(
      countsPhrase(counts),
      '5 rooms: 1 Free, 2 Allocated (1 stale), 1 Draining, 1 not ready to take a match',
    );
  });
  it('says only what there is', () => {
    assert.equal(countsPhrase(countRooms([row(0, { state: 'Allocated' })])), '1 room: 1 Allocated');
    assert.equal(countsPhrase(countRooms([])), '0 rooms');
  });
});

describe('allocation ids', () => {
  it('allocationOf carries the id of the mark, null for a mark written before ids', () => {
    const mark: RoomMark = { allocated: true, draining: false, allocationId: 'm-42' };
    assert.equal(allocationOf(mark, 0)?.id, 'm-42');
    assert.equal(allocationOf({ allocated: true, draining: false }, 0)?.id, null);
  });
  const cases: [string, RoomMark | undefined, string | undefined, boolean][] = [
    ['the same id', { allocated: true, draining: false, allocationId: 'm-1' }, 'm-1', true],
    ['another id: the next match', { allocated: true, draining: false, allocationId: 'm-2' }, 'm-1', false],
    ['an id differing in case only', { allocated: true, draining: false, allocationId: 'M-1' }, 'm-1', false],
    ['a mark without an id (written before ids)', { allocated: true, draining: false }, 'm-1', false],
    [
      'the id left on a room no longer Allocated',
      { allocated: false, draining: true, allocationId: 'm-1' },
      'm-1',
      false,
    ],
    ['no mark', undefined, 'm-1', false],
    [
      'no id asked: any allocation',
      { allocated: true, draining: false, allocationId: 'm-2' },
      undefined,
      true,
    ],
    ['no id asked, room Free', { allocated: false, draining: false }, undefined, false],
  ];
  for (const [name, mark, id, want] of cases)
    it(`holdsAllocation: ${name}`, () => {
      assert.equal(holdsAllocation(mark, id), want);
    });
  it('allocationIdProblem: letters, digits, "-", "_", ".", ":", starting with a letter or digit, 1 to 128', () => {
    for (const ok of ['m', 'm-42', '7', randomUUID(), 'eu:match_1.2', 'a'.repeat(MAX_ALLOCATION_ID)])
      assert.equal(allocationIdProblem(ok), undefined, ok);
    for (const bad of [
      '',
      '-m',
      '_m',
      '.m',
      ':m',
      'm 42',
      'm/42',
      'm,42',
      'é',
      'm\n',
      'a'.repeat(MAX_ALLOCATION_ID + 1),
    ])
      assert.match(
        allocationIdProblem(bad) ?? '',
        /^--allocation-id ".*": use 1 to 128 letters, digits/,
        bad,
      );
    assert.equal(MAX_ALLOCATION_ID, 128);
  });
});

describe('allocationPatch and deallocationPatch', () => {
  it('an allocation writes the label, the time, the restarts and the metadata; safe-to-evict when asked', () => {
    const now = new Date('2026-12-04T10:00:00Z');
    const marks = allocationPatch({
      id: 'm-42',
      now,
      restarts: 3,
      metadata: { match: 'm' },
      markSafeToEvict: true,
    });
    assert.deepEqual(marks, {
      labels: { 'expose-pods.io/state': 'Allocated' },
      annotations: {
        'expose-pods.io/allocation-id': 'm-42',
        'expose-pods.io/allocated-at': '2026-12-04T10:00:00.000Z',
        'expose-pods.io/allocated-restarts': '3',
        'expose-pods.io/allocation-metadata': '{"match":"m"}',
        [SAFE_TO_EVICT_ANNOTATION]: 'false',
      },
    });
    const plain = allocationPatch({ id: 'x', now, restarts: 0, metadata: {}, markSafeToEvict: false });
    assert.equal(plain.annotations[SAFE_TO_EVICT_ANNOTATION], undefined);
    // What allocate writes, roomMark reads back.
    assert.deepEqual(roomMark(marks.labels, marks.annotations), {
      allocated: true,
      draining: false,
      allocationId: 'm-42',
      allocatedAt: '2026-12-04T10:00:00.000Z',
      restartsAtAllocation: 3,
      metadata: { match: 'm' },
    });
  });
  it('a deallocation removes them all, and safe-to-evict only when the pod template does not set it', () => {
    const mine = deallocationPatch(false);
    assert.deepEqual(mine.labels, { 'expose-pods.io/state': null });
    assert.deepEqual(Object.keys(mine.annotations).sort(), [
      'cluster-autoscaler.kubernetes.io/safe-to-evict',
      'expose-pods.io/allocated-at',
      'expose-pods.io/allocated-restarts',
      'expose-pods.io/allocation-id',
      'expose-pods.io/allocation-metadata',
    ]);
    assert.deepEqual(new Set(Object.values(mine.annotations)), new Set([null]));
    assert.equal(SAFE_TO_EVICT_ANNOTATION in deallocationPatch(true).annotations, false);
    // The drain mark is not the allocation's: it stays.
    assert.equal('expose-pods.io/draining' in mine.labels, false);
  });
});

describe('parseMetadataFlags: --meta KEY=VALUE', () => {
  it('keeps values as given, = included', () => {
    assert.deepEqual(parseMetadataFlags(['match=m-42', 'url=a=b', 'empty=']), {
      match: 'm-42',
      url: 'a=b',
      empty: '',
    });
  });
  for (const bad of ['novalue', '=x', '-a=1', 'a b=1', `${'k'.repeat(64)}=1`])
    it(`refuses ${bad.slice(0, 20)}`, () => {
      const out = parseMetadataFlags([bad]);
      assert.equal(typeof out, 'string');
      assert.match(out as string, /^--meta .*KEY=VALUE/);
    });
});

describe('shortAge: as kubectl shows an age', () => {
  const cases: [number, string][] = [
    [-5_000, '0s'],
    [0, '0s'],
    [119_999, '119s'],
    [120_000, '2m'],
    [7_199_999, '119m'],
    [7_200_000, '2h'],
    [172_799_999, '47h'],
    [172_800_000, '2d'],
  ];
  for (const [ms, want] of cases)
    it(`${ms} ms is ${want}`, () => {
      assert.equal(shortAge(ms), want);
    });
});

describe('drainChanges: what a change to N replicas writes first, and waits for', () => {
  const marked = (n: number, allocated: boolean, draining: boolean) =>
    roomPod('web', n, { resourceVersion: `${n}`, mark: { allocated, draining } });
  it('rooms removed are drained (highest first), rooms kept lose a stale Draining mark, rooms in use are waited for', () => {
    const c = drainChanges(
      [
        marked(0, false, true),
        marked(1, true, false),
        marked(2, false, false),
        marked(3, true, true),
        marked(4, true, false),
        roomPod('web', 5, { terminating: true, mark: { allocated: true, draining: false } }),
      ],
      'web',
      2,
    );
    assert.deepEqual(
      c.drain.map((p) => p.name),
      ['web-4', 'web-2'],
      'web-3 is already draining; a terminating pod is gone already',
    );
    assert.deepEqual(
      c.undrain.map((p) => p.name),
      ['web-0'],
    );
    assert.deepEqual(c.inUse, ['web-4', 'web-3']);
  });
  it('nothing to write or wait for when nothing is removed and nothing was left draining', () => {
    assert.deepEqual(drainChanges([marked(0, true, false), marked(1, false, false)], 'web', 2), {
      drain: [],
      undrain: [],
      inUse: [],
      replacing: [],
    });
  });
  it('drainPatch sets or removes only the drain label', () => {
    assert.deepEqual(drainPatch(true), { labels: { 'expose-pods.io/draining': 'true' }, annotations: {} });
    assert.deepEqual(drainPatch(false), { labels: { 'expose-pods.io/draining': null }, annotations: {} });
  });
  it('inUsePhrase names at most five', () => {
    assert.equal(inUsePhrase(['a']), 'removes 1 room(s) in use (Allocated): a');
    assert.equal(
      inUsePhrase(['a', 'b', 'c', 'd', 'e', 'f', 'g']),
      'removes 7 room(s) in use (Allocated): a, b, c, d, e and 2 more',
    );
  });
});

describe('--watch reports a change of room state', () => {
  it('a room allocated, its metadata changed, or freed is MODIFIED; the same allocation read again is no change', () => {
    const free = row(0);
    const allocation = { id: 'm', allocatedAt: 't', metadata: { match: 'm' }, stale: false };
    const taken = row(0, { state: 'Allocated', allocation });
    assert.deepEqual(
      diffEndpoints([free], [taken]).map((c) => [c.type, c.endpoint.state]),
      [['MODIFIED', 'Allocated']],
    );
    assert.deepEqual(
      diffEndpoints(
        [taken],
        [row(0, { state: 'Allocated', allocation: { ...allocation, metadata: { match: 'm' } } })],
      ),
      [],
    );
    assert.equal(
      diffEndpoints([taken], [row(0, { state: 'Allocated', allocation: { ...allocation, stale: true } })])
        .length,
      1,
    );
    assert.equal(diffEndpoints([taken], [row(0, { state: 'Draining' })])[0]?.type, 'MODIFIED');
    // Freed and given to the next match between two reads, same metadata: another allocation.
    assert.equal(
      diffEndpoints([taken], [row(0, { state: 'Allocated', allocation: { ...allocation, id: 'n' } })])[0]
        ?.type,
      'MODIFIED',
    );
  });
});

describe('rooms: the decisions, both sides (mutation testing)', () => {
  it('stale needs both restart counts: without either, an allocation is not stale', () => {
    assert.equal(allocationOf({ allocated: true, draining: false }, 5)?.stale, false);
    assert.equal(
      allocationOf({ allocated: true, draining: false, restartsAtAllocation: 0 }, undefined)?.stale,
      false,
    );
    assert.equal(
      allocationOf({ allocated: true, draining: false, restartsAtAllocation: 2 }, 2)?.stale,
      false,
    );
    assert.equal(allocationOf({ allocated: true, draining: false, restartsAtAllocation: 2 }, 3)?.stale, true);
  });

  it('allocation metadata that is not a JSON object of strings is not shown', () => {
    for (const text of ['5', '"match"', 'null', '[1]', 'true', '{bad'])
      assert.equal(roomMark({}, { 'expose-pods.io/allocation-metadata': text }).metadata, undefined, text);
    assert.deepEqual(roomMark({}, { 'expose-pods.io/allocation-metadata': '{"m":"1","n":2}' }).metadata, {
      m: '1',
    });
  });

  it('--meta takes a one-letter key', () => {
    assert.deepEqual(parseMetadataFlags(['a=1']), { a: '1' });
  });

  it('inUsePhrase: exactly five are all named, with nothing more', () => {
    assert.equal(
      inUsePhrase(['a', 'b', 'c', 'd', 'e']),
      'removes 5 room(s) in use (Allocated): a, b, c, d, e',
    );
  });

  it('drainChanges: pods without a mark; the last ordinal kept leaves Draining, the first removed is drained', () => {
    const c = drainChanges(
      [
        roomPod('web', 0),
        roomPod('web', 1, { mark: { allocated: false, draining: true } }),
        roomPod('web', 2, { mark: { allocated: false, draining: false } }),
        roomPod('web', 3),
      ],
      'web',
      2,
    );
    assert.deepEqual(
      c.drain.map((p) => p.name),
      ['web-3', 'web-2'],
    );
    assert.deepEqual(
      c.undrain.map((p) => p.name),
      ['web-1'],
    );
    assert.deepEqual(c.inUse, []);
  });
});

describe('drainChanges at the boundary', () => {
  it('the first ordinal removed stays Draining (it is on its way out); the last one kept leaves it', () => {
    const draining = (n: number) => roomPod('web', n, { mark: { allocated: false, draining: true } });
    const c = drainChanges([draining(0), draining(1), draining(2)], 'web', 2);
    assert.deepEqual(
      c.undrain.map((p) => p.name),
      ['web-1', 'web-0'],
    );
    assert.deepEqual(c.drain, [], 'web-2 is already draining');
  });
});

describe('allocatedMeanwhile: rooms allocated while uninstall asked', () => {
  it('a room in use that was confirmed is not new; one that was not, is', () => {
    assert.deepEqual(allocatedMeanwhile(['web-1'], ['web-1']), []);
    assert.deepEqual(allocatedMeanwhile(['web-1'], ['web-1', 'web-2']), ['web-2']);
    assert.deepEqual(allocatedMeanwhile([], ['web-0']), ['web-0']);
    assert.deepEqual(allocatedMeanwhile(['web-0'], []), []);
  });
});

describe('drainChanges with the live StatefulSet: rooms its controller removes, and replacements', () => {
  const free = (n: number, extra: Parameters<typeof roomPod>[2] = {}) =>
    roomPod('web', n, { mark: { allocated: false, draining: true }, ...extra });
  const inUse = (n: number) => roomPod('web', n, { mark: { allocated: true, draining: true } });
  it("rooms in use at or above spec.replicas are the controller's (removed anyway): not waited for; the last one below is", () => {
    // kubectl scale sts --replicas 3, then a change to 2: web-3 goes whatever we do, web-2 is ours to wait for.
    const c = drainChanges([free(0), free(1), inUse(2), inUse(3)], 'web', 2, { replicas: 3 });
    assert.deepEqual(c.inUse, ['web-2']);
    assert.deepEqual(drainChanges([free(0), free(1), inUse(2), inUse(3)], 'web', 2, { replicas: 4 }).inUse, [
      'web-3',
      'web-2',
    ]);
    // Without the live StatefulSet (uninstall's drain), every room in use counts.
    assert.deepEqual(drainChanges([free(0), inUse(2), inUse(3)], 'web', 2).inUse, ['web-3', 'web-2']);
  });
  it('an ordinal removed but still kept by the StatefulSet, with no live pod, awaits its replacement (to mark it)', () => {
    const nodes = new Set(['n1']);
    // web-2 evicted (Terminating on a Ready node), web-3 deleted (gone): both come back unmarked.
    const evicted = roomPod('web', 2, { terminating: true, nodeName: 'n1' });
    const c = drainChanges([free(0), free(1), evicted], 'web', 2, { replicas: 4, readyNodes: nodes });
    assert.deepEqual(c.replacing, ['web-2', 'web-3']);
    // Its replacement, live and unmarked, is marked; nothing is awaited any more.
    const back = drainChanges(
      [free(0), free(1), roomPod('web', 2, { mark: { allocated: false, draining: false } }), free(3)],
      'web',
      2,
      { replicas: 4, readyNodes: nodes },
    );
    assert.deepEqual([back.replacing, back.drain.map((p) => p.name)], [[], ['web-2']]);
  });
  it('no replacement is awaited at or above spec.replicas, for a pod stuck on a lost node, or under a lower room not Ready', () => {
    assert.deepEqual(drainChanges([free(0), free(1)], 'web', 2, { replicas: 2 }).replacing, []);
    const stuck = roomPod('web', 2, { terminating: true, nodeName: 'lost' });
    assert.deepEqual(
      drainChanges([free(0), free(1), stuck, free(3)], 'web', 2, { replicas: 4, readyNodes: new Set(['n1']) })
        .replacing,
      [],
    );
    // Nodes unknown (no RBAC): a Terminating pod's replacement is awaited.
    assert.deepEqual(drainChanges([free(0), free(1), stuck, free(3)], 'web', 2, { replicas: 4 }).replacing, [
      'web-2',
    ]);
    const notReady = roomPod('web', 1, { ready: false, mark: { allocated: false, draining: false } });
    assert.deepEqual(drainChanges([free(0), notReady, free(3)], 'web', 2, { replicas: 4 }).replacing, []);
  });
});

describe('a room ends its own match: allocationEnded and settledMark (allocation.endOnRestart)', () => {
  const mark: RoomMark = {
    allocated: true,
    draining: false,
    allocationId: 'match-7',
    allocatedAt: '2026-12-07T05:00:00.000Z',
    restartsAtAllocation: 2,
  };
  it('ended only with endOnRestart and more restarts than at the allocation', () => {
    const cases: [string, number | undefined, boolean, boolean][] = [
      ['restarts equal, endOnRestart', 2, true, false],
      ['restarts greater, endOnRestart', 3, true, true],
      ['restarts greater, endOnRestart false', 3, false, false],
      ['restarts unknown', undefined, true, false],
    ];
    for (const [name, restarts, endOnRestart, ended] of cases)
      assert.equal(allocationEnded(mark, restarts, endOnRestart), ended, name);
    // A hand-written mark (no restart count) or no allocation: never ended.
    assert.equal(allocationEnded({ allocated: true, draining: false }, 9, true), false);
    assert.equal(allocationEnded({ ...mark, allocated: false }, 9, true), false);
    assert.equal(allocationEnded(undefined, 9, true), false);
  });
  it('an ended allocation reads as none (Free), and is kept as the last allocation', () => {
    const settled = settledMark(mark, 3, true, '2026-12-07T05:10:00.000Z');
    assert.equal(settled.allocated, false);
    assert.equal(roomState(settled), 'Free');
    assert.equal(allocationOf(settled, 3), null);
    assert.deepEqual(settled.ended, {
      id: 'match-7',
      allocatedAt: '2026-12-07T05:00:00.000Z',
      endedAt: '2026-12-07T05:10:00.000Z',
    });
    // The same restart with endOnRestart false: today's stale allocation, still Allocated.
    const stale = settledMark(mark, 3, false, '2026-12-07T05:10:00.000Z');
    assert.equal(stale, mark);
    assert.equal(roomState(stale), 'Allocated');
    assert.equal(allocationOf(stale, 3)?.stale, true);
    // Restarts equal: the match runs on, whatever endOnRestart says.
    assert.equal(settledMark(mark, 2, true), mark);
  });
  it('endedAt: null when unknown; a last termination before the allocation ended nothing', () => {
    assert.equal(settledMark(mark, 3, true).ended?.endedAt, null);
    // The container exited, allocate wrote before the kubelet said so: the match runs on, not stale.
    const before = settledMark(mark, 3, true, '2026-12-07T04:59:59.000Z');
    assert.deepEqual([before.allocated, before.ended, before.restartsAtAllocation], [true, undefined, 3]);
    assert.equal(roomState(before), 'Allocated');
    assert.equal(allocationOf(before, 3)?.stale, false);
    // The kubelet's whole seconds: a restart in the allocation's second counts as after it.
    const late = { ...mark, allocatedAt: '2026-12-07T05:00:00.700Z' };
    assert.equal(settledMark(late, 3, true, '2026-12-07T05:00:00Z').ended?.endedAt, '2026-12-07T05:00:00Z');
    assert.equal(
      settledMark(mark, 3, true, '2026-12-07T05:00:00.000Z').ended?.endedAt,
      '2026-12-07T05:00:00.000Z',
    );
    const noId = settledMark({ ...mark, allocationId: undefined, allocatedAt: undefined }, 3, true, 'x');
    assert.deepEqual(noId.ended, { id: null, allocatedAt: null, endedAt: 'x' });
  });
  it('the row of an ended room: Free, allocatable, with lastAllocation; and not in use for a scale-down', () => {
    const settled = settledMark(mark, 3, true, null);
    const rows = resolveEndpointRows({
      namespace: 'game',
      workload: 'web',
      headless: 'web',
      replicas: 1,
      pods: [roomPod('web', 0, { mark: settled, restarts: 3 })],
      services: [podService('web', 0)],
      nodes: [{ name: 'n1', ready: true, addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] }],
      addressTypes: ['InternalIP'],
    });
    assert.equal(rows[0]?.state, 'Free');
    assert.deepEqual(rows[0].lastAllocation, {
      id: 'match-7',
      allocatedAt: mark.allocatedAt,
      endedAt: null,
    });
    assert.deepEqual(
      allocatable(rows).map((r) => r.pod),
      ['web-0'],
    );
    const c = drainChanges([roomPod('web', 0, { mark: settled })], 'web', 0);
    assert.deepEqual(c.inUse, []);
    const live = drainChanges([roomPod('web', 0, { mark })], 'web', 0);
    assert.deepEqual(live.inUse, ['web-0']);
  });
});

describe('cordon: a room out of rotation', () => {
  it('Cordoned when cordoned and not allocated; Allocated while its match runs; Draining wins (on its way out)', () => {
    assert.equal(roomState({ allocated: false, draining: false, cordoned: true }), 'Cordoned');
    assert.equal(roomState({ allocated: true, draining: false, cordoned: true }), 'Allocated');
    assert.equal(roomState({ allocated: false, draining: true, cordoned: true }), 'Draining');
    assert.equal(roomState({ allocated: false, draining: false, cordoned: false }), 'Free');
  });
  it('never allocatable; counted apart; the table cell of one in use says cordoned', () => {
    const rows = [
      row(0, { state: 'Cordoned', cordoned: true }),
      row(1),
      row(2, { state: 'Allocated', cordoned: true }),
    ];
    assert.deepEqual(
      allocatable(rows).map((r) => r.pod),
      ['web-1'],
    );
    const counts = countRooms(rows);
    assert.deepEqual([counts.free, counts.cordoned, counts.allocated], [1, 1, 1]);
    assert.equal(countsPhrase(counts), '3 rooms: 1 Free, 1 Allocated, 1 Cordoned');
  });
  it('cordonPatch writes or removes the cordon label only', () => {
    assert.deepEqual(cordonPatch(true), { labels: { 'expose-pods.io/cordoned': 'true' }, annotations: {} });
    assert.deepEqual(cordonPatch(false), { labels: { 'expose-pods.io/cordoned': null }, annotations: {} });
  });
  it('a scale keeps the cordon: its undrain removes the draining label only, and a cordoned Free room is not in use', () => {
    const cordonedDraining = roomPod('web', 0, {
      mark: { allocated: false, draining: true, cordoned: true },
    });
    const c = drainChanges(
      [cordonedDraining, roomPod('web', 1, { mark: { allocated: false, draining: false, cordoned: true } })],
      'web',
      1,
    );
    assert.deepEqual(
      c.undrain.map((p) => p.name),
      ['web-0'],
    );
    assert.deepEqual(drainPatch(false), { labels: { 'expose-pods.io/draining': null }, annotations: {} });
    assert.deepEqual(c.inUse, [], 'web-1 is cordoned, not allocated: removing it is fine');
    assert.deepEqual(
      c.drain.map((p) => p.name),
      ['web-1'],
    );
  });
});

describe('rooms: what the 2026-12-07 mutation run left undetected', () => {
  it('countsPhrase says how many unavailable rooms wait for the rollout, and nothing when none does', () => {
    const outdated = countRooms([row(0), row(1, { outdated: true }), row(2, { outdated: true })]);
    assert.deepEqual([outdated.unavailable, outdated.outdated], [2, 2]);
    assert.equal(
      countsPhrase(outdated),
      '3 rooms: 1 Free, 2 not ready to take a match (2 on an older revision, waiting for the rollout)',
    );
    const notReady = countRooms([row(0, { status: 'NotReady', ready: false })]);
    assert.equal(countsPhrase(notReady), '1 room: 1 not ready to take a match');
  });
  it('a replacement is awaited under OrderedReady whatever the rooms above it say: only a lower room not Ready holds it back', () => {
    const free = (n: number, ready = true) =>
      roomPod('web', n, { ready, mark: { allocated: false, draining: n >= 2 } });
    // web-2 gone, web-3 (above it) not Ready: the controller makes web-2 all the same.
    assert.deepEqual(drainChanges([free(0), free(1), free(3, false)], 'web', 2, { replicas: 4 }).replacing, [
      'web-2',
    ]);
    // web-1 (below it) not Ready: it does not, yet.
    assert.deepEqual(
      drainChanges([free(0), free(1, false), free(3)], 'web', 2, { replicas: 4 }).replacing,
      [],
    );
    // web-1 Ready again: it does.
    assert.deepEqual(drainChanges([free(0), free(1), free(3)], 'web', 2, { replicas: 4 }).replacing, [
      'web-2',
    ]);
  });
});
