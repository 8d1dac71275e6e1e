import { UsageError } from '../errors.js';

const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

/**
 * Normalises a --timeout for helm, which takes Go durations ("5m", "1h30m",
 * "90s"). A bare number means seconds. Returns undefined when it is neither.
 */
export function toGoDuration(input: string): string | undefined {
  const s = input.trim();
  if (/^\d+$/.test(s)) return `${s}s`;
  return GO_DURATION.test(s) ? s : undefined;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Milliseconds of a duration as kubectl's --request-timeout takes it ("30s",
 * "1m30s", "500ms", a bare number of seconds); undefined when it is not one.
 */
export function durationMs(input: string): number | undefined {
  const s = input.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(s)) return undefined;
  let total = 0;
  for (const [, n, unit] of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g))
    total += Number(n) * (UNIT_MS[unit ?? ''] ?? 0);
  return total;
}

const LONG_UNIT_MS: Record<string, number> = { ...UNIT_MS, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * Milliseconds of a longer duration, with days and weeks: "30d", "2w",
 * "1d12h", "720h", "90m"; undefined when it is not one. A unit is required.
 */
export function longDurationMs(input: string): number | undefined {
  const s = input.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/.test(s)) return undefined;
  let total = 0;
  for (const [, n, unit] of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g))
    total += Number(n) * (LONG_UNIT_MS[unit ?? ''] ?? 0);
  return total;
}

/** Examples for each kind of duration a flag takes, so every flag explains itself the same way. */
const EXAMPLES = {
  timeout: '90s, 5m or 1h30m',
  request: '30s, 2m or 0 (no limit)',
  long: '30d, 2w or 720h',
  seconds: '10s or 2m',
  positive: '2s or 500ms',
} as const;

/** The kinds of duration a flag takes: each has its own syntax and its own examples. */
export type DurationKind = keyof typeof EXAMPLES;

/** The one explanation of a flag whose value is not a duration (exit 2). */
export function notADuration(flag: string, value: string, kind: DurationKind = 'timeout'): UsageError {
  const what =
    kind === 'seconds'
      ? 'a duration in whole seconds'
      : kind === 'positive'
        ? 'a positive duration'
        : 'a duration';
  return new UsageError(`${flag} ${value} is not ${what}; use a value such as ${EXAMPLES[kind]}`);
}

/** A --timeout, parsed once: its Go form for helm and its milliseconds; notADuration otherwise. */
export function requireTimeout(flag: string, value: string): { go: string; ms: number } {
  const go = toGoDuration(value);
  if (go === undefined) throw notADuration(flag, value);
  // Go units helm takes but durationMs does not (ns, us, µs) are refused too.
  const ms = durationMs(go);
  if (ms === undefined) throw notADuration(flag, value);
  return { go, ms };
}

/** A duration flag's value, parsed: the text to pass on (a Go duration for a timeout) and its milliseconds. */
export interface Duration {
  text: string;
  ms: number;
}

/**
 * Parses a duration flag of the given kind once, or explains it (notADuration):
 * timeout (Go durations, a bare number is seconds), long (with d and w),
 * positive (more than zero); any other kind as kubectl's --request-timeout.
 */
export function requireDuration(flag: string, value: string, kind: DurationKind): Duration {
  if (kind === 'timeout') {
    const { go, ms } = requireTimeout(flag, value);
    return { text: go, ms };
  }
  const ms = kind === 'long' ? longDurationMs(value) : durationMs(value);
  if (ms === undefined || (kind === 'positive' && ms <= 0)) throw notADuration(flag, value, kind);
  return { text: value.trim(), ms };
}
