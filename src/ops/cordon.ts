/**
 * `cordon` and `uncordon`: one room out of rotation, or back in. A mark of its
 * own (expose-pods.io/cordoned), apart from the Draining mark every scale
 * rewrites, written on the condition of the pod's resourceVersion and
 * retried on a conflict; the room's allocation is never touched.
 */
import type { Endpoint } from '../core/endpoints.js';
import { cordonPatch } from '../core/rooms.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { markPod } from '../kube/writes.js';
import { namedRoom, type DeallocateOptions } from './allocate.js';

/** Options of `cordon` and `uncordon`: the room by pod name or ordinal, as for deallocate. */
export type CordonOptions = DeallocateOptions;

/** The room's row after the write, and whether anything changed (false: it already was). */
export interface CordonResult {
  endpoint: Endpoint;
  changed: boolean;
}

/** How many times the write is tried again when the pod changed meanwhile (its kubelet, an allocator). */
const MAX_ROUNDS = 8;

/**
 * Cordons a room (`cordoned` true: no new match goes there, its current one
 * runs on) or uncordons it. Running it twice converges: a room already so is
 * left as it is (changed false). The room must be one of the release's.
 */
export async function setCordon(opts: CordonOptions, cordoned: boolean): Promise<CordonResult> {
  const { kube, set, name, readRoom, rowOf } = await namedRoom(opts);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const pod = await readRoom();
    if ((pod.mark?.cordoned ?? false) === cordoned) return { endpoint: await rowOf(pod), changed: false };
    const outcome = await markPod(
      kube,
      kube.namespace,
      { name, resourceVersion: pod.resourceVersion },
      cordonPatch(cordoned),
      set.endOnRestart,
    );
    if (outcome.kind === 'written') return { endpoint: await rowOf(outcome.pod), changed: true };
  }
  throw new ExposePodsError(
    `could not ${cordoned ? 'cordon' : 'uncordon'} the room: its pod changed while it was being written, ${MAX_ROUNDS} times`,
    ExitCode.CONFLICT,
    'Run it again.',
  );
}
