/**
 * `cordon` and `uncordon`: one room out of rotation, or back in. A mark of its
 * own (expose-pods.io/cordoned), apart from the Draining mark every scale
 * rewrites, written on the condition of the pod's resourceVersion and
 * retried on a conflict; the room's allocation is never touched.
 */
import { DEFAULT_ADDRESS_TYPES, type Endpoint } from '../core/endpoints.js';
import { ordinalOf } from '../core/model.js';
import { DEFAULT_RELEASE } from '../core/release.js';
import { cordonPatch } from '../core/rooms.js';
import { ExitCode, ExposePodsError, UsageError } from '../errors.js';
import { loadKube } from '../kube/config.js';
import { readPod, readRoomSet } from '../kube/reader.js';
import { markPod } from '../kube/writes.js';
import { podName, rowsWith, withEndpointOf, type DeallocateOptions } from './allocate.js';
import { kubeFlagsOf } from './endpoints.js';

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
  const release = opts.release ?? DEFAULT_RELEASE;
  if ((opts.pod === undefined) === (opts.ordinal === undefined))
    throw new UsageError('name the room by its pod or by --ordinal, not both');
  const kube = await loadKube(kubeFlagsOf(opts));
  const addressTypes = [...(opts.addressTypes ?? DEFAULT_ADDRESS_TYPES)];
  const set = await readRoomSet(kube, kube.namespace, release);
  const { workload } = set.input;
  const name = opts.pod !== undefined ? podName(opts.pod) : `${workload}-${String(opts.ordinal)}`;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const pod =
      ordinalOf(name, workload) === undefined
        ? undefined
        : await readPod(kube, kube.namespace, name, set.endOnRestart);
    if (!pod?.resourceVersion)
      throw new ExposePodsError(
        `release ${release} has no room pod ${name} in namespace ${kube.namespace}`,
        ExitCode.NOT_FOUND,
        `See its rooms with: kubectl expose-pods endpoints ${release} -n ${kube.namespace}`,
      );
    const rowOf = async (p: typeof pod) =>
      rowsWith(await withEndpointOf(kube, set, p), addressTypes).find((r) => r.pod === name) as Endpoint;
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
