import { randomUUID } from 'node:crypto';

import { DEFAULT_ADDRESS_TYPES, resolveEndpointRows, type Endpoint } from '../core/endpoints.js';
import { ordinalOf, type PodView } from '../core/model.js';
import { DEFAULT_RELEASE } from '../core/release.js';
import { isOutdated } from '../core/rollout.js';
import {
  allocatable,
  allocationIdProblem,
  allocationPatch,
  countRooms,
  countsPhrase,
  deallocationPatch,
  holdsAllocation,
  removedByStatefulSet,
  type LastAllocation,
  type RoomCounts,
  type RoomMark,
} from '../core/rooms.js';
import { ExitCode, ExposePodsError, UsageError } from '../errors.js';
import { loadKube, type ResolvedKube } from '../kube/config.js';
import { deletePodExactly, markPod } from '../kube/writes.js';
import {
  MARK_LABELS,
  readAllocationHolders,
  readRoomObjects,
  readPod,
  readRoomSet,
  readUnmarkedRooms,
  roomEndpointOf,
} from '../kube/reader.js';
import { type RoomObjects } from '../kube/views.js';
import type { NodePortScopeWarning } from '../core/nodeport-scope.js';
import { kubeFlagsOf, nodePortScopeWarning, type EndpointsOptions } from './endpoints.js';

/** Options of `allocate`, and of the library's allocate(). */
export interface AllocateOptions extends EndpointsOptions {
  /** Only rooms whose pods these labels also match (kubectl's label selector syntax). */
  selector?: string;
  /** Attached to the allocation (a match id ...), shown with the room; string values. */
  metadata?: Record<string, string>;
  /**
   * The allocation's id (a match id): when a room of the release holds it
   * already, that room is returned and nothing new is allocated, so a retry
   * after a timeout gets the room the first try took. Generated when absent.
   */
  allocationId?: string;
}

/**
 * Options of `deallocate`, and of the library's deallocate(): the allocation
 * by its id (what programs pass), or the room by pod name or ordinal (with an
 * id too: ended only if that room holds it).
 */
export interface DeallocateOptions extends EndpointsOptions {
  /** The room's pod: NAME or pod/NAME. */
  pod?: string;
  ordinal?: number;
  /** End this allocation only: a room that holds another one, or none, is left as it is. */
  allocationId?: string;
}

/** How deallocate ended: the room's row now, and whether it was allocated before. */
export interface Deallocation {
  /** The room's row now; null when deallocating by id found no room holding it. */
  endpoint: Endpoint | null;
  /**
   * This call ended an allocation (with allocationId: that one). False: there
   * was none to end (it had ended already, or the room holds another), and
   * nothing was written.
   */
  wasAllocated: boolean;
  /** The id asked for, when deallocating by id. */
  allocationId?: string;
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

/** The allocation id given, checked (exit 2 when malformed); undefined when none was given. */
export function checkedAllocationId(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  const problem = allocationIdProblem(id);
  if (problem) throw new UsageError(problem, 'For example: --allocation-id m-42');
  return id;
}

/**
 * The --selector given, checked: undefined when empty, exit 2 when it names a
 * label allocate writes itself (an allocation would take its own room out of a
 * retry's selector, and allocate takes only rooms without those marks anyway).
 */
export function checkedSelector(selector: string | undefined): string | undefined {
  const s = selector?.trim();
  if (!s) return undefined;
  const named = MARK_LABELS.filter((l) =>
    new RegExp(`(^|[,!(\\s])${l.replace(/\./g, '\\.')}(?![\\w./-])`).test(s),
  );
  if (named.length)
    throw new UsageError(
      `--selector ${JSON.stringify(s)} names ${named.join(' and ')}, which allocate writes itself: a room's own allocation would change whether it matches (and allocate takes only rooms without those marks anyway)`,
      'Select on labels of your own, for example: --selector region=eu',
    );
  return s;
}

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
export async function allocateRoom(opts: AllocateOptions = {}): Promise<AllocatedRoom> {
  const release = opts.release ?? DEFAULT_RELEASE;
  const given = checkedAllocationId(opts.allocationId);
  const selector = checkedSelector(opts.selector);
  const kube = await loadKube(kubeFlagsOf(opts));
  const addressTypes = [...(opts.addressTypes ?? DEFAULT_ADDRESS_TYPES)];
  if (given !== undefined) {
    const held = await heldRoom(kube, release, given, addressTypes, selector);
    if (held) return { ...held, existing: true };
  }
  // A fresh id is held by no room: no need to look.
  const allocationId = given ?? randomUUID();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const { objects: unmarked, names } = await readUnmarkedRooms(kube, kube.namespace, release, selector);
    let raced = false;
    for (const name of notBeingRemoved(byOrdinalOf(names, unmarked.input.workload), unmarked)) {
      const pod = await readPod(kube, kube.namespace, name, unmarked.endOnRestart);
      // Gone, not Ready, or marked since the list: not a room to take now.
      const marked = pod?.mark?.allocated || pod?.mark?.draining || pod?.mark?.cordoned;
      if (!pod?.ready || pod.terminating || !pod.nodeName || marked) continue;
      const objects = await withEndpointOf(kube, unmarked, pod);
      const row = allocatable(rowsWith(objects, addressTypes)).find((r) => r.pod === pod.name);
      if (!row) continue;
      const won = await writeAllocation(kube, objects, pod, opts.metadata ?? {}, allocationId);
      if (!won) {
        raced = true;
        continue;
      }
      return { ...(await roomOf(kube, objects, addressTypes, won)), existing: false };
    }
    if (raced) continue;
    // No unmarked room: the whole release, read as endpoints reads it, has the rooms whose
    // match a container restart ended (Free, their marks still on), and counts the rooms by state.
    const objects = await readRoomObjects(kube, kube.namespace, release, selector);
    const ended = await takeEnded(kube, objects, addressTypes, opts.metadata ?? {}, allocationId);
    if (ended === 'raced') continue;
    if (ended) return { ...(await roomOf(kube, objects, addressTypes, ended)), existing: false };
    const rows = rowsWith(objects, addressTypes);
    // With a selector, the rooms it left out are not counted.
    const named = new Set(objects.input.pods.map((p) => p.name));
    const counted = selector ? rows.filter((r) => named.has(r.pod)) : rows;
    throw noFreeRoom(release, kube.namespace, countRooms(counted), selector);
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
 * now). The pod as written, 'raced' when one changed meanwhile, undefined when none.
 */
async function takeEnded(
  kube: ResolvedKube,
  objects: RoomObjects,
  addressTypes: string[],
  metadata: Record<string, string>,
  allocationId: string,
): Promise<PodView | 'raced' | undefined> {
  const pods = new Map(objects.input.pods.map((p) => [p.name, p]));
  let raced = false;
  for (const row of allocatable(rowsWith(objects, addressTypes))) {
    const pod = pods.get(row.pod);
    if (!pod?.mark?.ended) continue;
    const won = await writeAllocation(kube, objects, pod, metadata, allocationId);
    if (won) return won;
    raced = true;
  }
  return raced ? 'raced' : undefined;
}

/** What allocateRoom hands out: the room, the address warning, and whether the id held it already. */
export interface AllocatedRoom {
  endpoint: Endpoint;
  scopeWarning?: NodePortScopeWarning;
  /** The allocation id held this room already (a retry): nothing new was allocated. */
  existing: boolean;
}

/** The row of a room (its pod as read or written), and the address warning endpoints would give. */
async function roomOf(
  kube: ResolvedKube,
  objects: RoomObjects,
  addressTypes: string[],
  pod: PodView,
): Promise<Omit<AllocatedRoom, 'existing'>> {
  const endpoint = rowsWith(objects, addressTypes, pod).find((r) => r.pod === pod.name) as Endpoint;
  const nodes = new Map((objects.input.nodes ?? []).map((n) => [n.name, n]));
  return { endpoint, scopeWarning: await nodePortScopeWarning(kube, [endpoint], nodes) };
}

/**
 * The room that holds allocation `id` now, lowest ordinal first (one list of
 * the Allocated rooms, then the pod read whole to be sure), or undefined.
 * With `selector`, one more list once a room holds it, after that read (so the
 * two see the same write): a room the selector leaves out is exit 9.
 */
async function heldRoom(
  kube: ResolvedKube,
  release: string,
  id: string,
  addressTypes: string[],
  selector: string | undefined,
): Promise<Omit<AllocatedRoom, 'existing'> | undefined> {
  const ns = kube.namespace;
  const [set, names] = await Promise.all([
    readRoomSet(kube, ns, release),
    readAllocationHolders(kube, ns, release, id),
  ]);
  let selected: string[] | undefined;
  let outside: string | undefined;
  for (const name of byOrdinalOf(names, set.input.workload)) {
    const pod = await readPod(kube, ns, name, set.endOnRestart);
    if (!pod || !holdsAllocation(pod.mark, id)) continue;
    if (selector) selected ??= await readAllocationHolders(kube, ns, release, id, selector);
    if (selected && !selected.includes(name)) {
      outside ??= name;
      continue;
    }
    return roomOf(kube, await withEndpointOf(kube, set, pod), addressTypes, pod);
  }
  // A second room for the same id would be two rooms for one match: refused, nothing written.
  if (outside) throw heldOutsideSelector(release, ns, id, outside, selector ?? '');
  return undefined;
}

/** Exit 9: the id is a match's, and its room is one the selector of this retry leaves out. */
function heldOutsideSelector(
  release: string,
  namespace: string,
  id: string,
  pod: string,
  selector: string,
): ExposePodsError {
  return new ExposePodsError(
    `allocation ${id} holds ${pod} already, which --selector ${selector} leaves out: one allocation id is one room, so no other room was allocated`,
    ExitCode.CONFLICT,
    `Retry with the selector the allocation was made with, give a new match a new --allocation-id, or end this one first (kubectl expose-pods deallocate ${release} -n ${namespace} --allocation-id ${id}).`,
  );
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
  id: string,
): Promise<PodView | undefined> {
  if (!pod.resourceVersion) return undefined;
  const marks = allocationPatch({
    id,
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

/** How endAllocation ended: the pod now (undefined when gone), and whether this call ended the allocation. */
export interface EndedAllocation {
  pod: PodView | undefined;
  ended: boolean;
  /** Its pod was deleted to be made again on the StatefulSet's update revision (replaceIfOutdated). */
  replaced: boolean;
  /** When ended: the pod's resourceVersion the write was conditioned on (a watch still at it is behind). */
  endedVersion?: string;
  /** The marks removed were those of an allocation a container restart had ended already. */
  leftover?: LastAllocation;
}

/**
/** One room's row as endpoints shows it, from its pod, its per-pod Service and its node (two GETs). */
async function roomRow(
  kube: ResolvedKube,
  set: RoomObjects,
  addressTypes: string[],
  pod: PodView,
): Promise<Endpoint> {
  return rowsWith(await withEndpointOf(kube, set, pod), addressTypes).find(
    (r) => r.pod === pod.name,
  ) as Endpoint;
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
  const rowOf = (p: PodView) => roomRow(kube, set, addressTypes, p);
  return { kube, set, name, readRoom, rowOf };
}

/**
 * The allocation a container restart ended (allocation.endOnRestart) whose
 * marks the room still carries, when it is `id`'s (any, without an id): a
 * deallocate removes those marks, as a live allocation's, and says it had ended.
 */
function leftoverOf(mark: RoomMark | undefined, id: string | undefined): LastAllocation | undefined {
  const ended = mark?.ended;
  return ended && (id === undefined || ended.id === id) ? ended : undefined;
}

/**
 * Ends allocation `id` (without one: whatever allocation) on room `name`:
 * removes the marks allocate wrote, with a write conditioned on the pod's
 * resourceVersion. On a conflict the pod is read again and the id checked
 * again, so a room freed and allocated anew meanwhile keeps its new match.
 * The marks an allocation ended by a container restart left behind are
 * removed the same way (`leftover`). `first` is the pod as just read (else it
 * is read). A room outdated under OnDelete is then replaced
 * (replaceIfOutdated). Nothing is written when the room does not hold the allocation.
 */
export async function endAllocation(
  kube: ResolvedKube,
  set: RoomObjects,
  name: string,
  id: string | undefined,
  first?: PodView,
): Promise<EndedAllocation> {
  const namespace = set.input.namespace;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const pod = round === 0 && first ? first : await readPod(kube, namespace, name, set.endOnRestart);
    const live = holdsAllocation(pod?.mark, id);
    const leftover = live ? undefined : leftoverOf(pod?.mark, id);
    if (!pod?.resourceVersion || (!live && !leftover)) return { pod, ended: false, replaced: false };
    const outcome = await markPod(
      kube,
      namespace,
      { name, resourceVersion: pod.resourceVersion },
      deallocationPatch(set.templateSetsSafeToEvict),
      set.endOnRestart,
    );
    if (outcome.kind === 'gone') return { pod: undefined, ended: false, replaced: false };
    if (outcome.kind === 'written') {
      const replaced = await replaceIfOutdated(kube, set, outcome.pod);
      return {
        pod: replaced ?? outcome.pod,
        ended: live,
        replaced: replaced !== undefined,
        endedVersion: pod.resourceVersion,
        ...(leftover ? { leftover } : {}),
      };
    }
  }
  throw new ExposePodsError(
    `could not deallocate the room ${name}: its pod changed while it was being written, ${MAX_ROUNDS} times`,
    ExitCode.CONFLICT,
    'Run it again.',
  );
}

/**
 * Ends an allocation. By id (what programs pass): the rooms that hold it lose
 * their marks, and a room that holds another allocation, or none, is left as
 * it is: a late or retried deallocate never ends the next match's allocation.
 * By pod or ordinal (a person at a terminal): whatever allocation the room
 * holds, or with an id too, only that one. Every write is conditioned on the
 * pod's resourceVersion and retried on a conflict after checking again. A
 * room that drains stays Draining. Running it again converges. The room must
 * be one of the release's.
 */
export async function deallocate(opts: DeallocateOptions): Promise<Deallocation> {
  const id = checkedAllocationId(opts.allocationId);
  if (opts.pod !== undefined && opts.ordinal !== undefined)
    throw new UsageError('name the room by its pod or by --ordinal, not both');
  if (opts.pod === undefined && opts.ordinal === undefined) {
    if (id === undefined) throw new UsageError('name the allocation (--allocation-id) or the room');
    return deallocateById(opts, id);
  }
  const { kube, set, name, readRoom, rowOf } = await namedRoom(opts);
  const out = await endAllocation(kube, set, name, id, await readRoom());
  // Gone meanwhile: exit 7 as for a room never there (a replacement is read as it is).
  const now = out.pod ?? (await readRoom());
  // Without an id, a Free room left on an older revision (its deallocate replaced nothing before) is replaced too.
  const replaced =
    !out.ended && !out.leftover && id === undefined ? await replaceIfOutdated(kube, set, now) : undefined;
  return {
    endpoint: await rowOf(replaced ?? now),
    wasAllocated: out.ended,
    replaced: out.replaced || replaced !== undefined,
    ...(id === undefined ? {} : { allocationId: id }),
    ...(out.leftover ? { ended: out.leftover } : {}),
  };
}

/** deallocate by id alone: every room that holds it (one, unless two processes made its first allocation at once). */
async function deallocateById(opts: DeallocateOptions, id: string): Promise<Deallocation> {
  const release = opts.release ?? DEFAULT_RELEASE;
  const kube = await loadKube(kubeFlagsOf(opts));
  const addressTypes = [...(opts.addressTypes ?? DEFAULT_ADDRESS_TYPES)];
  const set = await readRoomSet(kube, kube.namespace, release);
  const rowOf = (p: PodView) => roomRow(kube, set, addressTypes, p);
  const names = byOrdinalOf(
    await readAllocationHolders(kube, kube.namespace, release, id),
    set.input.workload,
  );
  const ended = await Promise.all(names.map((n) => endAllocation(kube, set, n, id)));
  const first = ended.find((e) => e.ended && e.pod);
  const leftover = ended.find((e) => e.leftover && e.pod);
  const shown = first ?? leftover;
  return {
    endpoint: shown?.pod ? await rowOf(shown.pod) : null,
    wasAllocated: first !== undefined,
    replaced: shown?.replaced ?? false,
    allocationId: id,
    ...(!first && leftover?.leftover ? { ended: leftover.leftover } : {}),
  };
}
