import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { durationMs, notADuration, requireTimeout, toGoDuration } from '../../src/core/duration.js';
import { ExitCode } from '../../src/errors.js';
import { releaseNameProblem } from '../../src/core/release.js';
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

describe('toGoDuration', () => {
  const cases: [string, string | undefined][] = [
    ['5m', '5m'],
    ['1h30m', '1h30m'],
    ['90', '90s'],
    ['1.5h', '1.5h'],
    ['5 minutes', undefined],
    ['-5m', undefined],
    ['', undefined],
    ['30d', undefined],
  ];
  for (const [input, want] of cases) it(JSON.stringify(input), () => assert.equal(toGoDuration(input), want));
});

describe('releaseNameProblem', () => {
  it('accepts Helm release names', () => {
    for (const n of ['expose-pods', 'rooms', 'a', 'game.rooms-1'])
      assert.equal(releaseNameProblem(n), undefined);
  });
  it('explains what is wrong with the others', () => {
    assert.match(releaseNameProblem('Rooms')!, /lower-case letters/);
    assert.match(releaseNameProblem('-rooms')!, /starting and ending/);
    assert.match(releaseNameProblem('room_1')!, /invalid/);
    assert.match(releaseNameProblem('a'.repeat(54))!, /at most 53/);
  });
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

describe('durationMs', () => {
  const cases: [string, number | undefined][] = [
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['0', 0],
    ['45', 45_000],
    ['1h', 3_600_000],
    ['soon', undefined],
    ['-1s', undefined],
  ];
  for (const [input, want] of cases) it(JSON.stringify(input), () => assert.equal(durationMs(input), want));
});

describe('duration flags: parsed once, explained one way', () => {
  it('requireTimeout gives helm its Go form and the milliseconds; anything else is exit 2 with examples', () => {
    assert.deepEqual(requireTimeout('--timeout', '90'), { go: '90s', ms: 90_000 });
    assert.deepEqual(requireTimeout('--timeout', '1h30m'), { go: '1h30m', ms: 5_400_000 });
    assert.throws(() => requireTimeout('--timeout', 'soon'), {
      exitCode: ExitCode.USAGE,
      message: '--timeout soon is not a duration; use a value such as 90s, 5m or 1h30m',
    });
    assert.equal(
      notADuration('--warn-within', 'later', 'long').message,
      '--warn-within later is not a duration; use a value such as 30d, 2w or 720h',
    );
    assert.equal(
      notADuration('--not-ready', '1.5s', 'seconds').message,
      '--not-ready 1.5s is not a duration in whole seconds; use a value such as 10s or 2m',
    );
  });
});
