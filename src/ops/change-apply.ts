/** A change's apply phase: the drain of rooms removed, helm's upgrade with progress, the orphaned Services, and the rollout that follows (ops/rollout.ts). */
import { durationMs } from '../core/duration.js';
import { allocatedMeanwhile, inUsePhrase } from '../core/rooms.js';
import { serviceInUsePhrase, type ManifestObject, type ReleaseChangePlan } from '../core/release-change.js';
import { DEFAULT_MAX_UNAVAILABLE, parseMaxUnavailable, type MaxUnavailable } from '../core/rollout.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { upgradeArgs } from '../helm/args.js';
import { bundledChartPath } from '../helm/chart.js';
import { helmOrThrow } from '../helm/helm.js';
import { getManifest, upgradedRevision } from '../helm/release.js';
import { deleteServiceExactly } from '../kube/writes.js';
import { listReleaseServices } from '../kube/reader.js';
import { refreshReads } from '../kube/api.js';
import { spareRoomsInUse, undoDrain, undoDrainKept } from './drain.js';
import { rolloutRooms } from './rollout.js';
import { explainTimeout, followProgress, showProgress } from './wait.js';
import type { PinnedCluster } from './change-pin.js';
import { changeValues, onDelete, parseManifest, planWithRoomsNow } from './change-preview.js';
import type { ChangeSession, ChangeSpec, OpenSession } from './mutation.js';

/** helm upgrade --install of the change, with progress while it waits; then removes Services the release no longer has. */
export async function applyChange(
  s: OpenSession,
  change: ChangeSpec,
  opts: Parameters<ChangeSession['apply']>[1],
): Promise<string> {
  const { req, cluster } = s;
  const { namespace } = cluster;
  const started = Date.now();
  const replicas = s.lastPreview?.find((o) => o.kind === 'StatefulSet')?.spec?.replicas;
  // Rooms in use are never removed by surprise: those going are marked Draining, and waited for.
  const marked =
    s.exists && typeof replicas === 'number'
      ? await spareRoomsInUse(cluster.kube, namespace, req.release, replicas, {
          deleteInUse: change.deleteInUse ?? false,
          refuseInUse: change.refuseInUse,
          timeoutMs: durationMs(opts.timeout) ?? 0,
          signal: s.signal,
          onWaiting: opts.onWaitingInUse,
        })
      : [];
  let output: string;
  try {
    output = await upgrade(s, change, opts, marked);
  } catch (e) {
    // Failed past the drain: the rooms it marked that the StatefulSet still keeps go back to service.
    // Only while the lock is certainly ours: after that the marks may be the next holder's.
    if (!s.lock || s.lock.held()) await undoDrainKept(cluster.kube, namespace, req.release, marked);
    throw e;
  }
  s.applied = upgradedRevision(output);
  const ref = { release: req.release, kube: cluster.kube };
  await removeOrphanedServices(cluster, req.release, s.lastPreview);
  // Under OnDelete helm waits for no room: the rollout replaces the Free rooms on older revisions and waits for every room.
  const sts = s.lastPreview?.find((o) => o.kind === 'StatefulSet');
  if (opts.wait && sts && updateStrategyOf(sts) === 'OnDelete') {
    const waitOnly = !s.lastPlan?.updateStrategy;
    try {
      s.rolledOut = await rolloutRooms(cluster.kube, namespace, req.release, {
        maxUnavailable: opts.maxUnavailable ?? defaultMaxUnavailable(),
        timeoutMs: Math.max(1000, (durationMs(opts.timeout) ?? 300_000) - (Date.now() - started)),
        waitInUse: opts.waitInUse,
        // Only the rooms in use the confirmation named: one allocated since keeps its match.
        includeInUse: change.deleteInUse && new Set(s.lastPlan?.restartInUse ?? []),
        waitOnly,
        signal: s.signal,
        onProgress: opts.onRollout,
      });
    } catch (e) {
      // A wait alone that timed out is explained as helm's wait was: the rooms not Ready, and why.
      if (waitOnly && e instanceof ExposePodsError && e.exitCode === ExitCode.TIMEOUT)
        throw await explainTimeout(e, ref);
      throw e;
    }
    // The last line is the state waited for, Redis included (helm waited for its Deployment).
    if (opts.onProgress) await showProgress(ref, opts.onProgress);
  }
  return output;
}

/** The check just before helm, then helm's upgrade, followed while it waits: helm's output. */
async function upgrade(
  s: OpenSession,
  change: ChangeSpec,
  opts: Parameters<ChangeSession['apply']>[1],
  marked: string[],
): Promise<string> {
  const { req, cluster } = s;
  const { helm, target } = cluster;
  // A room allocated while the plan waited for its yes, or for the drain, is checked again just before helm.
  if (s.exists) await refuseInUseNow(s, change, marked);
  const v = changeValues(s, change);
  const args = upgradeArgs(helm.version.major, req.release, await bundledChartPath(), target, v.args, {
    createNamespace: opts.createNamespace ?? false,
    wait: opts.wait,
    timeout: opts.timeout,
    description: change.description,
    forceConflicts: forcesConflicts(change, s.lastPlan),
  });
  const run = helmOrThrow(helm, 'upgrade --install', args, {
    stdin: v.stdin,
    signal: s.signal,
    onSpawn: (pid) => void s.lock?.noteHelm(pid, s.cluster.helm.path),
  });
  const ref = { release: req.release, kube: cluster.kube };
  if (opts.wait && opts.onProgress) await followProgress(ref, opts.onProgress, run, s.signal);
  try {
    return await run;
  } catch (e) {
    if (e instanceof ExposePodsError && e.exitCode === ExitCode.TIMEOUT) throw await explainTimeout(e, ref);
    throw e;
  } finally {
    // helm wrote the release's objects: what was read before is old.
    refreshReads(cluster.kube);
  }
}

/**
 * Whether helm (4, server-side apply) takes the fields another manager owns:
 * when the change says so (spec.replicas after kubectl scale), and when it
 * writes another update strategy than the live one. One set outside Helm
 * (kubectl patch) is owned by kubectl-patch: without it Helm 4 fails on the
 * conflict and writes nothing; with it the strategy goes back in the same
 * write as the pod template, as Helm 3's three-way patch does.
 */
export function forcesConflicts(
  change: Pick<ChangeSpec, 'forceConflicts'>,
  plan: Pick<ReleaseChangePlan, 'strategyChange'> | undefined,
): boolean {
  return change.forceConflicts === true || plan?.strategyChange !== undefined;
}

/** The StatefulSet's spec.updateStrategy.type in a manifest (Kubernetes' default: RollingUpdate). */
export function updateStrategyOf(sts: ManifestObject): string {
  const strategy = (sts.spec as { updateStrategy?: { type?: string } } | undefined)?.updateStrategy;
  return strategy?.type ?? 'RollingUpdate';
}

/** 25%, as Agones' Fleets default. */
function defaultMaxUnavailable(): MaxUnavailable {
  return parseMaxUnavailable(DEFAULT_MAX_UNAVAILABLE) as MaxUnavailable;
}

/**
 * After a failed upgrade a release can leave Services behind that its last
 * manifest no longer lists, so neither the next upgrade nor helm uninstall
 * removes them, and their nodePorts stay allocated. Those that Helm made for
 * this release (its annotations say so) and that `keep` (the manifest now)
 * does not list are deleted, each by UID.
 */
export async function removeOrphanedServices(
  cluster: PinnedCluster,
  release: string,
  keep: ManifestObject[] | undefined,
): Promise<string[]> {
  const manifest =
    keep ?? parseManifest(await getManifest(cluster.helm, release, cluster.target).catch(() => ''));
  const listed = new Set(manifest.filter((o) => o.kind === 'Service').map((o) => o.metadata?.name));
  const orphans = (await listReleaseServices(cluster.kube, cluster.namespace, release)).filter(
    (s) => !listed.has(s.name),
  );
  for (const s of orphans) await deleteServiceExactly(cluster.kube, cluster.namespace, s);
  return orphans.map((s) => s.name);
}

/**
 * ROOMS_IN_USE, before helm runs, when the plan made again with the rooms now
 * (the same rule) ends a match that the plan did not (or that --delete-in-use
 * did not confirm): a room allocated while the change asked or waited in the
 * drain, that a rolling update (RollingUpdate) would restart, or whose per-pod
 * Service a lower expose.count removes. The marks the drain wrote are taken
 * back, and nothing of the release is changed.
 */
async function refuseInUseNow(s: OpenSession, change: ChangeSpec, marked: string[]): Promise<void> {
  const was = s.lastPlan;
  const rolling = was?.updateStrategy !== undefined && was.updateStrategy !== 'OnDelete';
  if (!was || (!(rolling && was.restartPods.length) && !was.removeServices.length)) return;
  const now = await planWithRoomsNow(s);
  if (!now) return;
  const confirmed = change.deleteInUse ? was : undefined;
  const restarts = allocatedMeanwhile(confirmed?.restartInUse ?? [], now.restartInUse);
  const services = allocatedMeanwhile(confirmed?.removeServicesInUse ?? [], now.removeServicesInUse);
  if (!restarts.length && !services.length) return;
  const { kube, namespace } = s.cluster;
  await undoDrain(kube, namespace, marked);
  const what = [
    ...(restarts.length ? [inUsePhrase(restarts, 'restarts')] : []),
    ...(services.length ? [serviceInUsePhrase(services)] : []),
  ];
  throw new ExposePodsError(
    `this change ${what.join(' and ')}, allocated while it asked or waited: their matches would ${restarts.length ? 'end' : 'lose their address'}; the release was not changed`,
    ExitCode.ROOMS_IN_USE,
    `Run it again: its plan names every room in use it affects, to free first or to confirm with --delete-in-use.${restarts.length ? ` Under OnDelete a new build spares rooms in use: ${onDelete(s.req.release, namespace)} (it restarts no room).` : ''}`,
  );
}
