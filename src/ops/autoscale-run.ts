/** `autoscale` in the foreground: the autoscaler until a signal, which lets the scale in flight finish first. */
import { deferSignalCleanups } from '../cleanup.js';
import { ExposePodsError } from '../errors.js';
import { createAutoscaler, type AutoscalerOptions } from './autoscale.js';
import { SIGNAL_EXIT } from './change-signals.js';

type StopSignal = keyof typeof SIGNAL_EXIT;

/**
 * Runs an autoscaler until SIGINT, SIGTERM or SIGHUP. The first signal ends the
 * loop once the scale in flight (if any) has finished: no change is left half
 * applied, and it resolves (exit 0). A second one interrupts that scale as a
 * second Ctrl-C interrupts `scale` (helm stopped): it rejects with exit 130, 143 or 129.
 */
export async function autoscaleInForeground(
  opts: Omit<AutoscalerOptions, 'signal' | 'interrupt'>,
  onStopping: (message: string) => void,
  exit: (code: number) => void = (code) => process.exit(code),
): Promise<void> {
  const stop = new AbortController();
  const interrupt = new AbortController();
  let started = false;
  const onSignal = (sig: StopSignal) => () => {
    // Before the loop runs nothing is in flight (at most our Lease, which lapses by itself): stop at once.
    if (!started) {
      onStopping(`${sig}: stopped before the autoscaler started`);
      exit(SIGNAL_EXIT[sig]);
      return;
    }
    if (stop.signal.aborted) {
      interrupt.abort(
        new ExposePodsError(
          `interrupted again (${sig}): the scale in flight was stopped`,
          SIGNAL_EXIT[sig],
          'helm marks the revision it was writing failed; the next command on the release upgrades from there.',
        ),
      );
      return;
    }
    onStopping(
      `${sig}: stopping once the scale in flight, if any, has finished (${sig} again interrupts it)`,
    );
    stop.abort();
  };
  const handlers = { SIGINT: onSignal('SIGINT'), SIGTERM: onSignal('SIGTERM'), SIGHUP: onSignal('SIGHUP') };
  for (const [sig, h] of Object.entries(handlers)) process.on(sig, h);
  // A helm running when the first signal comes must still find its credential file: removed at exit.
  const undefer = deferSignalCleanups();
  try {
    const autoscaler = await createAutoscaler({ ...opts, signal: stop.signal, interrupt: interrupt.signal });
    started = true;
    await autoscaler.done;
  } finally {
    undefer();
    for (const [sig, h] of Object.entries(handlers)) process.off(sig, h);
  }
}
