import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  formatSeconds,
  NOT_READY,
  toleratedSeconds,
  tolerationsReport,
  UNREACHABLE,
} from '../../src/core/tolerations.js';
import type { TolerationView } from '../../src/core/model.js';
import { parseTolerationSeconds } from '../../src/ops/tolerations.js';

const tol = (
  key: string | undefined,
  seconds?: number,
  extra: Partial<TolerationView> = {},
): TolerationView => ({
  key,
  operator: 'Exists',
  effect: 'NoExecute',
  tolerationSeconds: seconds,
  ...extra,
});
// What the DefaultTolerationSeconds admission plugin adds to a pod that sets nothing.
const ADMITTED = [tol(NOT_READY, 300), tol(UNREACHABLE, 300)];

describe('toleratedSeconds', () => {
  const cases: [string, TolerationView[] | undefined, number | null | undefined][] = [
    ['none at all: not tolerated', undefined, undefined],
    ['the key with seconds', [tol(NOT_READY, 10)], 10],
    ['another key does not count', [tol(UNREACHABLE, 10)], undefined],
    ['no tolerationSeconds: forever', [tol(NOT_READY)], null],
    ['an empty key with Exists tolerates every taint', [tol(undefined, 30)], 30],
    ['a NoSchedule toleration does not count', [tol(NOT_READY, 5, { effect: 'NoSchedule' })], undefined],
    ['no effect means every effect', [tol(NOT_READY, 7, { effect: undefined })], 7],
    ['Equal needs the key', [tol(NOT_READY, 8, { operator: 'Equal', value: '' } as TolerationView)], 8],
    ['the longest wins', [tol(NOT_READY, 10), tol(NOT_READY, 60)], 60],
  ];
  for (const [what, tols, want] of cases) {
    it(what, () => {
      assert.equal(toleratedSeconds(tols, NOT_READY), want);
    });
  }
});

describe('tolerationsReport', () => {
  it('chart values: each pod, the source, the failover estimate (grace + seconds)', () => {
    const r = tolerationsReport({
      workload: 'rooms',
      template: [tol(NOT_READY, 10), tol(UNREACHABLE, 20)],
      updateRevision: 'rooms-abc',
      pods: [
        {
          name: 'rooms-1',
          nodeName: 'n2',
          tolerations: [tol(NOT_READY, 10), tol(UNREACHABLE, 20)],
          revision: 'rooms-abc',
        },
        { name: 'rooms-0', nodeName: 'n1', tolerations: ADMITTED, revision: 'rooms-old' },
      ],
      graceSeconds: 50,
    });
    assert.deepEqual(
      r.pods.map((p) => [p.pod, p.notReadySeconds, p.unreachableSeconds, p.source, p.currentTemplate]),
      [
        ['rooms-0', 300, 300, 'chart', false],
        ['rooms-1', 10, 20, 'chart', true],
      ],
    );
    assert.deepEqual(r.podsOnOlderTemplate, ['rooms-0']);
    assert.deepEqual(
      r.failover.map((f) => [f.kind, f.tolerationSeconds, f.source, f.evictionAfterSeconds]),
      [
        ['not-ready', 10, 'chart', 60],
        ['unreachable', 20, 'chart', 70],
      ],
    );
    assert.equal(r.graceSecondsAssumed, 50);
  });

  it('nothing in the chart: the admission default of 300 s, and over five minutes to eviction', () => {
    const r = tolerationsReport({
      workload: 'rooms',
      template: undefined,
      pods: [{ name: 'rooms-0', tolerations: ADMITTED }],
      graceSeconds: 40,
    });
    assert.equal(r.pods[0]?.source, 'admission default');
    assert.deepEqual(
      r.failover.map((f) => [f.source, f.evictionAfterSeconds]),
      [
        ['admission default', 340],
        ['admission default', 340],
      ],
    );
  });

  it('a toleration without seconds: never evicted', () => {
    const r = tolerationsReport({ workload: 'w', template: [tol(NOT_READY)], pods: [], graceSeconds: 50 });
    assert.equal(r.failover[0]?.evictionAfterSeconds, null);
    assert.equal(formatSeconds(null), 'forever');
    assert.equal(formatSeconds(300), '5m');
    assert.equal(formatSeconds(10), '10s');
  });
});

describe('parseTolerationSeconds (--not-ready, --unreachable)', () => {
  it('whole seconds from 0 to 1h; anything else is a sentence', () => {
    assert.equal(parseTolerationSeconds('--not-ready', '10s'), 10);
    assert.equal(parseTolerationSeconds('--not-ready', '2m'), 120);
    assert.equal(parseTolerationSeconds('--not-ready', '0'), 0);
    assert.equal(parseTolerationSeconds('--not-ready', '1h'), 3600);
    assert.match(String(parseTolerationSeconds('--not-ready', '61m')), /is longer than 60m/);
    assert.match(
      String(parseTolerationSeconds('--unreachable', '1500ms')),
      /^--unreachable 1500ms is not a duration in whole seconds/,
    );
    assert.match(String(parseTolerationSeconds('--unreachable', '-5s')), /is not a duration/);
  });
});

describe('tolerations: both sides (mutation testing)', () => {
  it("the taint keys are the node lifecycle controller's", () => {
    assert.equal(NOT_READY, 'node.kubernetes.io/not-ready');
    assert.equal(UNREACHABLE, 'node.kubernetes.io/unreachable');
  });

  it('Exists on another key does not count; Equal on another key does not either; the longest is kept in any order', () => {
    assert.equal(toleratedSeconds([tol('other', 10)], NOT_READY), undefined);
    assert.equal(toleratedSeconds([tol('other', 8, { operator: 'Equal' })], NOT_READY), undefined);
    assert.equal(toleratedSeconds([tol(NOT_READY, 60), tol(NOT_READY, 10)], NOT_READY), 60);
    assert.equal(toleratedSeconds([tol(NOT_READY, 0), tol(NOT_READY, 5)], NOT_READY), 5, 'after 0 seconds');
    assert.equal(toleratedSeconds([tol(NOT_READY, 10), tol(NOT_READY)], NOT_READY), null, 'forever wins');
  });

  it('one key set by the chart is enough for "chart"; a pod with no toleration reads 0 s; no node is null; without revisions every pod is current', () => {
    const r = tolerationsReport({
      workload: 'rooms',
      template: [tol(UNREACHABLE, 20)],
      pods: [{ name: 'rooms-0' }, { name: 'rooms-1', revision: 'x' }],
      graceSeconds: 50,
    });
    assert.deepEqual(
      r.pods.map((p) => [
        p.pod,
        p.node,
        p.notReadySeconds,
        p.unreachableSeconds,
        p.source,
        p.currentTemplate,
      ]),
      [
        ['rooms-0', null, 0, 0, 'chart', true],
        ['rooms-1', null, 0, 0, 'chart', true],
      ],
    );
    assert.deepEqual(
      r.failover.map((f) => [f.kind, f.tolerationSeconds, f.source]),
      [
        ['not-ready', 300, 'admission default'],
        ['unreachable', 20, 'chart'],
      ],
    );
    const notReadyOnly = tolerationsReport({
      workload: 'rooms',
      template: [tol(NOT_READY, 5)],
      pods: [{ name: 'rooms-0' }],
      graceSeconds: 1,
    });
    assert.equal(notReadyOnly.pods[0]?.source, 'chart');
    const pinned = tolerationsReport({
      workload: 'rooms',
      template: undefined,
      updateRevision: 'new',
      pods: [
        { name: 'rooms-0', tolerations: [tol(NOT_READY)] },
        { name: 'rooms-1', revision: 'new' },
      ],
      graceSeconds: 1,
    });
    assert.deepEqual(
      pinned.pods.map((p) => [p.notReadySeconds, p.currentTemplate]),
      [
        [null, true],
        [0, true],
      ],
    );
  });

  it('a pod not named after the StatefulSet is listed first, with ordinal -1', () => {
    const r = tolerationsReport({
      workload: 'rooms',
      template: undefined,
      pods: [{ name: 'rooms-1' }, { name: 'rooms-0' }, { name: 'stray' }],
      graceSeconds: 50,
    });
    assert.deepEqual(
      r.pods.map((p) => [p.ordinal, p.pod]),
      [
        [-1, 'stray'],
        [0, 'rooms-0'],
        [1, 'rooms-1'],
      ],
    );
  });

  it('formatSeconds: whole minutes from 60 s, seconds below and between', () => {
    assert.equal(formatSeconds(60), '1m');
    assert.equal(formatSeconds(120), '2m');
    assert.equal(formatSeconds(59), '59s');
    assert.equal(formatSeconds(90), '90s');
    assert.equal(formatSeconds(0), '0s');
    assert.equal(formatSeconds(null), 'forever');
  });
});
