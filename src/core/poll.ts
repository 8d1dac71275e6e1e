import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions {
  /** How long to keep asking; the check runs at least once. */
  timeoutMs: number;
  /** The pause between two checks. */
  intervalMs: number;
  /** Stops the wait between checks (it throws the abort reason). */
  signal?: AbortSignal;
}

/**
 * Every wait on the cluster: runs `check` until it returns something other
 * than undefined and returns that, or returns undefined once `timeoutMs` has
 * passed, so the caller says what did not happen in its own words.
 */
export async function pollUntil<T>(
  check: () => T | undefined | Promise<T | undefined>,
  { timeoutMs, intervalMs, signal }: PollOptions,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) return undefined;
    // An abort ends the pause at once, and throws its reason as the check above would.
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())), undefined, { signal }).catch(
      (e: unknown) => {
        signal?.throwIfAborted();
        throw e;
      },
    );
  }
}

/**
 * How long to wait before the next progress poll, after one that took
 * `lastPollMs`: a second, or five times as long as the poll took, so that
 * watching a fleet (thousands of pods a list) takes at most a sixth of the
 * time and leaves the machine to the work it watches.
 */
export function progressInterval(lastPollMs: number, minMs = 1000): number {
  return Math.max(minMs, Math.round(lastPollMs * 5));
}
