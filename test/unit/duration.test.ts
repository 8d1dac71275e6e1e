import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  durationMs,
  longDurationMs,
  notADuration,
  requireDuration,
  requireTimeout,
  toGoDuration,
} from '../../src/core/duration.js';
import { ExitCode } from '../../src/errors.js';

describe('durations, as each flag takes them', () => {
  it('toGoDuration: a bare number is seconds; Go units pass; anything else is undefined', () => {
    const table: [string, string | undefined][] = [
      ['90', '90s'],
      [' 90 ', '90s'],
      ['5m', '5m'],
      [' 1h30m ', '1h30m'],
      ['1.5h', '1.5h'],
      ['250ms', '250ms'],
      ['10us', '10us'],
      ['10µs', '10µs'],
      ['10ns', '10ns'],
      ['5', '5s'],
      ['5x', undefined],
      ['m', undefined],
      ['-5s', undefined],
      ['5m ten', undefined],
      ['1d', undefined],
      ['', undefined],
      ['x5s', undefined],
      ['5 minutes', undefined],
      ['-5m', undefined],
      ['30d', undefined],
      ['x5', undefined],
      ['1.25h', '1.25h'],
    ];
    for (const [input, want] of table) assert.equal(toGoDuration(input), want, JSON.stringify(input));
  });

  it("durationMs: kubectl's --request-timeout, units ms, s, m and h, summed", () => {
    const table: [string, number | undefined][] = [
      ['30', 30_000],
      [' 30 ', 30_000],
      ['0', 0],
      ['500ms', 500],
      ['30s', 30_000],
      ['1m30s', 90_000],
      ['2h', 7_200_000],
      ['1.5s', 1500],
      [' 2m ', 120_000],
      ['1d', undefined],
      ['10us', undefined],
      ['s', undefined],
      ['1x', undefined],
      ['a1s', undefined],
      ['1s a', undefined],
      ['45', 45_000],
      ['1h', 3_600_000],
      ['soon', undefined],
      ['-1s', undefined],
      ['a30', undefined],
      ['1.25s', 1250],
      ['1.25m30s', 105_000],
    ];
    for (const [input, want] of table) assert.equal(durationMs(input), want, JSON.stringify(input));
  });

  it('longDurationMs: days and weeks too, a unit required', () => {
    const table: [string, number | undefined][] = [
      ['30d', 30 * 86_400_000],
      ['2w', 14 * 86_400_000],
      ['1d12h', 36 * 3_600_000],
      [' 720h ', 720 * 3_600_000],
      ['90m', 90 * 60_000],
      ['500ms', 500],
      ['10s', 10_000],
      ['30', undefined],
      ['1y', undefined],
      ['d', undefined],
      ['x1d', undefined],
      ['1d x', undefined],
      ['1.5d', 36 * 3_600_000],
      ['1.25d', 30 * 3_600_000],
      ['0.25w', 42 * 3_600_000],
    ];
    for (const [input, want] of table) assert.equal(longDurationMs(input), want, JSON.stringify(input));
  });

  it('notADuration: exit 2, naming the flag, the value, what it must be and examples of its kind', () => {
    const e = notADuration('--timeout', 'soon');
    assert.equal(e.exitCode, ExitCode.USAGE);
    assert.equal(e.message, '--timeout soon is not a duration; use a value such as 90s, 5m or 1h30m');
    assert.equal(
      notADuration('--interval', 'x', 'seconds').message,
      '--interval x is not a duration in whole seconds; use a value such as 10s or 2m',
    );
    assert.equal(
      notADuration('--every', '0s', 'positive').message,
      '--every 0s is not a positive duration; use a value such as 2s or 500ms',
    );
    assert.equal(
      notADuration('--warn', 'x', 'long').message,
      '--warn x is not a duration; use a value such as 30d, 2w or 720h',
    );
    assert.equal(
      notADuration('--request-timeout', 'x', 'request').message,
      '--request-timeout x is not a duration; use a value such as 30s, 2m or 0 (no limit)',
    );
  });

  it('requireTimeout: the Go form for helm and its milliseconds; a Go unit helm takes but we cannot time is refused', () => {
    assert.deepEqual(requireTimeout('--timeout', '90'), { go: '90s', ms: 90_000 });
    assert.deepEqual(requireTimeout('--timeout', '1h30m'), { go: '1h30m', ms: 5_400_000 });
    assert.throws(() => requireTimeout('--timeout', 'soon'), /--timeout soon is not a duration/);
    assert.throws(() => requireTimeout('--timeout', '10us'), /--timeout 10us is not a duration/);
  });

  it('requireDuration: each kind its own syntax; the text is passed on trimmed', () => {
    assert.deepEqual(requireDuration('--timeout', ' 90 ', 'timeout'), { text: '90s', ms: 90_000 });
    assert.deepEqual(requireDuration('--warn', ' 30d ', 'long'), { text: '30d', ms: 30 * 86_400_000 });
    assert.deepEqual(requireDuration('--request-timeout', '0', 'request'), { text: '0', ms: 0 });
    assert.deepEqual(requireDuration('--every', '500ms', 'positive'), { text: '500ms', ms: 500 });
    assert.deepEqual(requireDuration('--interval', '10s', 'seconds'), { text: '10s', ms: 10_000 });
    assert.throws(
      () => requireDuration('--every', '0s', 'positive'),
      /--every 0s is not a positive duration/,
    );
    assert.throws(() => requireDuration('--every', '0', 'positive'), /is not a positive duration/);
    assert.throws(
      () => requireDuration('--warn', '30', 'long'),
      /--warn 30 is not a duration; use a value such as 30d/,
    );
    assert.throws(
      () => requireDuration('--request-timeout', '1d', 'request'),
      /is not a duration; use a value such as 30s/,
    );
    assert.throws(() => requireDuration('--timeout', '1d', 'timeout'), /--timeout 1d is not a duration/);
  });
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
