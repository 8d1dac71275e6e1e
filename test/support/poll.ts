import { pollUntil } from '../../src/core/poll.js';

/**
 * Polls until fn returns a value (not undefined), for tests and benchmarks:
 * never a fixed sleep. A throw counts as not yet; the last one is quoted in
 * the timeout's message.
 */
export async function eventually<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  let last: Error | undefined;
  const value = await pollUntil(
    async () => {
      try {
        return await fn();
      } catch (e) {
        last = e as Error;
        return undefined;
      }
    },
    { timeoutMs, intervalMs },
  );
  if (value === undefined) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
  return value;
}
