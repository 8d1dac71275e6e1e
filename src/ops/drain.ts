import { pollUntil } from '../core/poll.js';
import { drainChanges, drainPatch } from '../core/rooms.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { pollReads } from '../kube/api.js';
import type { ResolvedKube } from '../kube/config.js';
import { markPod } from '../kube/writes.js';
import { readRoomPods } from '../kube/reader.js';

/** How a change treats the rooms in use it would remove. */
export interface SpareRooms {
  /** Remove them anyway (--delete-in-use, confirmed); otherwise wait until they are freed. */
  deleteInUse: boolean;
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
 */
export async function spareRoomsInUse(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  target: number,
  opts: SpareRooms,
): Promise<void> {
  let waitingFor: string[] = [];
  const reads = pollReads(kube);
  const settled = await pollUntil(
    async () => {
      reads.next();
      const { workload, pods, endOnRestart } = await readRoomPods(kube, namespace, release);
      const c = drainChanges(pods, workload, target);
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
      }
      if (raced) return undefined;
      waitingFor = opts.deleteInUse ? [] : c.inUse;
      if (!waitingFor.length) return true;
      opts.onWaiting?.(waitingFor);
      return undefined;
    },
    { timeoutMs: opts.timeoutMs, intervalMs: 1000, signal: opts.signal },
  );
  if (settled) return;
  const named = waitingFor.slice(0, 10).join(', ');
  const more = waitingFor.length > 10 ? ` and ${waitingFor.length - 10} more` : '';
  throw new ExposePodsError(
    `${waitingFor.length} room(s) to be removed are still in use (Allocated): ${named}${more}; nothing was scaled`,
    ExitCode.ROOMS_IN_USE,
    `They stay Draining, so no new match starts there. Free them when their matches end (kubectl expose-pods deallocate ${release} -n ${namespace} POD) and run the same command again, or remove them anyway with --delete-in-use; a scale to the current count returns them to service.`,
  );
}
