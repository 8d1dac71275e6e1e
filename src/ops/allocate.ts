import { DEFAULT_ADDRESS_TYPES, resolveEndpointRows, type Endpoint } from '../core/endpoints.js';
import { ordinalOf, type PodView } from '../core/model.js';
import { DEFAULT_RELEASE } from '../core/release.js';
import { isOutdated } from '../core/rollout.js';
import {
  allocatable,
  allocationPatch,
  countRooms,
  countsPhrase,
  deallocationPatch,
  removedByStatefulSet,
  type LastAllocation,
  type RoomCounts,
} from '../core/rooms.js';
import { ExitCode, ExposePodsError, UsageError } from '../errors.js';
import { loadKube, type ResolvedKube } from '../kube/config.js';
import { deletePodExactly, markPod } from '../kube/writes.js';
import { readRoomObjects, readPod, readRoomSet, readUnmarkedRooms, roomEndpointOf } from '../kube/reader.js';
import { type RoomObjects } from '../kube/views.js';
import type { NodePortScopeWarning } from '../core/nodeport-scope.js';
import { kubeFlagsOf, nodePortScopeWarning, type EndpointsOptions } from './endpoints.js';

/** Options of `allocate`, and of the library's allocate(). */
export interface AllocateOptions extends EndpointsOptions {
  /** Only rooms whose pods these labels also match (kubectl's label selector syntax). */
  selector?: string;
  /** Attached to the allocation (a match id ...), shown with the room; string values. */
  metadata?: Record<string, string>;
}

/** Options of `deallocate`, and of the library's deallocate(): the room by pod name or ordinal. */
export interface DeallocateOptions extends EndpointsOptions {
  /** The room's pod: NAME or pod/NAME. */
  pod?: string;
  ordinal?: number;
}

/** How deallocate ended: the room's row now, and whether it was allocated before. */
export interface Deallocation {
  endpoint: Endpoint;
  wasAllocated: boolean;
  /**
   * The room ran an older revision than its StatefulSet's (a rollout spared it
   * while its match ran): its pod was deleted, and the StatefulSet makes it
   * again on the new revision, at the same Service and port.
   */
  replaced: boolean;
  /** The room's allocation had already ended (a container restart, allocation.endOnRestart): its marks were removed. */
  ended?: LastAllocation;
}

/**
 * How many times allocate reads the rooms again after every pick conflicted.
 * A conflict means another writer changed that pod (another allocator, or its
 * kubelet's status update); each round sees the winners' marks.
 */
const MAX_ROUNDS = 8;

/** Exit 14: nothing to allocate, with the rooms counted by state. */
export function noFreeRoom(
  release: string,
  namespace: string,
  counts: RoomCounts,
  selector?: string,
): ExposePodsError {
  const matching = selector ? ` matching ${selector}` : '';
  return new ExposePodsError(
    `no Free room${matching} in release ${release} (namespace ${namespace}): ${countsPhrase(counts)}`,
    ExitCode.NO_FREE_ROOM,
    `Free one whose match ended (kubectl expose-pods deallocate ${release} -n ${namespace} POD), or add rooms (kubectl expose-pods scale ${release} -n ${namespace} --replicas N).`,
  );
}

/** The rows of the rooms read, with one pod replaced by its state after a write. */
export function rowsWith(objects: RoomObjects, addressTypes: string[], written?: PodView): Endpoint[] {
  const pods = written
    ? objects.input.pods.map((p) => (p.name === written.name ? written : p))
    : objects.input.pods;
  return resolveEndpointRows({ ...objects.input, pods, addressTypes });
}

/**
 * Hands one Free room to a match: marks the lowest Free ordinal Allocated with
 * a write conditioned on the pod's resourceVersion, so that two allocators
 * never get the same room (a 409 moves on to the next room). Returns its
 * endpoint row, state Allocated. Exit 14 when no room is Free.
 */
export async function allocate(opts: AllocateOptions = {}): Promise<Endpoint> {
  return (await allocateRoom(opts)).endpoint;
}

/**
 * allocate, and the warning `endpoints` gives when the address handed out is
 * one kube-proxy's published configuration does not accept NodePorts on.
 */
export async function allocateRoom(
  opts: AllocateOptions = {},
): Promise<{ endpoint: Endpoint; scopeWarning?: NodePortScopeWarning }> {
  const release = opts.release ?? DEFAULT_RELEASE;
  const kube = await loadKube(kubeFlagsOf(opts));
  const addressTypes = [...(opts.addressTypes ?? DEFAULT_ADDRESS_TYPES)];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const { objects: unmarked, names } = await readUnmarkedRooms(
      kube,
      kube.namespace,
      release,
      opts.selector,
    );
    let raced = false;
    for (const name of notBeingRemoved(byOrdinalOf(names, unmarked.input.workload), unmarked)) {
      const pod = await readPod(kube, kube.namespace, name, unmarked.endOnRestart);
      // Gone, not Ready, or marked since the list: not a room to take now.
      const marked = pod?.mark?.allocated || pod?.mark?.draining || pod?.mark?.cordoned;
      if (!pod?.ready || pod.terminating || !pod.nodeName || marked) continue;
      const objects = await withEndpointOf(kube, unmarked, pod);
      const row = allocatable(rowsWith(objects, addressTypes)).find((r) => r.pod === pod.name);
      if (!row) continue;
      const won = await writeAllocation(kube, objects, pod, opts.metadata ?? {});
      if (!won) {
        raced = true;
        continue;
      }
      const endpoint = rowsWith(objects, addressTypes, won).find((r) => r.pod === won.name) as Endpoint;
      const nodes = new Map((objects.input.nodes ?? []).map((n) => [n.name, n]));
      return { endpoint, scopeWarning: await nodePortScopeWarning(kube, [endpoint], nodes) };
    }
    if (raced) continue;
    // No unmarked room: the whole release, read as endpoints reads it, has the rooms whose
    // match a container restart ended (Free, their marks still on), and counts the rooms by state.
    const objects = await readRoomObjects(kube, kube.namespace, release, opts.selector);
    const ended = await takeEnded(kube, objects, addressTypes, opts.metadata ?? {});
    if (ended === 'raced') continue;
    if (ended) {
      const nodes = new Map((objects.input.nodes ?? []).map((n) => [n.name, n]));
      return { endpoint: ended, scopeWarning: await nodePortScopeWarning(kube, [ended], nodes) };
    }
    const rows = rowsWith(objects, addressTypes);
    // With a selector, the rooms it left out are not counted.
    const named = new Set(objects.input.pods.map((p) => p.name));
    const counted = opts.selector ? rows.filter((r) => named.has(r.pod)) : rows;
    throw noFreeRoom(release, kube.namespace, countRooms(counted), opts.selector);
  }
  throw new ExposePodsError(
    `could not allocate a room in release ${release}: every Free room changed while it was being taken, ${MAX_ROUNDS} times`,
    ExitCode.CONFLICT,
    'Many allocators are racing for few rooms; run it again, or add rooms.',
  );
}

/**
 * A room whose allocation a container restart ended (allocation.endOnRestart)
 * is Free, but its marks keep it out of the unmarked rooms allocate lists
 * first: taken from the release read whole, lowest ordinal first, with the
 * same conditional write (its stale marks are overwritten, with the restarts
 * now). Its row, 'raced' when one changed meanwhile, undefined when none.
 */
async function takeEnded(
  kube: ResolvedKube,
  objects: RoomObjects,
  addressTypes: string[],
  metadata: Record<string, string>,
): Promise<Endpoint | 'raced' | undefined> {
  const pods = new Map(objects.input.pods.map((p) => [p.name, p]));
  let raced = false;
  for (const row of allocatable(rowsWith(objects, addressTypes))) {
    const pod = pods.get(row.pod);
    if (!pod?.mark?.ended) continue;
    const won = await writeAllocation(kube, objects, pod, metadata);
    if (won) return rowsWith(objects, addressTypes, won).find((r) => r.pod === won.name);
    raced = true;
  }
  return raced ? 'raced' : undefined;
}

/** The names of a StatefulSet's pods, lowest ordinal first (others left out). */
function byOrdinalOf(names: readonly string[], workload: string): string[] {
  return names
    .map((name) => ({ name, n: ordinalOf(name, workload) }))
    .filter((x): x is { name: string; n: number } => x.n !== undefined)
    .sort((a, b) => a.n - b.n)
    .map((x) => x.name);
}

/** Leaves out the rooms the StatefulSet removes (ordinals at or above its replicas): not worth a GET. */
function notBeingRemoved(names: readonly string[], set: RoomObjects): string[] {
  const { workload, replicas } = set.input;
  return names.filter((n) => !removedByStatefulSet(ordinalOf(n, workload) ?? 0, replicas));
}

/** The objects of one candidate room: its pod, its per-pod Service and its node (two GETs). */
export async function withEndpointOf(
  kube: ResolvedKube,
  objects: RoomObjects,
  pod: PodView,
): Promise<RoomObjects> {
  const found = await roomEndpointOf(kube, objects.input.namespace, pod.name, pod.nodeName ?? '');
  return { ...objects, input: { ...objects.input, pods: [pod], ...found } };
}

/**
 * The allocation of one room: its marks, written on the condition that the
 * pod is still at the resourceVersion it was read at. The pod as written, or
 * undefined when it changed meanwhile (409) or is gone.
 */
export async function writeAllocation(
  kube: ResolvedKube,
  objects: RoomObjects,
  pod: PodView,
  metadata: Record<string, string>,
): Promise<PodView | undefined> {
  if (!pod.resourceVersion) return undefined;
  const marks = allocationPatch({
    now: new Date(),
    restarts: pod.restarts ?? 0,
    metadata,
    markSafeToEvict: objects.markSafeToEvict && !objects.templateSetsSafeToEvict,
  });
  const outcome = await markPod(
    kube,
    objects.input.namespace,
    { name: pod.name, resourceVersion: pod.resourceVersion },
    marks,
    objects.endOnRestart,
  );
  return outcome.kind === 'written' ? outcome.pod : undefined;
}

/**
 * Under OnDelete, a room freed on an older revision than its StatefulSet's is
 * replaced at once: deleted on the condition that it is still the pod and the
 * state just written (a room allocated again meanwhile is left alone), and
 * made again by the StatefulSet on the new revision, at the same Service and
 * port. The pod as deleted (Terminating), or undefined when nothing was deleted.
 */
async function replaceIfOutdated(
  kube: ResolvedKube,
  set: RoomObjects,
  pod: PodView,
): Promise<PodView | undefined> {
  if (set.updateStrategy !== 'OnDelete' || !isOutdated(pod, set.input.updateRevision)) return undefined;
  // A cordoned room is the operator's, held as it is (uncordon, then deallocate or a rollout, replaces it).
  if (pod.mark?.cordoned) return undefined;
  if (!pod.uid || !pod.resourceVersion || pod.terminating) return undefined;
  const outcome = await deletePodExactly(kube, set.input.namespace, {
    name: pod.name,
    uid: pod.uid,
    resourceVersion: pod.resourceVersion,
  });
  return outcome === 'deleted' ? { ...pod, terminating: true, ready: false } : undefined;
}

/** NAME from NAME or pod/NAME (what `-o name` prints). */
export function podName(arg: string): string {
  return arg.startsWith('pod/') ? arg.slice(4) : arg;
}

/**
 * The room `opts` names by its pod or its ordinal (deallocate, cordon): the
 * cluster, the StatefulSet (for the pods' prefix), the pod's name, a read of
 * that one pod (exit 7 when the release has no such room), and its row. The
 * cost does not follow the rooms.
 */
export async function namedRoom(opts: DeallocateOptions) {
  const release = opts.release ?? DEFAULT_RELEASE;
  if ((opts.pod === undefined) === (opts.ordinal === undefined))
    throw new UsageError('name the room by its pod or by --ordinal, not both');
  const kube = await loadKube(kubeFlagsOf(opts));
  const addressTypes = [...(opts.addressTypes ?? DEFAULT_ADDRESS_TYPES)];
  const set = await readRoomSet(kube, kube.namespace, release);
  const { workload } = set.input;
  const name = opts.pod !== undefined ? podName(opts.pod) : `${workload}-${String(opts.ordinal)}`;
  const readRoom = async (): Promise<PodView & { resourceVersion: string }> => {
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
    return { ...pod, resourceVersion: pod.resourceVersion };
  };
  const rowOf = async (p: PodView) =>
    rowsWith(await withEndpointOf(kube, set, p), addressTypes).find((r) => r.pod === name) as Endpoint;
  return { kube, set, name, readRoom, rowOf };
}

/**
 * Ends a room's allocation: removes the Allocated mark (and the annotations
 * allocate wrote), conditioned on the pod's resourceVersion and retried on a
 * conflict. A room that drains stays Draining. A room not allocated is left
 * as it is (running it twice converges). The room must be one of the release's.
 */
export async function deallocate(opts: DeallocateOptions): Promise<Deallocation> {
  const { kube, set, name, readRoom, rowOf } = await namedRoom(opts);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const pod = await readRoom();
    // An allocation a container restart ended leaves marks behind (the PodDisruptionBudget
    // still selects the room): they are removed as a live allocation's are.
    if (!pod.mark?.allocated && !pod.mark?.ended) {
      // A Free room left on an older revision (its deallocate replaced nothing before) is replaced too.
      const replaced = await replaceIfOutdated(kube, set, pod);
      return {
        endpoint: await rowOf(replaced ?? pod),
        wasAllocated: false,
        replaced: replaced !== undefined,
      };
    }
    const outcome = await markPod(
      kube,
      kube.namespace,
      { name, resourceVersion: pod.resourceVersion },
      deallocationPatch(set.templateSetsSafeToEvict),
      set.endOnRestart,
    );
    if (outcome.kind === 'written') {
      const replaced = await replaceIfOutdated(kube, set, outcome.pod);
      return {
        endpoint: await rowOf(replaced ?? outcome.pod),
        wasAllocated: pod.mark.allocated,
        replaced: replaced !== undefined,
        ...(pod.mark.ended ? { ended: pod.mark.ended } : {}),
      };
    }
  }
  throw new ExposePodsError(
    `could not deallocate the room: its pod changed while it was being written, ${MAX_ROUNDS} times`,
    ExitCode.CONFLICT,
    'Run it again.',
  );
}
