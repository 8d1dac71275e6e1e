import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { stripVTControlCharacters } from 'node:util';

import type { PodView } from '../../src/core/model.js';
import { installProgress, progressLine } from '../../src/core/progress.js';
import { Progress } from '../../src/output/progress.js';
import { roomPod } from '../support/fixtures.js';

const pod = (n: number, ready: boolean, extra: Partial<PodView> = {}): PodView =>
  roomPod('web', n, {
    phase: ready ? 'Running' : 'Pending',
    ready,
    nodeName: undefined,
    podIP: undefined,
    ...extra,
  });

describe('installProgress and progressLine', () => {
  const cases: { name: string; pods: PodView[]; redis?: PodView[]; line: string }[] = [
    { name: 'nothing created yet', pods: [], line: 'pods ready 0/3 · web-0 not created yet' },
    {
      name: 'the StatefulSet works on the lowest ordinal, with its reason',
      pods: [pod(0, true), pod(1, false, { reason: 'ContainerCreating' })],
      redis: [pod(9, false)],
      line: 'pods ready 1/3 · web-1 ContainerCreating · redis starting',
    },
    {
      name: 'all ready',
      pods: [0, 1, 2].map((n) => pod(n, true)),
      redis: [pod(9, true)],
      line: 'pods ready 3/3 · redis ready',
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(progressLine(installProgress('web', 3, c.pods, c.redis)), c.line));
  }
});

describe('Progress', () => {
  function capture(tty: boolean) {
    const out = new PassThrough();
    let text = '';
    out.on('data', (b: Buffer) => (text += b.toString()));
    return { p: new Progress(out, tty), text: () => text };
  }

  it('without a TTY: one plain line per change, repeats dropped', () => {
    const c = capture(false);
    c.p.update('pods ready 0/2');
    c.p.update('pods ready 0/2');
    c.p.update('pods ready 2/2');
    c.p.stop();
    assert.equal(c.text(), '… pods ready 0/2\n… pods ready 2/2\n');
  });

  it('on a TTY: the line is rewritten in place and cleared at the end', () => {
    const c = capture(true);
    c.p.update('pods ready 1/2');
    c.p.stop();
    const visible = stripVTControlCharacters(c.text());
    assert.ok(!visible.includes('\n'), 'a spinner never scrolls');
    assert.match(visible, /^\r\S pods ready 1\/2\r$/);
  });
});
