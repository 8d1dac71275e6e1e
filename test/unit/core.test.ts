import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseHelmVersion } from '../../src/helm/version.js';
import { colorEnabled } from '../../src/output/printer.js';

describe('parseHelmVersion', () => {
  const cases: [string, [number, number, number] | undefined][] = [
    ['v3.22.0+g1a2b3c4\n', [3, 22, 0]],
    ['v4.3.1', [4, 3, 1]],
    ['v3.22', [3, 22, 0]],
    ['v4.0.0-rc.1+gabc', [4, 0, 0]],
    ['version.BuildInfo{Version:"v2.17.0"}', undefined],
    ['', undefined],
    ['helm: command not found', undefined],
  ];
  for (const [input, want] of cases) {
    it(JSON.stringify(input), () => {
      const v = parseHelmVersion(input);
      assert.deepEqual(v && [v.major, v.minor, v.patch], want);
    });
  }
});

describe('colorEnabled', () => {
  const tty = { isTTY: true };
  it('colours a TTY only', () => {
    assert.equal(colorEnabled(tty, {}), true);
    assert.equal(colorEnabled({ isTTY: false }, {}), false);
    assert.equal(colorEnabled({}, {}), false);
  });
  it('honours NO_COLOR and TERM=dumb, and FORCE_COLOR wins', () => {
    assert.equal(colorEnabled(tty, { NO_COLOR: '' }), false);
    assert.equal(colorEnabled(tty, { TERM: 'dumb' }), false);
    assert.equal(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1' }), true);
    assert.equal(colorEnabled(tty, { FORCE_COLOR: '0', NO_COLOR: '1' }), false);
  });
});
