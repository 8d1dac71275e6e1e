/** Waiting on a release: live progress while helm waits, and what a timeout leaves out (the pods that are not ready, and why). */
import { setTimeout as sleep } from 'node:timers/promises';

import { progressInterval } from '../core/poll.js';
import { installProgress, type InstallProgress } from '../core/progress.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { refreshReads } from '../kube/api.js';
import type { ResolvedKube } from '../kube/config.js';
import { readEndpointObjects } from '../kube/reader.js';
import { readProgressObjects } from '../kube/reader.js';
import { ProgressReflectors, type WatchClient } from '../kube/reflector.js';
import type { ProgressObjects } from '../kube/views.js';

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
 * Shows progress while helm waits: the release's pods are listed once (from
 * the API server's watch cache) and then followed by watches, at most a line a second, so a fleet's rollout costs its
 * changes and not a list of every pod each second. When helm succeeded, the
 * last line is the state it waited for: the watches are given a moment to
 * catch up with it, and a list decides if they do not. A watch the cluster
 * refuses (no watch verb) falls back to polling; progress is never fatal.
 */
export async function followProgress(
  req: ReleaseRef,
  onProgress: (p: InstallProgress) => void,
  helmRun: Promise<unknown>,
  signal?: AbortSignal,
  opts: { watcher?: WatchClient; settleMs?: number; catchUpMs?: number } = {},
): Promise<void> {
  const helm = watchHelm(helmRun, signal);
  const show = (o: ProgressObjects | undefined) => {
    if (o) onProgress(progressOf(o));
  };
  const stop = new AbortController();
  try {
    const watched = await ProgressReflectors.open(req.kube, req.release, { watcher: opts.watcher });
    await watched.list();
    show(watched.progress());
    watched.run(stop.signal);
    while (await watched.changed(helm.done, opts.settleMs ?? 1000)) show(watched.progress());
    if (!helm.succeeded()) return;
    // helm saw the pods ready; the watches may be a moment behind it.
    // (A timer of our own, not AbortSignal.timeout's, which would not keep the process alive.)
    const caughtUp = new AbortController();
    const timer = setTimeout(() => {
      caughtUp.abort();
    }, opts.catchUpMs ?? CATCH_UP_MS);
    let last = watched.progress();
    while (!complete(last) && (await watched.changed(caughtUp.signal, 0))) last = watched.progress();
    clearTimeout(timer);
    if (complete(last)) {
      show(last);
      return;
    }
  } catch {
    // A watch or list refused or lost: what remains is shown by polls.
    if (!helm.settled()) await pollUntilSettled(req, show, helm);
  } finally {
    stop.abort();
  }
  if (helm.succeeded()) await pollOnce(req, show, { consistent: true });
}

/** How long the watches may take to show what helm saw, before a list is asked. */
const CATCH_UP_MS = 2000;

const progressOf = (o: ProgressObjects) => installProgress(o.workload, o.replicas, o.pods, o.redisPods);

/** Every pod ready (and Redis, if any): the state helm waits for. */
function complete(o: ProgressObjects | undefined): boolean {
  if (!o) return false;
  const p = progressOf(o);
  return p.ready === p.total && p.redisReady !== false;
}

/** helm's run as a signal (`done`, aborted when it settles or the command is stopped) and its outcome. */
function watchHelm(helmRun: Promise<unknown>, signal?: AbortSignal) {
  const done = new AbortController();
  const state = { settled: false, succeeded: false };
  const settle = (succeeded: boolean) => {
    state.settled = true;
    state.succeeded = succeeded;
    done.abort();
  };
  helmRun.then(
    () => {
      settle(true);
    },
    () => {
      settle(false);
    },
  );
  signal?.addEventListener(
    'abort',
    () => {
      done.abort();
    },
    { once: true },
  );
  return {
    done: done.signal,
    settled: () => state.settled || done.signal.aborted,
    succeeded: () => state.succeeded,
  };
}

/** The progress now, read consistently (not from the watch cache): a command's last line. */
export async function showProgress(req: ReleaseRef, onProgress: (p: InstallProgress) => void): Promise<void> {
  refreshReads(req.kube);
  await pollOnce(
    req,
    (o) => {
      if (o) onProgress(progressOf(o));
    },
    { consistent: true },
  );
}

/** One read of the progress objects; a failed one shows nothing. */
async function pollOnce(
  req: ReleaseRef,
  show: (o: ProgressObjects | undefined) => void,
  opts: { consistent?: boolean } = {},
): Promise<void> {
  try {
    show(await readProgressObjects(req.kube, req.kube.namespace, req.release, opts));
  } catch {
    // The API may be busy or the objects not there yet; the next poll will tell.
  }
}

/** Polls every second (longer when a poll is slow: progressInterval) until helm settles. */
async function pollUntilSettled(
  req: ReleaseRef,
  show: (o: ProgressObjects | undefined) => void,
  helm: ReturnType<typeof watchHelm>,
): Promise<void> {
  while (!helm.settled()) {
    const t0 = Date.now();
    // Each poll reads now, not what the watches' first lists read.
    refreshReads(req.kube);
    await pollOnce(req, show);
    await sleep(progressInterval(Date.now() - t0), undefined, { signal: helm.done }).catch(() => undefined);
  }
}
