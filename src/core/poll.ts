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
