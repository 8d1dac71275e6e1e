import type { Endpoint } from './endpoints.js';
import { UNKNOWN_ADDRESS } from './endpoints.js';
import { byOrdinal, type PodView } from './model.js';

/**
 * Rooms in use: whether a match runs in a room, kept on the room's pod. A
 * label marks an allocated room (the chart's PodDisruptionBudget selects it),
 * another a room that takes no new match, and annotations say when it was
 * allocated, how many container restarts the pod had then, and what the
 * caller attached. A container restart keeps them (the players are gone, the
 * mark is not: that is a stale allocation); a replaced pod starts without them.
 */

/** `Allocated` on a room handed to a match; absent otherwise. The PodDisruptionBudget selects it. */
export const STATE_LABEL = 'expose-pods.io/state';
/** `true` on a room that takes no new match (on its way out, or held for maintenance). */
export const DRAINING_LABEL = 'expose-pods.io/draining';
/** `true` on a room taken out of rotation by `cordon`: its match runs on, no new match goes there. */
export const CORDONED_LABEL = 'expose-pods.io/cordoned';
/** The allocation's id (the caller's, or one allocate generated): what deallocate --allocation-id matches. */
export const ALLOCATION_ID_ANNOTATION = 'expose-pods.io/allocation-id';
/** RFC 3339 time of the allocation. */
export const ALLOCATED_AT_ANNOTATION = 'expose-pods.io/allocated-at';
/** The pod's container restarts (summed) when it was allocated: more now means the match is gone. */
export const ALLOCATED_RESTARTS_ANNOTATION = 'expose-pods.io/allocated-restarts';
/** The caller's metadata of the allocation (a match id ...), as a JSON object of strings. */
export const ALLOCATION_METADATA_ANNOTATION = 'expose-pods.io/allocation-metadata';
/** The cluster autoscaler leaves a node alone while a pod on it says "false". */
export const SAFE_TO_EVICT_ANNOTATION = 'cluster-autoscaler.kubernetes.io/safe-to-evict';
/**
 * On the StatefulSet, from the chart's values: "false" when allocate must not
 * write SAFE_TO_EVICT_ANNOTATION on the rooms it allocates.
 */
export const MARK_SAFE_TO_EVICT_ANNOTATION = 'expose-pods.io/mark-safe-to-evict';
/**
 * On the StatefulSet, from the chart's allocation.endOnRestart: "false" when a
 * container restart after an allocation leaves the allocation in place (stale);
 * otherwise (the default) the restart ends it and the room is Free again.
 */
export const END_ON_RESTART_ANNOTATION = 'expose-pods.io/end-on-restart';

export const ALLOCATED = 'Allocated';

/**
 * Free: no match and open to one; Allocated: handed to a match; Draining:
 * takes no new match (on its way out); Cordoned: held out of rotation by
 * `cordon` (no new match until `uncordon`).
 */
export type RoomState = 'Free' | 'Allocated' | 'Draining' | 'Cordoned';

/** An allocation the room ended itself (a container restart after it), in the -o json row. */
export interface LastAllocation {
  id: string | null;
  allocatedAt: string | null;
  /** When the container that restarted stopped (its lastState.terminated.finishedAt), when known. */
  endedAt: string | null;
}

/** What the pod's labels and annotations say of its room. */
export interface RoomMark {
  allocated: boolean;
  draining: boolean;
  /** Taken out of rotation by `cordon` (kept by every scale, unlike draining). */
  cordoned?: boolean;
  /** The allocation's id, when the room holds one. */
  allocationId?: string;
  allocatedAt?: string;
  /** Container restarts when it was allocated. */
  restartsAtAllocation?: number;
  metadata?: Record<string, string>;
  /**
   * The allocation its marks still record, ended by a container restart
   * (allocation.endOnRestart): `allocated` is then false, the room is Free.
   */
  ended?: LastAllocation;
}

/** The allocation of a room, in the -o json row (null for a room not allocated). */
export interface Allocation {
  /** The allocation's id (what deallocate --allocation-id matches); null for a mark written before ids. */
  id: string | null;
  /** When it was allocated (RFC 3339), when known. */
  allocatedAt: string | null;
  /** What the allocator attached (a match id ...). */
  metadata: Record<string, string>;
  /** A container of the pod restarted since: its match is gone, the mark is not. */
  stale: boolean;
}

/** The room's mark, from a pod's labels and annotations (pure: kube/views.ts calls it). */
export function roomMark(
  labels: Readonly<Record<string, string>> = {},
  annotations: Readonly<Record<string, string>> = {},
): RoomMark {
  const mark: RoomMark = {
    allocated: labels[STATE_LABEL] === ALLOCATED,
    draining: labels[DRAINING_LABEL] === 'true',
  };
  if (labels[CORDONED_LABEL] === 'true') mark.cordoned = true;
  const id = annotations[ALLOCATION_ID_ANNOTATION];
  if (id) mark.allocationId = id;
  const at = annotations[ALLOCATED_AT_ANNOTATION];
  if (at) mark.allocatedAt = at;
  const restarts = Number(annotations[ALLOCATED_RESTARTS_ANNOTATION]);
  if (annotations[ALLOCATED_RESTARTS_ANNOTATION] !== undefined && Number.isInteger(restarts))
    mark.restartsAtAllocation = restarts;
  const meta = parseMetadata(annotations[ALLOCATION_METADATA_ANNOTATION]);
  if (meta) mark.metadata = meta;
  return mark;
}

/** A JSON object of strings, or undefined for anything else (a hand-edited annotation is not trusted). */
function parseMetadata(text: string | undefined): Record<string, string> | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (typeof x === 'string') out[k] = x;
    return out;
  } catch {
    return undefined;
  }
}

/**
 * Whether a container restart ended the allocation a mark records: only with
 * endOnRestart, and only when the pod has restarted more than it had when
 * allocated (a mark without that count, hand-written, is never ended).
 */
export function allocationEnded(
  mark: RoomMark | undefined,
  restarts: number | undefined,
  endOnRestart: boolean,
): boolean {
  return (
    endOnRestart &&
    mark?.allocated === true &&
    mark.restartsAtAllocation !== undefined &&
    restarts !== undefined &&
    restarts > mark.restartsAtAllocation
  );
}

/**
 * The mark as every rule reads it (kube/views.ts applies it to each pod): an
 * allocation a container restart ended is no allocation (the room is Free for
 * allocate, scale-down, uninstall and rollout), and is kept as `ended`.
 * `endedAt`: when the container that restarted last stopped, when known; a
 * stop before the allocation ended nothing (the restarts are counted as the
 * allocation's own).
 */
export function settledMark(
  mark: RoomMark,
  restarts: number | undefined,
  endOnRestart: boolean,
  endedAt: string | null = null,
): RoomMark {
  if (!allocationEnded(mark, restarts, endOnRestart)) return mark;
  const { allocationId, allocatedAt } = mark;
  // A termination before the allocation is not the one that ended it (the kubelet's times have
  // whole seconds, the allocation's milliseconds: the same second counts as after).
  const allocatedSecond = allocatedAt ? Math.floor(Date.parse(allocatedAt) / 1000) * 1000 : NaN;
  // The last termination came before the allocation (the container exited, allocate wrote before the
  // kubelet reported it): every restart counted since was before it, and the match runs on.
  if (endedAt !== null && Date.parse(endedAt) < allocatedSecond)
    return { ...mark, restartsAtAllocation: restarts };
  const after = endedAt !== null;
  return {
    ...mark,
    allocated: false,
    ended: { id: allocationId ?? null, allocatedAt: allocatedAt ?? null, endedAt: after ? endedAt : null },
  };
}

/**
 * The state a mark shows: an allocated room stays Allocated while it drains
 * or is cordoned (its match runs on); a room on its way out is Draining
 * rather than Cordoned.
 */
export function roomState(mark: RoomMark | undefined): RoomState {
  if (mark?.allocated) return 'Allocated';
  if (mark?.draining) return 'Draining';
  if (mark?.cordoned) return 'Cordoned';
  return 'Free';
}

/**
 * The StatefulSet is removing this room already, whatever its marks say: its
 * ordinal is at or above spec.replicas (lowered by `kubectl scale` or an HPA:
 * the controller deletes it next). No match may start there. (A Terminating
 * pod is going too; its status, Terminating, keeps it from a match.)
 */
export function removedByStatefulSet(ordinal: number, replicas: number): boolean {
  return ordinal >= replicas;
}

/**
 * The state a row shows: none (null) without a pod, since a Service beyond the
 * replicas is no room; Draining for a room above the StatefulSet's replicas that
 * its marks call Free (allocate skips it, countRooms counts it Draining); the
 * marks' state otherwise. A Terminating pod keeps its marks' state: its status
 * (Terminating) already keeps it from a match, and a room replaced (deallocate
 * on an older revision, recover) comes back at the same ordinal, Free.
 */
export function shownState(
  marked: RoomState,
  hasPod: boolean,
  ordinal: number,
  replicas: number,
): RoomState | null {
  if (!hasPod) return null;
  if (marked === 'Free' && removedByStatefulSet(ordinal, replicas)) return 'Draining';
  return marked;
}

/** The row's allocation, or null; stale when the pod restarted a container since it was allocated. */
export function allocationOf(mark: RoomMark | undefined, restarts: number | undefined): Allocation | null {
  if (!mark?.allocated) return null;
  return {
    id: mark.allocationId ?? null,
    allocatedAt: mark.allocatedAt ?? null,
    metadata: mark.metadata ?? {},
    stale:
      mark.restartsAtAllocation !== undefined &&
      restarts !== undefined &&
      restarts > mark.restartsAtAllocation,
  };
}

/**
 * Rows a match may be given, lowest ordinal first (a StatefulSet removes its
 * highest ordinals first, so a scale-down rarely meets a room in use): Free,
 * Ready, on the StatefulSet's update revision (a new match always starts on
 * the new build; the rollout replaces the old rooms), with a port, and with
 * an address of a wanted type.
 */
export function allocatable(rows: readonly Endpoint[]): Endpoint[] {
  return rows
    .filter(
      (r) =>
        r.state === 'Free' &&
        r.status === 'Ready' &&
        !r.outdated &&
        r.port !== null &&
        r.address !== null &&
        r.address !== UNKNOWN_ADDRESS,
    )
    .sort((a, b) => a.ordinal - b.ordinal);
}

/** Rooms per state: Free counts only rooms a match could be given now; the others not Ready are unavailable. */
export interface RoomCounts {
  free: number;
  allocated: number;
  draining: number;
  /** Held out of rotation by `cordon`, not allocated (a cordoned room in use counts as Allocated). */
  cordoned: number;
  /** Not allocated nor draining nor cordoned, but not allocatable either (not Ready, no Service, no address). */
  unavailable: number;
  /** Allocated rooms whose container restarted since. */
  stale: number;
  /** Of the unavailable, Free rooms on an older revision: the rollout replaces them, allocate skips them. */
  outdated: number;
}

/** The rooms of the rows, by state (rows without a pod are not rooms). */
export function countRooms(rows: readonly Endpoint[]): RoomCounts {
  const free = new Set(allocatable(rows).map((r) => r.ordinal));
  const counts: RoomCounts = {
    free: 0,
    allocated: 0,
    draining: 0,
    cordoned: 0,
    unavailable: 0,
    stale: 0,
    outdated: 0,
  };
  for (const r of rows) {
    if (r.state === 'Allocated') {
      counts.allocated++;
      if (r.allocation?.stale) counts.stale++;
    } else if (r.state === 'Draining') counts.draining++;
    else if (r.state === 'Cordoned') counts.cordoned++;
    else if (free.has(r.ordinal)) counts.free++;
    // A Service beyond the replicas reserves a port; it is not a room.
    else if (r.status !== 'NoPod') {
      counts.unavailable++;
      if (r.outdated) counts.outdated++;
    }
  }
  return counts;
}

/** "10 rooms: 8 Allocated, 1 Draining, 1 not ready to take a match": the counts in one phrase. */
export function countsPhrase(c: RoomCounts): string {
  const total = c.free + c.allocated + c.draining + c.cordoned + c.unavailable;
  const parts = [
    c.free ? `${c.free} Free` : '',
    c.allocated ? `${c.allocated} Allocated${c.stale ? ` (${c.stale} stale)` : ''}` : '',
    c.draining ? `${c.draining} Draining` : '',
    c.cordoned ? `${c.cordoned} Cordoned` : '',
    c.unavailable
      ? `${c.unavailable} not ready to take a match${c.outdated ? ` (${c.outdated} on an older revision, waiting for the rollout)` : ''}`
      : '',
  ].filter(Boolean);
  return `${total} room${total === 1 ? '' : 's'}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

/** The labels and annotations an allocation writes (a JSON merge patch of metadata). */
export function allocationPatch(opts: {
  /** The allocation's id (validated: allocationIdProblem). */
  id: string;
  now: Date;
  restarts: number;
  metadata: Readonly<Record<string, string>>;
  /** Write safe-to-evict "false" (the chart's value, and the pod does not set it itself). */
  markSafeToEvict: boolean;
}): { labels: Record<string, string>; annotations: Record<string, string> } {
  const annotations: Record<string, string> = {
    [ALLOCATION_ID_ANNOTATION]: opts.id,
    [ALLOCATED_AT_ANNOTATION]: opts.now.toISOString(),
    [ALLOCATED_RESTARTS_ANNOTATION]: String(opts.restarts),
    [ALLOCATION_METADATA_ANNOTATION]: JSON.stringify(opts.metadata),
  };
  if (opts.markSafeToEvict) annotations[SAFE_TO_EVICT_ANNOTATION] = 'false';
  return { labels: { [STATE_LABEL]: ALLOCATED }, annotations };
}

/**
 * What deallocate removes (null deletes a key in a merge patch). safe-to-evict
 * goes only when allocate wrote it: not when the pod template sets it.
 */
export function deallocationPatch(templateSetsSafeToEvict: boolean): {
  labels: Record<string, null>;
  annotations: Record<string, null>;
} {
  const annotations: Record<string, null> = {
    [ALLOCATION_ID_ANNOTATION]: null,
    [ALLOCATED_AT_ANNOTATION]: null,
    [ALLOCATED_RESTARTS_ANNOTATION]: null,
    [ALLOCATION_METADATA_ANNOTATION]: null,
  };
  if (!templateSetsSafeToEvict) annotations[SAFE_TO_EVICT_ANNOTATION] = null;
  return { labels: { [STATE_LABEL]: null }, annotations };
}

/**
 * Whether a room's mark is allocation `id`'s: Allocated and carrying that id.
 * Without an id (a person at a terminal), any allocation.
 */
export function holdsAllocation(mark: RoomMark | undefined, id: string | undefined): boolean {
  if (!mark?.allocated) return false;
  return id === undefined || mark.allocationId === id;
}

/** The longest allocation id: a UUID is 36, a matchmaker's match id rarely more than 64. */
export const MAX_ALLOCATION_ID = 128;
// Letters and digits first, then also "-", "_", ".", ":": safe in a shell, a URL and a label value's charset.
const ALLOCATION_ID = new RegExp(`^[A-Za-z0-9][-A-Za-z0-9_.:]{0,${String(MAX_ALLOCATION_ID - 1)}}$`);

/** What is wrong with an allocation id (--allocation-id, or the library's allocationId); undefined when it is fine. */
export function allocationIdProblem(id: string): string | undefined {
  if (ALLOCATION_ID.test(id)) return undefined;
  return `--allocation-id ${JSON.stringify(id)}: use 1 to ${String(MAX_ALLOCATION_ID)} letters, digits, "-", "_", "." or ":", starting with a letter or digit (a match id, or a UUID)`;
}

// Kubernetes' rule for the name part of a label or annotation key, used for metadata keys too.
const META_KEY = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** Parses --meta KEY=VALUE pairs; a string saying what is wrong otherwise. */
export function parseMetadataFlags(pairs: readonly string[]): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    const key = eq < 0 ? p : p.slice(0, eq);
    if (eq < 0 || !META_KEY.test(key))
      return `--meta ${p}: use KEY=VALUE, with a KEY of letters, digits, "-", "_" and "." (at most 63)`;
    out[key] = p.slice(eq + 1);
  }
  return out;
}

/** An age as kubectl shows it: 45s, 12m, 3h, 2d (negative clocks read 0s). */
export function shortAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** "removes 2 room(s) in use (Allocated): web-9, web-8", naming at most five. */
export function inUsePhrase(
  pods: readonly string[],
  verb: 'removes' | 'restarts' | 'removes the Service of' | 'force-deletes' = 'removes',
): string {
  const named = pods.slice(0, 5).join(', ');
  const more = pods.length > 5 ? ` and ${pods.length - 5} more` : '';
  return `${verb} ${pods.length} room(s) in use (Allocated): ${named}${more}`;
}

/** What a change to `target` replicas writes on the live room pods first, and what it must wait for. */
export interface DrainChanges {
  /** Pods it removes that are not marked Draining yet: they take no new match from now on. */
  drain: PodView[];
  /** Pods it keeps that an earlier, unfinished scale-down marked Draining: back in service. */
  undrain: PodView[];
  /** Pods it removes that are Allocated, highest ordinal first (not those the StatefulSet removes already). */
  inUse: string[];
  /**
   * Ordinals it removes that the StatefulSet still keeps, whose pod is gone or
   * Terminating (evicted, deleted): a replacement comes back unmarked, to be
   * marked before the replicas change. Not one stuck on a lost node (none comes
   * until someone acts), nor one the controller cannot make yet (a lower room not Ready under OrderedReady).
   */
  replacing: string[];
}

/** What the drain knows of the StatefulSet now: its live spec.replicas, and the Ready nodes (undefined when unknown). */
export interface DrainLive {
  replicas: number;
  readyNodes?: ReadonlySet<string>;
}

/**
 * Before a StatefulSet goes to `target` replicas: its pods from `target` up
 * (removed, highest first) are marked Draining, so no match starts there, and
 * those still Allocated are waited for. Pods below `target` lose a Draining
 * mark that a scale-down which did not finish left behind. Terminating pods are gone already.
 */
export function drainChanges(
  pods: readonly PodView[],
  workload: string,
  target: number,
  now?: DrainLive,
): DrainChanges {
  const live = [
    ...byOrdinal(
      pods.filter((p) => !p.terminating),
      workload,
    ),
  ].sort(([a], [b]) => b - a);
  const removed = live.filter(([n]) => n >= target);
  const waited = removed.filter(([n]) => !now || !removedByStatefulSet(n, now.replicas));
  return {
    drain: removed.map(([, p]) => p).filter((p) => !p.mark?.draining),
    undrain: live.filter(([n, p]) => n < target && p.mark?.draining).map(([, p]) => p),
    inUse: waited.filter(([, p]) => p.mark?.allocated).map(([, p]) => p.name),
    replacing: now ? awaitedReplacements(pods, workload, target, now) : [],
  };
}

/** DrainChanges.replacing: ordinals target..replicas-1 without a live pod whose replacement is on its way. */
function awaitedReplacements(
  pods: readonly PodView[],
  workload: string,
  target: number,
  now: DrainLive,
): string[] {
  const all = byOrdinal(pods, workload);
  const live = byOrdinal(
    pods.filter((p) => !p.terminating),
    workload,
  );
  const out: string[] = [];
  for (let n = target; n < now.replicas; n++) {
    if (live.has(n)) continue;
    const going = all.get(n);
    // Terminating on a node that is not Ready: stuck there until recover; no replacement comes.
    if (going?.nodeName && now.readyNodes && !now.readyNodes.has(going.nodeName)) continue;
    // Under OrderedReady the controller makes it only once every lower room is Ready.
    if ([...live].every(([m, p]) => m > n || p.ready)) out.push(`${workload}-${n}`);
  }
  return out;
}

/** The label write that cordons a room (no new match), or uncordons it; nothing else is touched. */
export function cordonPatch(cordoned: boolean): {
  labels: Record<string, string | null>;
  annotations: Record<string, string | null>;
} {
  return { labels: { [CORDONED_LABEL]: cordoned ? 'true' : null }, annotations: {} };
}

/** The label write that marks a room Draining, or returns it to service. */
export function drainPatch(draining: boolean): {
  labels: Record<string, string | null>;
  annotations: Record<string, string | null>;
} {
  return { labels: { [DRAINING_LABEL]: draining ? 'true' : null }, annotations: {} };
}

/**
 * The rooms in use now that were not in use (so not named, nor confirmed)
 * when a command that removes every room asked: allocated while it asked.
 */
export function allocatedMeanwhile(confirmed: readonly string[], now: readonly string[]): string[] {
  const named = new Set(confirmed);
  return now.filter((p) => !named.has(p));
}
