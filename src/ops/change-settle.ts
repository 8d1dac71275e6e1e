/** A change's second phase, under the lock: a release left pending by an interrupted change is rolled back (sparing rooms in use), after the helm a dead holder left is waited for. */
import { pollUntil } from '../core/poll.js';
import {
  manifestView,
  planReleaseChange,
  renameProblem,
  type ManifestObject,
} from '../core/release-change.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { rollbackArgs, type KubeTarget } from '../helm/args.js';
import { helmOrThrow, type Helm } from '../helm/helm.js';
import { releaseHistory, type HelmRevision } from '../helm/release.js';
import { readHelmRevision } from '../kube/helm-releases.js';
import { refreshReads } from '../kube/api.js';
import { readPlanObjects } from '../kube/reader.js';
import { helmAlive, LOCK_SECONDS, type ReleaseLock } from '../kube/lock.js';
import { spareRoomsInUse, undoDrain } from './drain.js';
import { OPERATION_PREFIX, type PinnedCluster } from './change-pin.js';
import { liveTemplateDiffers, parseManifest, refuseRoomsInUse } from './change-preview.js';
import type { SessionRequest } from './mutation.js';

/**
 * Whether revision i was written by this plugin: its description carries our
 * prefix, or `known` says so (the pending revision a holder recognised), or it
 * is the rollback our settling runs ("Rollback to N", as helm describes it) of
 * a revision of ours, interrupted and left pending-rollback.
 */
export function ourRevision(
  history: HelmRevision[],
  i: number,
  known: (r: HelmRevision) => boolean = () => false,
): boolean {
  const r = history[i];
  if (!r) return false;
  if (r.description.startsWith(OPERATION_PREFIX) || known(r)) return true;
  return (
    r.status === 'pending-rollback' &&
    /^Rollback to \d+$/.test(r.description) &&
    ourRevision(history, i - 1, known)
  );
}

/** What settling needs of the lock: what its holders handed on, and where to record what it learns. */
export type SettleLock = Pick<ReleaseLock, 'unsettled' | 'pending' | 'recognised' | 'noteHelm' | 'settled'>;

/**
 * The release must exist, be ours, and not be mid-operation. A revision left
 * pending by an operation of ours that died is rolled back: one written while a
 * dead holder of our lock held it, the one an earlier holder recognised so (the
 * same number, written at the same time), or one our description names. It is
 * recorded in the lock as it is recognised: when the rollback is refused or
 * stopped, the Lease hands that revision on (ReleaseLock.settled), so running
 * the command again, once the rooms in use are free, rolls back then.
 */
export async function settleRelease(
  helm: Helm,
  release: string,
  target: KubeTarget,
  found: { status: string },
  lock: SettleLock | undefined,
  warn: (message: string) => void,
  /** Before the rollback: spare the rooms in use it would remove (the drain every change runs), given the revision it goes back to. */
  beforeRollback: (revision: number) => Promise<void> = () => Promise.resolve(),
): Promise<string> {
  if (!found.status.startsWith('pending')) return found.status;
  const history = await releaseHistory(helm, release, target);
  const last = history[history.length - 1];
  const deployed = [...history].reverse().find((r) => r.status === 'deployed' || r.status === 'superseded');
  const grace = LOCK_SECONDS * 1000;
  const recorded = lock?.pending;
  // The recorded revision itself; under a pending-rollback only when the record says the rollback is ours.
  const recognised = (r: HelmRevision) =>
    r.revision === recorded?.revision &&
    r.updated === recorded.updated &&
    (r === last || recorded.rollingBack === true);
  const duringDeadHolder =
    last !== undefined &&
    (lock?.unsettled ?? []).some(
      (t) => last.updated >= t.acquired - grace && last.updated <= t.renewed + grace,
    );
  if (last && deployed && (duringDeadHolder || ourRevision(history, history.length - 1, recognised))) {
    lock?.recognised({ revision: last.revision, updated: last.updated });
    warn(
      `release ${release} was left ${found.status} by an interrupted operation (revision ${last.revision}); rolling back to revision ${deployed.revision} first`,
    );
    await beforeRollback(deployed.revision);
    // From here a pending-rollback over it is ours (written by the renewal noteHelm makes).
    lock?.recognised({ revision: last.revision, updated: last.updated, rollingBack: true });
    // Recorded as any helm of ours: a successor waits for it if this command dies while it runs.
    await helmOrThrow(helm, 'rollback', rollbackArgs(release, deployed.revision, target), {
      onSpawn: (pid) => void lock?.noteHelm(pid, helm.path),
    });
    return 'rolled back';
  }
  // Not ours: whatever a dead holder of ours left lies under it, and is no longer pending.
  lock?.settled();
  throw new ExposePodsError(
    `another operation is in progress on release ${release}: it is ${found.status}${last ? ` (revision ${last.revision}: ${last.description})` : ''}`,
    ExitCode.CONFLICT,
    `Wait for it to finish; if it died, roll back with: helm rollback ${release} -n ${target.namespace}`,
  );
}

/**
 * A rollback is a change too: the rooms it removes (a scale-up that was
 * interrupted, rolled back to fewer replicas) are marked Draining and waited
 * for, as every change's drain does, and never removed while in use. Then the
 * restart check of every change (change-preview.ts): the revision's pod
 * template and strategy against the live StatefulSet, with the rooms now.
 * Under RollingUpdate a rollback that restarts a room in use is refused (exit
 * 15, the marks taken back, nothing rolled back). Under OnDelete it restarts no
 * room; a new template leaves the Free rooms outdated for `rollout` (status
 * says so), which spares rooms in use. On timeout: exit 15, nothing rolled back.
 */
export async function spareRoomsForRollback(
  cluster: PinnedCluster,
  req: SessionRequest,
  revision: number,
  signal: AbortSignal,
  /** The manifest of the revision left pending: what the rollback changes from. */
  pending?: string,
): Promise<void> {
  const { kube, namespace } = cluster;
  const record = await readHelmRevision(kube, namespace, req.release, revision);
  const target = record && parseManifest(record.manifest);
  const replicas = target && manifestView(target).statefulSet?.replicas;
  if (!target || replicas === undefined) return;
  let marked: string[];
  try {
    marked = await spareRoomsInUse(kube, namespace, req.release, replicas, {
      deleteInUse: false,
      refuseInUse: req.refuseInUse,
      timeoutMs: req.orphanWaitMs,
      signal,
    });
  } catch (e) {
    if (!(e instanceof ExposePodsError && e.exitCode === ExitCode.ROOMS_IN_USE)) throw e;
    throw new ExposePodsError(
      `release ${req.release} was left pending by an interrupted operation, and rolling it back to revision ${revision} (${replicas} replicas) would remove rooms in use: ${e.message.replace(/; nothing was scaled$/, '')}; nothing was rolled back`,
      ExitCode.ROOMS_IN_USE,
      `They stay Draining. Free them when their matches end (kubectl expose-pods deallocate ${req.release} -n ${namespace} POD) and run the command again.`,
    );
  }
  try {
    await refuseRollbackRestarts(cluster, req.release, target, pending, revision);
  } catch (e) {
    await undoDrain(kube, namespace, marked);
    if (!(e instanceof ExposePodsError && e.exitCode === ExitCode.ROOMS_IN_USE)) throw e;
    throw new ExposePodsError(
      asRollback(req.release, ` to revision ${revision}`, e.message),
      ExitCode.ROOMS_IN_USE,
      `Free them when their matches end (kubectl expose-pods deallocate ${req.release} -n ${namespace} POD) and run the command again: it rolls back then. To roll back now, ending those matches: helm rollback ${req.release} ${revision} -n ${namespace}`,
    );
  }
}

/**
 * ROOMS_IN_USE (refuseRoomsInUse, as any change) when helm's rollback to
 * `target` would restart a room in use: a rolling update of another pod
 * template (the API server's dry run of it against the live one).
 */
async function refuseRollbackRestarts(
  cluster: PinnedCluster,
  release: string,
  target: ManifestObject[],
  pending: string | undefined,
  revision: number,
): Promise<void> {
  const { kube, namespace } = cluster;
  refreshReads(kube);
  const live = await readPlanObjects(kube, namespace, release);
  const after = manifestView(target);
  // Back to another StatefulSet name (an interrupted rename): helm would delete the live one and every room.
  const renamed = renameProblem(live.statefulSet, after, live.pods, release, namespace, false);
  if (renamed)
    throw new ExposePodsError(
      asRollback(release, '', renamed.message),
      ExitCode.CONFLICT,
      `Roll back yourself once its rooms may go (it deletes them): helm rollback ${release} ${revision} -n ${namespace}`,
    );
  const from = pending === undefined ? undefined : parseManifest(pending);
  const plan = planReleaseChange(manifestView(from ?? target), after, [], live.pods, {
    liveTemplateChanged: await liveTemplateDiffers(kube, target, live, from),
    live: live.statefulSet,
  });
  refuseRoomsInUse(plan, after, release, namespace);
}

/**
 * Waits, up to `deadlineMs`, for the helm that a dead holder of the lock left
 * running on this machine. Still running past the deadline: CONFLICT (exit 9),
 * nothing done. Its release is pending under it, and a rollback or an upgrade
 * beside it would corrupt the history; the lock, left unsettled, hands its
 * notes on, so the next command waits for it again.
 */
export async function awaitOrphanedHelm(
  lock: ReleaseLock | undefined,
  deadlineMs: number,
  warn: (message: string) => void,
  release: string,
  namespace: string,
): Promise<void> {
  const orphan = lock?.orphanedHelm;
  if (!orphan || !helmAlive(orphan)) return;
  const { pid } = orphan;
  warn(
    `an interrupted operation left helm running (pid ${pid}); waiting up to ${Math.round(deadlineMs / 1000)}s for it`,
  );
  const gone = await pollUntil(() => (helmAlive(orphan) ? undefined : true), {
    timeoutMs: deadlineMs,
    intervalMs: 500,
  });
  if (!gone)
    throw new ExposePodsError(
      `the helm an interrupted operation left on release ${release} (pid ${pid}) is still running after ${Math.round(deadlineMs / 1000)}s; nothing was changed`,
      ExitCode.CONFLICT,
      `Run this again once it has ended (a longer --timeout waits longer), or stop it (kill ${pid}) and run this again: what it left pending is rolled back first. Its release: helm status ${release} -n ${namespace}`,
    );
}

/** A change's refusal, said of the automatic rollback: "release R was left pending ..., and rolling it back ...; nothing was rolled back". */
function asRollback(release: string, back: string, refusal: string): string {
  const said = refusal.replace(/^this change /, '').replace(/; nothing was changed$/, '');
  return `release ${release} was left pending by an interrupted operation, and rolling it back${back} ${said}; nothing was rolled back`;
}
