/**
 * What must be undone however the command ends: a normal exit, an error, or
 * SIGINT, SIGTERM or SIGHUP. Node runs no 'exit' handler when a signal ends
 * the process, so each signal is listened to while anything is registered.
 *
 * - `signal` clean-ups (a file holding a live credential) run at once on any
 *   of the signals, and at exit.
 * - `leaving` clean-ups (stopping the helm and sign-in processes we started)
 *   run at exit, and on a signal no other handler takes: the signal is then
 *   raised again without us, so the command ends as it would have. A signal
 *   another handler takes (a change stops helm itself and exits 130, 143 or
 *   129) is left to it.
 */

export const CLEANUP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const cleanups = { signal: new Set<() => void>(), leaving: new Set<() => void>() };

function runAll(set: Set<() => void>): void {
  for (const fn of set) {
    try {
      fn();
    } catch {
      // One failed clean-up must not keep the others from running.
    }
  }
}

function onExit(): void {
  runAll(cleanups.signal);
  runAll(cleanups.leaving);
}

/** How many long-running callers hold the `signal` clean-ups until exit (deferSignalCleanups). */
let deferred = 0;

function onSignal(signal: NodeJS.Signals): void {
  if (!deferred) runAll(cleanups.signal);
  if (process.listenerCount(signal) > 1) return;
  runAll(cleanups.leaving);
  unlisten();
  process.kill(process.pid, signal);
}

let listening = false;

function listen(): void {
  if (listening) return;
  listening = true;
  process.on('exit', onExit);
  for (const s of CLEANUP_SIGNALS) process.on(s, onSignal);
}

function unlisten(): void {
  listening = false;
  process.off('exit', onExit);
  for (const s of CLEANUP_SIGNALS) process.off(s, onSignal);
}

/** Registers a clean-up (see above); the function returned unregisters it, and stops listening when none is left. */
export function atExit(fn: () => void, when: 'signal' | 'leaving'): () => void {
  cleanups[when].add(fn);
  listen();
  return () => {
    cleanups[when].delete(fn);
    if (!cleanups.signal.size && !cleanups.leaving.size) unlisten();
  };
}

/**
 * Holds the `signal` clean-ups until exit while the function returned is not
 * called: for a command whose first signal lets the work in flight finish
 * (autoscale), so a helm running then still finds its credential file. They
 * run at exit, however it comes.
 */
export function deferSignalCleanups(): () => void {
  deferred++;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    deferred--;
  };
}
