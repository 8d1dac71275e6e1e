import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import type { Endpoint } from '../../src/core/endpoints.js';
import { acquireReleaseLock } from '../../src/kube/lock.js';
import { render } from '../../src/output/format.js';
import { Printer } from '../../src/output/printer.js';
import { Progress } from '../../src/output/progress.js';
import { roomPrinters } from '../../src/output/rooms.js';
import { terminalText } from '../../src/output/terminal.js';
import { FAKE_SERVER, fakeKube } from '../support/kube.js';

/** Anything a terminal would act on: C0 but tab and newline, DEL, C1. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** What a stream was written, colour off. */
function capture() {
  const stream = Object.assign(new PassThrough(), { isTTY: false });
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

describe('terminalText: cluster text made safe for a terminal', () => {
  const ESC = '\u001b';
  const table: [string, string, string, string?][] = [
    ['plain text stays', 'match-42 region=eu', 'match-42 region=eu'],
    ['a colour (CSI)', `${ESC}[31mred${ESC}[0m`, 'red'],
    ['cursor moves and a screen clear', `a${ESC}[2J${ESC}[H${ESC}[1;1Hb`, 'ab'],
    ['a window title (OSC, BEL)', `${ESC}]0;pwned\u0007x`, 'x'],
    ['a hyperlink (OSC, ST)', `${ESC}]8;;http://evil${ESC}\\link${ESC}]8;;${ESC}\\`, 'link'],
    ['a DCS string', `${ESC}P1$r${ESC}\\ok`, 'ok'],
    ['two-character escapes (reset, charset)', `${ESC}c${ESC}(Bok`, 'ok'],
    ['C1 controls and their CSI', `\u009b31mred\u0085\u009dtitle\u0007`, 'red'],
    ['a carriage return that would overwrite the line', 'rooms ok\rrooms FAILED', 'rooms okrooms FAILED'],
    ['backspace, bell, DEL, NUL', 'a\bb\u0007c\u007fd\u0000e', 'abcde'],
    ['tab and newline stay in text', 'a\tb\nc', 'a\tb\nc', 'a b c'],
    ['a lone escape at the end', `done${ESC}`, 'done'],
    ['unicode text stays', 'Zürich ✔ 東京', 'Zürich ✔ 東京'],
  ];
  for (const [name, input, text, oneLine = text] of table)
    it(name, () => {
      assert.equal(terminalText(input), text);
      assert.equal(terminalText(input, { oneLine: true }), oneLine);
    });
});

describe('cluster text on a terminal: the lock holder and operation, allocation metadata, progress', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('a lock held by a lease whose holder and operation carry escapes: the warning and the error print them stripped', async () => {
    const lease = (rv: string) => ({
      metadata: {
        name: 'rooms-expose-pods-lock',
        resourceVersion: rv,
        annotations: { 'expose-pods.io/operation': 'scale \u001b]0;owned\u0007--replicas 9\u001b[2K\r' },
      },
      spec: { holderIdentity: 'elsewhere\u001b[8m/42', leaseDurationSeconds: 1 },
    });
    nock(FAKE_SERVER)
      .post('/apis/coordination.k8s.io/v1/namespaces/game/leases')
      .reply(409, {})
      .get('/apis/coordination.k8s.io/v1/namespaces/game/leases/rooms-expose-pods-lock')
      .reply(200, lease('1'))
      // Renewed meanwhile: busy.
      .get('/apis/coordination.k8s.io/v1/namespaces/game/leases/rooms-expose-pods-lock')
      .reply(200, lease('2'));
    const out = capture();
    const printer = new Printer(out.stream);
    await assert.rejects(
      acquireReleaseLock(fakeKube(), 'game', 'rooms', 'scale', (m) => printer.warn(m)),
      (e: Error & { hint?: string }) => {
        // As base-command prints an error.
        printer.error(e.message, e.hint);
        return true;
      },
    );
    const text = out.text();
    assert.doesNotMatch(text, CONTROL);
    assert.match(text, /^warning: the lock on rooms is held by elsewhere\/42; waiting up to 1s/m);
    assert.match(
      text,
      /^error: another operation is in progress on release rooms: scale --replicas 9 by elsewhere\/42 since unknown$/m,
    );
  });

  it('allocation metadata in -o wide is stripped and kept on one row; -o json keeps the exact values', () => {
    const meta = { match: 'm-1\u001b[2J\u001b[H\u009b31m', note: 'two\nlines\ttab\u007f' };
    const room: Endpoint = {
      ordinal: 0,
      pod: 'rooms-0',
      ready: true,
      status: 'Ready',
      node: 'n1',
      podIP: '10.0.0.1',
      address: '192.0.2.1',
      addressType: 'ExternalIP',
      port: 30000,
      protocol: 'UDP',
      service: 'rooms-0',
      serviceType: 'NodePort',
      dns: 'rooms-0.rooms.game.svc',
      state: 'Allocated',
      draining: false,
      cordoned: false,
      allocation: { id: 'm-1', allocatedAt: '2026-12-07T00:00:00Z', metadata: meta, stale: false },
      lastAllocation: null,
      revision: 'rooms-abc',
      outdated: false,
    };
    const wide = render(room, 'wide', roomPrinters({ headers: true }));
    assert.doesNotMatch(wide, CONTROL);
    assert.equal(wide.trimEnd().split('\n').length, 2, 'the header and one row');
    assert.match(wide, /rooms-abc +m-1 2026-12-07T00:00:00Z match=m-1 note=two lines tab$/m);
    const json = JSON.parse(render(room, 'json', roomPrinters({ headers: true }))) as Endpoint;
    assert.deepEqual(json.allocation?.metadata, meta);
  });

  it('a progress line quoting the cluster (a pod reason) is one clean line', () => {
    const out = capture();
    const progress = new Progress(out.stream, false);
    progress.update('pods ready 1/2: rooms-1 \u001b[31mImagePullBackOff\u001b[0m\rfake\nline');
    progress.stop();
    assert.equal(out.text(), '… pods ready 1/2: rooms-1 ImagePullBackOfffake line\n');
  });
});
