import { requireTimeout } from '../core/duration.js';
import { manifestView } from '../core/release-change.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { uninstallArgs } from '../helm/args.js';
import { helmOrThrow } from '../helm/helm.js';
import { getManifest } from '../helm/release.js';
import { refreshReads } from '../kube/api.js';
import type { KubeFlags } from '../kube/config.js';
import { readRoomPods } from '../kube/reader.js';
import { deleteReleaseData } from '../kube/writes.js';
import { listReleaseData, type ReleaseData } from '../kube/reader.js';
import { listed } from '../core/rollout.js';
import { allocatedMeanwhile, inUsePhrase } from '../core/rooms.js';
import type { ResolvedKube } from '../kube/config.js';
import { drainEveryRoom, undoDrain } from './drain.js';
import { parseManifest } from './change-preview.js';
import { removeOrphanedServices } from './change-apply.js';
import { withReleaseChange, type ChangeSession, type Confirm } from './mutation.js';

export interface UninstallRequest {
  release: string;
  kube: KubeFlags;
  helmBinary?: string;
  deleteData: boolean;
  /** Uninstall although rooms are in use (Allocated), confirmed; otherwise refused with ROOMS_IN_USE. */
  deleteInUse?: boolean;
  timeout: string;
  /** Shown the data --delete-data deletes, before `confirm` is asked about it. */
  onDataToDelete?: (data: ReleaseData, namespace: string) => void;
  /** Asked before rooms in use are removed (--delete-in-use) and before data is deleted (--delete-data). */
  confirm: Confirm;
  warn: (message: string) => void;
}

export interface UninstallResult {
  release: string;
  namespace: string;
  /** False when the release was already gone and only data was deleted (a re-run). */
  uninstalled: boolean;
  kept: ReleaseData;
  deleted: ReleaseData;
  /** Services of the release that a failed upgrade had left outside its manifest, now deleted. */
  orphanedServices: string[];
}

const none = (): ReleaseData => ({ pvcs: [], secrets: [] });

/** NOT_FOUND from a release whose StatefulSet is gone: it has no rooms to spare. */
function noRooms(e: unknown): undefined {
  if (e instanceof ExposePodsError && e.exitCode === ExitCode.NOT_FOUND) return undefined;
  throw e;
}

/** ROOMS_IN_USE naming the rooms an uninstall would end the matches of. */
function roomsInUseError(
  req: UninstallRequest,
  namespace: string,
  inUse: string[],
  when = '',
): ExposePodsError {
  return new ExposePodsError(
    `release ${req.release} has ${inUse.length} room(s) in use (Allocated)${when}: ${listed(inUse, 10)}; uninstalling ends their matches`,
    ExitCode.ROOMS_IN_USE,
    `Free them when their matches end (kubectl expose-pods deallocate ${req.release} -n ${namespace} POD), or add --delete-in-use. Nothing was changed.`,
  );
}

/**
 * Rooms in use end with their matches only when asked: --delete-in-use,
 * confirmed; ROOMS_IN_USE otherwise, before anything is written. Then every
 * room is marked Draining, before any question, so none is allocated while
 * the user reads it. The rooms in use confirmed, and the pods marked.
 */
async function spareRoomsBeforeAsking(
  req: UninstallRequest,
  session: ChangeSession,
): Promise<{ confirmed: string[]; marked: string[] }> {
  const { kube, namespace } = session.cluster;
  const rooms = await readRoomPods(kube, namespace, req.release).catch(noRooms);
  if (!rooms) return { confirmed: [], marked: [] };
  const confirmed = rooms.pods.filter((p) => p.mark?.allocated && !p.terminating).map((p) => p.name);
  if (confirmed.length && !req.deleteInUse) throw roomsInUseError(req, namespace, confirmed);
  const { marked } = await drainEveryRoom(kube, namespace, req.release);
  if (confirmed.length) {
    const what = inUsePhrase(confirmed);
    await guarded(kube, namespace, marked, () =>
      session.confirm({ what: `this uninstall ${what}`, question: `This uninstall ${what}. Go ahead?` }),
    );
  }
  return { confirmed, marked };
}

/**
 * After the questions: every room marked again (a pod replaced meanwhile came
 * back unmarked), and ROOMS_IN_USE when a room was allocated that was not
 * confirmed. The pods it marked too.
 */
async function checkAgainAfterAsking(
  req: UninstallRequest,
  session: ChangeSession,
  confirmed: string[],
): Promise<string[]> {
  const { kube, namespace } = session.cluster;
  const now = await drainEveryRoom(kube, namespace, req.release).catch(noRooms);
  if (!now) return [];
  const meanwhile = allocatedMeanwhile(confirmed, now.inUse);
  if (meanwhile.length) {
    await undoDrain(kube, namespace, now.marked);
    throw roomsInUseError(req, namespace, meanwhile, ' allocated while it asked');
  }
  return now.marked;
}

/** Runs `step`; when it throws, the Draining marks in `marked` are taken back first (no partial damage). */
async function guarded<T>(
  kube: ResolvedKube,
  namespace: string,
  marked: readonly string[],
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (e) {
    await undoDrain(kube, namespace, marked);
    throw e;
  }
}

/**
 * helm uninstall, keeping PVCs and the Secret unless --delete-data is confirmed.
 * The confirmation comes before anything changes. When the release is already
 * gone, --delete-data still removes its leftover data, so a re-run converges.
 */
export async function runUninstall(req: UninstallRequest): Promise<UninstallResult> {
  const { go: timeout, ms: timeoutMs } = requireTimeout('--timeout', req.timeout);
  return withReleaseChange(
    {
      release: req.release,
      kube: req.kube,
      helmBinary: req.helmBinary,
      operation: `uninstall${req.deleteData ? ' --delete-data' : ''}`,
      allowMissing: true,
      orphanWaitMs: timeoutMs,
      confirm: req.confirm,
      warn: req.warn,
    },
    async (session) => {
      const { cluster, exists } = session;
      const { kube, helm, target, namespace: ns } = cluster;
      const manifest = exists
        ? manifestView(parseManifest(await getManifest(helm, req.release, target)))
        : undefined;
      const data = await listReleaseData(kube, ns, req.release, manifest);
      const hasData = data.pvcs.length + data.secrets.length > 0;
      if (!exists && !(req.deleteData && hasData)) {
        const leftover = hasData
          ? `It left ${data.pvcs.length} PVC(s) and ${data.secrets.length} Secret(s) behind; add --delete-data to remove them.`
          : `List the releases there with: helm list -n ${ns}`;
        throw new ExposePodsError(
          `release ${req.release} not found in namespace ${ns}`,
          ExitCode.NOT_FOUND,
          leftover,
        );
      }
      const rooms = exists ? await spareRoomsBeforeAsking(req, session) : { confirmed: [], marked: [] };
      const marked = [...rooms.marked];
      await guarded(kube, ns, marked, async () => {
        if (req.deleteData && hasData) {
          req.onDataToDelete?.(data, ns);
          await session.confirm({
            what: '--delete-data needs confirmation',
            question: 'Delete it for good?',
            unchanged: 'Nothing was changed: deleting the data was not confirmed.',
          });
        }
        if (!exists) return;
        marked.push(...(await checkAgainAfterAsking(req, session, rooms.confirmed)));
        await helmOrThrow(helm, 'uninstall', uninstallArgs(req.release, target, timeout), {
          signal: session.signal,
        });
      });
      refreshReads(kube);
      // Services a failed upgrade left outside the last manifest: helm uninstall does not see them.
      const orphans = await removeOrphanedServices(cluster, req.release, []);
      const base = { release: req.release, namespace: ns, uninstalled: exists, orphanedServices: orphans };
      if (req.deleteData) {
        await deleteReleaseData(kube, ns, data);
        return { ...base, kept: none(), deleted: data };
      }
      return { ...base, kept: data, deleted: none() };
    },
  );
}
