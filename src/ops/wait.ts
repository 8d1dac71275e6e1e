/** Waiting on a release: live progress while helm waits, and what a timeout leaves out (the pods that are not ready, and why). */
import { progressInterval } from '../core/poll.js';
import { installProgress, type InstallProgress } from '../core/progress.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { pollReads, refreshReads } from '../kube/api.js';
import type { ResolvedKube } from '../kube/config.js';
import { readEndpointObjects } from '../kube/reader.js';
import { readProgressObjects } from '../kube/reader.js';

/** A release on the command's pinned cluster: every read of a wait goes through its kube. */
export interface ReleaseRef {
  release: string;
  /** The pinned cluster; its namespace is the release's. */
  kube: ResolvedKube;
}

/** On a timeout, the pods that are not ready and why: the part of the answer helm leaves out. */
export async function explainTimeout(e: ExposePodsError, req: ReleaseRef): Promise<ExposePodsError> {
  const { kube } = req;
  const { namespace } = kube;
  try {
    refreshReads(kube);
    const objects = await readEndpointObjects(kube, namespace, req.release);
    const stuck = objects.pods.filter((p) => !p.ready);
    const lines = stuck.map(
      (p) =>
        `  ${p.name}: ${p.phase}${p.reason ? ` (${p.reason})` : ''}${p.nodeName ? ` on ${p.nodeName}` : ''}`,
    );
    const missing = objects.replicas - objects.pods.length;
    if (missing > 0)
      lines.push(`  ${missing} pod(s) not created yet (a StatefulSet creates them one by one)`);
    if (!lines.length) return e;
    return new ExposePodsError(
      `${e.message}\nnot ready:\n${lines.join('\n')}`,
      ExitCode.TIMEOUT,
      'Raise --timeout, or fix the cause above.',
    );
  } catch {
    // The explanation is a bonus; the timeout itself is the error to report.
    return e;
  }
}

/**
 * Reports progress every second (longer when a poll is slow: progressInterval) until helm settles, then once more when it
 * succeeded, so the last line shows the state helm waited for even when helm
 * was quicker than the first poll. A failed poll is skipped, never fatal.
 */
export async function pollProgress(
  req: ReleaseRef,
  onProgress: (p: InstallProgress) => void,
  helmRun: Promise<unknown>,
  signal?: AbortSignal,
): Promise<void> {
  // An object, so the flags set in the callbacks are seen by the loop (and by the type checker).
  const state = { settled: false, succeeded: false };
  const finished = helmRun.then(
    () => {
      state.settled = true;
      state.succeeded = true;
    },
    () => {
      state.settled = true;
    },
  );
  const { kube } = req;
  const { namespace } = kube;
  const reads = pollReads(kube);
  const poll = async () => {
    try {
      reads.next();
      const o = await readProgressObjects(kube, namespace, req.release);
      if (o) onProgress(installProgress(o.workload, o.replicas, o.pods, o.redisPods));
    } catch {
      // The API may be busy or the objects not there yet; the next poll will tell.
    }
  };
  while (!state.settled && !signal?.aborted) {
    const t0 = Date.now();
    await poll();
    // The interval ends early when helm does, and its timer never holds the process open.
    let timer: NodeJS.Timeout | undefined;
    const interval = progressInterval(Date.now() - t0);
    await Promise.race([finished, new Promise((r) => (timer = setTimeout(r, interval)))]);
    clearTimeout(timer);
  }
  if (state.succeeded) await poll();
}
