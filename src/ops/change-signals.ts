/** What a change does on SIGINT, SIGTERM and SIGHUP: helm is stopped, the session aborted, the exit code the shell expects. */
import { ExitCode, ExposePodsError } from '../errors.js';
import { stopRunningHelm } from '../helm/helm.js';
import { LOCK_SECONDS } from '../kube/lock.js';

/** Exit codes for the signals we stop on, as shells report them. */
export const SIGNAL_EXIT = {
  SIGINT: ExitCode.INTERRUPTED,
  SIGTERM: ExitCode.TERMINATED,
  SIGHUP: ExitCode.HUNG_UP,
} as const;

/**
 * SIGINT, SIGTERM and SIGHUP stop helm and abort the session with exit 130/143/129, until
 * disposed. helm runs in a process group of its own (helm/helm.ts), so a
 * terminal's Ctrl-C reaches only us: we stop helm deliberately, with SIGTERM,
 * and wait for it. A second signal does not wait: helm is killed and the
 * command exits at once (its lease then lapses by itself).
 */
export function stopOnSignals(
  release: string,
  namespace: string,
  io: {
    stop: (signal: NodeJS.Signals) => number;
    write: (text: string) => void;
    exit: (code: number) => void;
  } = {
    stop: stopRunningHelm,
    write: (text) => process.stderr.write(text),
    exit: (code) => process.exit(code),
  },
): { signal: AbortSignal; dispose: () => void } {
  const interrupt = new AbortController();
  const onSignal = (sig: keyof typeof SIGNAL_EXIT) => () => {
    if (interrupt.signal.aborted) {
      const killed = io.stop('SIGKILL');
      io.write(
        `error: interrupted again (${sig}): ${killed ? 'helm was killed' : 'stopping now'}\nThe release may be left pending; the next command on release ${release} rolls it back first (the lock lapses within ${LOCK_SECONDS}s).\n`,
      );
      io.exit(SIGNAL_EXIT[sig]);
      return;
    }
    io.stop('SIGTERM');
    interrupt.abort(
      new ExposePodsError(
        `interrupted (${sig}): helm was stopped`,
        SIGNAL_EXIT[sig],
        `helm marks the revision it was writing failed; the next command on release ${release} upgrades from there (a revision left pending is rolled back first). See: helm history ${release} -n ${namespace}`,
      ),
    );
  };
  // SIGHUP too: a closed terminal must stop our helm as a kill does (it runs in a process group of its own).
  const handlers = { SIGINT: onSignal('SIGINT'), SIGTERM: onSignal('SIGTERM'), SIGHUP: onSignal('SIGHUP') };
  process.on('SIGINT', handlers.SIGINT);
  process.on('SIGTERM', handlers.SIGTERM);
  process.on('SIGHUP', handlers.SIGHUP);
  return {
    signal: interrupt.signal,
    dispose: () => {
      process.off('SIGINT', handlers.SIGINT);
      process.off('SIGTERM', handlers.SIGTERM);
      process.off('SIGHUP', handlers.SIGHUP);
    },
  };
}

/**
 * stopOnSignals for a caller that handles signals itself: when `interrupt` aborts, helm is
 * stopped (SIGTERM) and the session aborted with the same reason.
 */
export function stopOnAbort(
  interrupt: AbortSignal,
  stop: (signal: NodeJS.Signals) => number = stopRunningHelm,
): { signal: AbortSignal; dispose: () => void } {
  const onAbort = () => {
    stop('SIGTERM');
  };
  if (interrupt.aborted) onAbort();
  else interrupt.addEventListener('abort', onAbort, { once: true });
  return {
    signal: interrupt,
    dispose: () => {
      interrupt.removeEventListener('abort', onAbort);
    },
  };
}
