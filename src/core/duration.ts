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
