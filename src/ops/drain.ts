import { ordinalOf } from '../core/model.js';
import { pollUntil } from '../core/poll.js';
import { listed } from '../core/rollout.js';
import { drainChanges, drainPatch } from '../core/rooms.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { pollReads, refreshReads } from '../kube/api.js';
import type { ResolvedKube } from '../kube/config.js';
import { markPod } from '../kube/writes.js';
import { readPod, readReadyNodes, readRoomPods } from '../kube/reader.js';

/** How a change treats the rooms in use it would remove. */
export interface SpareRooms {
  /** Remove them anyway (--delete-in-use, confirmed); otherwise wait until they are freed. */
  deleteInUse: boolean;
  /**
   * Never wait on a match, nor mark a room in use Draining (the autoscaler): a room to be removed
   * that is in use refuses the change at once (ROOMS_IN_USE), the marks this call wrote taken back.
   */
  refuseInUse?: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Each round that still waits: the rooms in use it waits for. */
  onWaiting?: (inUse: string[]) => void;
}

/**
 * Before the replicas go to `target`: the rooms to be removed are marked
 * Draining (no match starts there any more: allocate skips them, and a
 * write that raced with ours is refused by the resourceVersion), rooms kept
 * lose a Draining mark an unfinished scale-down left, and unless told to
 * delete them, it waits until none of the rooms to be removed is Allocated.
 * On timeout: ROOMS_IN_USE, nothing scaled, the marks kept (the same
 * command, run again, goes on waiting; a scale to the current count returns them to service).
 * Returns the rooms it marked Draining: a change refused after it gives them back (undoDrain).
 */
export async function spareRoomsInUse(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  target: number,
  opts: SpareRooms,
): Promise<string[]> {
  let waitingFor: string[] = [];
  let replacing: string[] = [];
  const marked: string[] = [];
  const reads = pollReads(kube);
  const settled = await pollUntil(
    async () => {
      reads.next();
      const { workload, replicas, pods, endOnRestart } = await readRoomPods(kube, namespace, release);
      // Whether a Terminating pod's node is lost decides whether its replacement is waited for.
      const readyNodes = pods.some((p) => p.terminating)
        ? await readReadyNodes(kube, namespace, release)
        : undefined;
      const c = drainChanges(pods, workload, target, { replicas, readyNodes });
      if (opts.refuseInUse && c.inUse.length) {
        await undoDrain(kube, namespace, marked);
        throw roomsInUseNow(release, namespace, c.inUse);
      }
      let raced = false;
      for (const [pod, draining] of [
        ...c.drain.map((p) => [p, true] as const),
        ...c.undrain.map((p) => [p, false] as const),
      ]) {
        if (!pod.resourceVersion) continue;
        const out = await markPod(
          kube,
          namespace,
          { name: pod.name, resourceVersion: pod.resourceVersion },
          drainPatch(draining),
          endOnRestart,
        );
        // Changed since it was read (allocated, freed, or its status): read it again.
        if (out.kind !== 'written') raced = true;
        else if (draining) marked.push(pod.name);
      }
      if (raced) return undefined;
      waitingFor = opts.deleteInUse ? [] : c.inUse;
      // A room replaced meanwhile comes back unmarked: it is marked (next round) before the replicas change.
      replacing = c.replacing;
      if (!waitingFor.length && !replacing.length) return true;
      if (waitingFor.length) opts.onWaiting?.(waitingFor);
      return undefined;
    },
    { timeoutMs: opts.timeoutMs, intervalMs: 1000, signal: opts.signal },
  );
  if (settled) return marked;
  if (!waitingFor.length)
    throw new ExposePodsError(
      `${replacing.length} room(s) to be removed were being replaced and did not come back to be marked Draining: ${replacing.slice(0, 10).join(', ')}; nothing was scaled`,
      ExitCode.ROOMS_IN_USE,
      `A replacement comes back unmarked and could be allocated just before the StatefulSet removes it. See why they are not back (kubectl expose-pods endpoints ${release} -n ${namespace}) and run the same command again.`,
    );
  throw new ExposePodsError(
    `${waitingFor.length} room(s) to be removed are still in use (Allocated): ${listed(waitingFor, 10)}; nothing was scaled`,
    ExitCode.ROOMS_IN_USE,
    `They stay Draining, so no new match starts there. Free them when their matches end (kubectl expose-pods deallocate ${release} -n ${namespace} POD) and run the same command again, or remove them anyway with --delete-in-use; a scale to the current count returns them to service.`,
  );
}

/** ROOMS_IN_USE at once: a change that may not wait on a match (the autoscaler) would remove these rooms in use. */
function roomsInUseNow(release: string, namespace: string, inUse: readonly string[]): ExposePodsError {
  return new ExposePodsError(
    `${inUse.length} room(s) to be removed are in use (Allocated) now: ${listed(inUse, 10)}; nothing was scaled`,
    ExitCode.ROOMS_IN_USE,
    `A match started there since the change was planned. Plan again from the rooms now (kubectl expose-pods endpoints ${release} -n ${namespace}).`,
  );
}

/** How many times the marks of every room are read again after a write crossed another. */
const MARK_ROUNDS = 8;

/**
 * Marks every live room of the release Draining (uninstall: no match may
 * start in a room that is about to go), each write conditioned on the pod's
 * resourceVersion, reading again after a conflict. Returns the pods it marked
 * (for undoDrain) and the rooms in use as last read.
 */
export async function drainEveryRoom(
  kube: ResolvedKube,
  namespace: string,
  release: string,
): Promise<{ marked: string[]; inUse: string[] }> {
  const marked: string[] = [];
  for (let round = 0; round < MARK_ROUNDS; round++) {
    // Never what was read before a question: the rooms may have changed while it waited.
    refreshReads(kube);
    const { workload, pods, endOnRestart } = await readRoomPods(kube, namespace, release);
    const c = drainChanges(pods, workload, 0);
    let raced = false;
    for (const pod of c.drain) {
      if (!pod.resourceVersion) continue;
      const out = await markPod(
        kube,
        namespace,
        { name: pod.name, resourceVersion: pod.resourceVersion },
        drainPatch(true),
        endOnRestart,
      );
      if (out.kind === 'written') marked.push(pod.name);
      else raced = true;
    }
    if (!raced) return { marked, inUse: c.inUse };
  }
  await undoDrain(kube, namespace, marked);
  throw new ExposePodsError(
    `could not mark the rooms of release ${release} Draining: they changed while being written, ${MARK_ROUNDS} times; nothing was changed`,
    ExitCode.CONFLICT,
    'Run it again.',
  );
}

/**
 * Returns to service the pods a command marked Draining and did not remove
 * (it was refused, not confirmed, or failed): each still marked loses the
 * mark, conditioned on its resourceVersion; a pod gone or replaced is left alone.
 */
export async function undoDrain(
  kube: ResolvedKube,
  namespace: string,
  names: readonly string[],
): Promise<void> {
  for (const name of names) {
    for (let round = 0; round < MARK_ROUNDS; round++) {
      // Only the Draining mark is read and written: whether a restart ended an allocation does not matter here.
      const pod = await readPod(kube, namespace, name, true);
      if (!pod?.resourceVersion || !pod.mark?.draining || pod.terminating) break;
      const out = await markPod(
        kube,
        namespace,
        { name, resourceVersion: pod.resourceVersion },
        drainPatch(false),
        true,
      );
      if (out.kind !== 'conflict') break;
    }
  }
}

/**
 * After a change failed past its drain (a read before helm, or helm itself):
 * gives back the Draining marks of the rooms the live StatefulSet still keeps,
 * read now. One it no longer keeps is being removed (helm wrote the replicas
 * before it failed) and keeps its mark: unmarked, it could be allocated just
 * before the controller deletes it. Never throws (the failure is what the
 * command reports): a mark left is returned by the next change's drain.
 */
export async function undoDrainKept(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  names: readonly string[],
): Promise<void> {
  if (!names.length) return;
  try {
    refreshReads(kube);
    const { workload, replicas } = await readRoomPods(kube, namespace, release);
    const kept = names.filter((n) => (ordinalOf(n, workload) ?? Infinity) < replicas);
    await undoDrain(kube, namespace, kept);
  } catch {
    // Left Draining: the next change's drain returns a room it keeps to service.
  }
}
