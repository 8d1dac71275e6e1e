import { writeFileSync } from 'node:fs';
import path from 'node:path';

import type { InstallProgress } from '../core/progress.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { rollbackArgs, upgradeArgs, type KubeTarget } from '../helm/args.js';
import { bundledChartPath } from '../helm/chart.js';
import { helmOrThrow, type Helm } from '../helm/helm.js';
import { findRelease, releaseHistory } from '../helm/release.js';
import { LOCK_SECONDS, pidAlive, type ReleaseLock } from '../kube/lock.js';
import { explainTimeout, pollProgress, type ReleaseRef } from './install.js';

/** Every Helm revision this plugin writes has a description starting so. */
export const OPERATION_PREFIX = 'kubectl-expose-pods';

/**
 * The release must exist, be ours, and not be mid-operation. A revision left
 * pending by an operation of ours that died is rolled back: it is one written while the
 * dead holder of our lock held it (or one our description names).
 */
export async function settleRelease(
  helm: Helm,
  release: string,
  target: KubeTarget,
  previous: ReleaseLock['previous'],
  warn: (message: string) => void,
): Promise<string> {
  const found = await findRelease(helm, release, target);
  if (!found.status.startsWith('pending')) return found.status;
  const history = await releaseHistory(helm, release, target);
  const last = history[history.length - 1];
  const deployed = [...history].reverse().find((r) => r.status === 'deployed' || r.status === 'superseded');
  const grace = LOCK_SECONDS * 1000;
  const duringDeadHolder =
    previous !== undefined &&
    last !== undefined &&
    last.updated >= previous.acquired - grace &&
    last.updated <= previous.renewed + grace;
  if (last && deployed && (duringDeadHolder || last.description.startsWith(OPERATION_PREFIX))) {
    warn(
      `release ${release} was left ${found.status} by an interrupted operation (revision ${last.revision}); rolling back to revision ${deployed.revision} first`,
    );
    await helmOrThrow(helm, 'rollback', rollbackArgs(release, deployed.revision, target));
    return 'rolled back';
  }
  throw new ExposePodsError(
    `another operation is in progress on release ${release}: it is ${found.status}${last ? ` (revision ${last.revision}: ${last.description})` : ''}`,
    ExitCode.CONFLICT,
    `Wait for it to finish; if it died, roll back with: helm rollback ${release} -n ${target.namespace}`,
  );
}

/** Waits for the helm that a dead holder of the lock left running on this machine, if any. */
export async function awaitOrphanedHelm(
  lock: ReleaseLock | undefined,
  warn: (message: string) => void,
): Promise<void> {
  const pid = lock?.orphanedHelm;
  if (!pid) return;
  warn(`an interrupted operation left helm running (pid ${pid}); waiting for it to finish`);
  while (pidAlive(pid)) await new Promise((r) => setTimeout(r, 500));
}

/**
 * The values flags of an upgrade that reuses what the user supplied (written to
 * a file in `dir`) plus `sets`: Helm's --reuse-values without its surprises.
 */
export function reusedValues(dir: string, user: Record<string, unknown>, sets: string[]): string[] {
  const file = path.join(dir, 'values.json');
  writeFileSync(file, JSON.stringify(user));
  return ['--values', file, ...sets.flatMap((s) => ['--set', s])];
}

/**
 * helm upgrade of the bundled chart, waiting for readiness with progress; the
 * lock learns helm's pid. A timeout names the pods that are not ready.
 */
export async function upgradeAndWait(
  helm: Helm,
  ref: ReleaseRef,
  target: KubeTarget,
  values: string[],
  opts: { timeout: string; description: string; forceConflicts?: boolean },
  lock: ReleaseLock | undefined,
  onProgress?: (p: InstallProgress) => void,
): Promise<void> {
  const args = upgradeArgs(helm.version.major, ref.release, await bundledChartPath(), target, values, {
    createNamespace: false,
    wait: true,
    ...opts,
  });
  const run = helmOrThrow(helm, 'upgrade', args, (pid) => {
    void lock?.noteHelm(pid);
  });
  if (onProgress) await pollProgress(ref, target.namespace, onProgress, run);
  try {
    await run;
  } catch (e) {
    if (e instanceof ExposePodsError && e.exitCode === ExitCode.TIMEOUT)
      throw await explainTimeout(e, ref, target.namespace);
    throw e;
  }
}
