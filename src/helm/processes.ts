import type { ChildProcess } from 'node:child_process';

/** helm processes running now, so a signal handler can stop them before we exit. */
export const running = new Set<ChildProcess>();

/**
 * Sends `signal` to every helm this process started and that is still
 * running, and to anything it started (its process group).
 */
export function stopRunningHelm(signal: NodeJS.Signals = 'SIGTERM'): number {
  for (const child of running) signalHelm(child, signal);
  return running.size;
}

/** A signal to helm's process group (helm and what it started); to helm alone where there is none. */
export function signalHelm(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid === undefined || process.platform === 'win32') throw new Error('no process group');
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}
