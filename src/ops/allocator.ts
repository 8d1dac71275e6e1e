import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { DEFAULT_ADDRESS_TYPES, resolveEndpointRows, type Endpoint } from '../core/endpoints.js';
import { ordinalOf, type PodView } from '../core/model.js';
import { DEFAULT_RELEASE } from '../core/release.js';
import { allocatable, countRooms, holdsAllocation } from '../core/rooms.js';
import { ExitCode, ExposePodsError, UsageError } from '../errors.js';
import { loadKube, type ResolvedKube } from '../kube/config.js';
import { ReleaseReflectors } from '../kube/reflector.js';
import { noStatefulSet, readAllocationHolders, readPod, releaseReader } from '../kube/reader.js';
import type { RoomObjects } from '../kube/views.js';
import {
  checkedAllocationId,
  endAllocation,
  noFreeRoom,
  writeAllocation,
  type AllocateOptions,
  type Deallocation,
} from './allocate.js';
import { kubeFlagsOf, type EndpointsOptions } from './endpoints.js';
import type { WatchEndpointsOptions } from './endpoints-watch.js';

/** Options of createAllocator: the cluster and release, as for resolveEndpoints. */
export type AllocatorOptions = EndpointsOptions & Pick<WatchEndpointsOptions, 'onNotice' | 'watcher'>;

/** What one allocation of an Allocator takes: allocate()'s metadata and allocationId. */
export type AllocatorCall = Pick<AllocateOptions, 'metadata' | 'allocationId'>;

/** A matchmaker's allocator: allocations from a watched view of the rooms. */
export interface Allocator {
  /**
   * Allocates one Free room, as allocate() does; exit 14 (ExposePodsError) when none is Free.
   * With an allocationId a room holds already, that room (nothing new is allocated).
   */
  allocate(opts?: AllocatorCall): Promise<Endpoint>;
  /**
   * Ends an allocation, by its id or by the row allocate() returned (its allocation.id), as
   * deallocate({ allocationId }) does: a room that holds another allocation, or none, is left alone.
   */
  deallocate(allocation: string | Endpoint): Promise<Deallocation>;
  /** Stops the watches. */
  close(): void;
}

/**
 * At most one rebuild of the view of the rooms in this many milliseconds, while allocations go
 * well (at 1000 rooms: 41.6 allocations a second at 100 ms, 60.3 at 1000 ms; bench/RESULTS.md).
 * A room freed elsewhere is seen a little later; a room taken elsewhere is refused by its
 * resourceVersion; no answer of "no room Free" comes from a view older than the watches.
 */
const VIEW_MS = 1000;

/** How long an allocation waits for the watches to catch up with writes before it says no room is Free. */
const CATCH_UP_MS = 5_000;

/**
 * An allocator for programs that allocate often (a matchmaker): the rooms are
 * listed once and then kept current by watches, as endpoints --watch does, so
 * an allocation is one conditional write instead of four lists. The write
 * carries the resourceVersion the watch last saw, so the API server still
 * refuses it (409) when another allocator got there first; concurrent calls
 * in one process never pick the same room. Call close() when done.
 */
export async function createAllocator(opts: AllocatorOptions = {}): Promise<Allocator> {
  const release = opts.release ?? DEFAULT_RELEASE;
  const kube = await loadKube(kubeFlagsOf(opts));
  const namespace = kube.namespace;
  const read = await releaseReader(kube, namespace, release, { fresh: true });
  const watch = await ReleaseReflectors.open(kube, read, release, opts);
  await watch.list();
  if (!watch.objects()) throw noStatefulSet(release, namespace);
  const allocator = new WatchedAllocator(kube, watch, release, [
    ...(opts.addressTypes ?? DEFAULT_ADDRESS_TYPES),
  ]);
  watch.run(allocator.stop.signal);
  return allocator;
}

/** A view of the rooms at one moment: what an allocation picks from. */
interface RoomsView {
  version: number;
  at: number;
  objects: RoomObjects;
  pods: Map<string, PodView>;
  free: Endpoint[];
}

/** createAllocator's allocator: picks from the watched rooms, writes with their resourceVersion. */
class WatchedAllocator implements Allocator {
  readonly stop = new AbortController();
  /** Rooms this process is writing now. */
  private readonly writing = new Set<string>();
  /**
   * Rooms whose view is behind: the resourceVersion the view had when our write went out
   * (or was refused), skipped until a watch brings a newer one.
   */
  private readonly behind = new Map<string, string | undefined>();
  private view: RoomsView | undefined;
  private stale = false;
  /** Allocations and deallocations in flight, by allocation id: one id's calls run one after the other. */
  private readonly pending = new Map<string, Promise<unknown>>();
  /**
   * Ids this process wrote (or tried to: a write whose answer was lost may have landed) on a room,
   * with the room's resourceVersion before the write and the pod as written: until the watch
   * shows that pod newer, the pod as written answers, or the API server when the answer was lost.
   */
  private readonly owned = new Map<string, { name: string; before: string | undefined; written?: PodView }>();
  /** Rooms this process deallocated, at the resourceVersion it ended: a watch still there is behind. */
  private readonly freed = new Map<string, string>();

  constructor(
    private readonly kube: ResolvedKube,
    private readonly watch: ReleaseReflectors,
    private readonly release: string,
    private readonly addressTypes: string[],
  ) {}

  async allocate({ metadata = {}, allocationId }: AllocatorCall = {}): Promise<Endpoint> {
    const given = checkedAllocationId(allocationId);
    const id = given ?? randomUUID();
    return this.serial(id, async () => {
      const held = given === undefined ? undefined : await this.held(id);
      return held ? rowOf(this.current().objects, this.addressTypes, held) : this.allocateNew(id, metadata);
    });
  }

  async deallocate(allocation: string | Endpoint): Promise<Deallocation> {
    const given = typeof allocation === 'string' ? allocation : allocation.allocation?.id;
    if (!given)
      throw new UsageError(
        `${typeof allocation === 'string' ? 'the allocation id is empty' : `${allocation.pod} holds no allocation with an id`}: nothing to deallocate by id`,
        'Pass the id allocate() was given or returned (row.allocation.id).',
      );
    const id = checkedAllocationId(given) as string;
    return this.serial(id, async () => {
      const { objects } = this.current();
      let names = this.holderNames(id);
      // The watch shows no room with it: it may lag behind another process's allocation, so list.
      if (!names.length)
        names = await readAllocationHolders(this.kube, this.kube.namespace, this.release, id);
      let first: Deallocation | undefined;
      for (const name of names) {
        const known = this.latest(name, id);
        // A pod that holds it as far as we know goes first (a 409 if it changed); else it is read.
        const hint = holdsAllocation(known?.mark, id) ? known : undefined;
        const out = await endAllocation(this.kube, objects, name, id, hint);
        if (!out.ended || !out.pod) continue;
        if (out.endedVersion) this.freed.set(name, out.endedVersion);
        first ??= {
          endpoint: rowOf(objects, this.addressTypes, out.pod),
          wasAllocated: true,
          replaced: out.replaced,
          allocationId: id,
        };
      }
      this.owned.delete(id);
      return first ?? { endpoint: null, wasAllocated: false, replaced: false, allocationId: id };
    });
  }

  /** Runs `fn` once no other call for allocation `id` is in flight. */
  private async serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    for (let p = this.pending.get(id); p; p = this.pending.get(id)) await p.catch(() => undefined);
    const run = fn();
    this.pending.set(id, run);
    try {
      return await run;
    } finally {
      if (this.pending.get(id) === run) this.pending.delete(id);
    }
  }

  /**
   * The rooms that may hold allocation `id`: those the watch shows with it (unless this process
   * deallocated them since), and the one this process wrote it on.
   */
  private holderNames(id: string): string[] {
    const names = this.watch
      .holders(id)
      .filter((n) => this.freed.get(n) !== this.watch.pod(n)?.resourceVersion);
    const mine = this.owned.get(id);
    if (mine && !names.includes(mine.name)) names.push(mine.name);
    return names;
  }

  /**
   * The room that holds allocation `id`, as the watch shows it; for the room this process wrote
   * it on, while the watch has not shown that pod since, as the API server has it (a write whose
   * answer was lost, a timeout, may have landed). Undefined when none does.
   */
  private async held(id: string): Promise<PodView | undefined> {
    for (const name of this.holderNames(id)) {
      const pod =
        this.latest(name, id) ??
        (await readPod(this.kube, this.kube.namespace, name, this.view?.objects.endOnRestart ?? true));
      if (holdsAllocation(pod?.mark, id)) return pod;
    }
    this.owned.delete(id);
    return undefined;
  }

  /**
   * Room `name` as this process knows it best: as the watch shows it, or, while the watch is
   * still at the version this process's write of allocation `id` went out on, as written;
   * undefined when that write's answer was lost (only the API server knows).
   */
  private latest(name: string, id: string): PodView | undefined {
    const seen = this.watch.pod(name);
    const mine = this.owned.get(id);
    if (mine?.name === name && seen?.resourceVersion === mine.before) return mine.written;
    return seen;
  }

  /** A new allocation with id `id`: the lowest Free room of the view this process can take. */
  private async allocateNew(id: string, metadata: Record<string, string>): Promise<Endpoint> {
    const deadline = Date.now() + CATCH_UP_MS;
    for (;;) {
      const fresh = this.view?.version === this.watch.version;
      const got = await this.take(metadata, id);
      if (typeof got === 'object') return got;
      // Nothing usable in this view: the next try rebuilds it from what the watches have.
      this.stale = true;
      const objects = this.watch.objects();
      if ((got === 'none' && fresh) || Date.now() > deadline || !objects) {
        const rows = objects
          ? resolveEndpointRows({ ...objects.input, addressTypes: this.addressTypes })
          : [];
        throw noFreeRoom(this.release, this.kube.namespace, countRooms(rows));
      }
      await sleep(20);
    }
  }

  close(): void {
    this.stop.abort();
  }

  /**
   * The view, rebuilt when a watch brought a change, at most every VIEW_MS while
   * allocations go well: between two rebuilds, `writing` and `behind` keep this
   * process's own picks apart, and a room another process took since is refused
   * by its resourceVersion.
   */
  private current(): RoomsView {
    const v = this.view;
    if (v && (v.version === this.watch.version || (!this.stale && Date.now() - v.at < VIEW_MS))) return v;
    this.stale = false;
    const objects = this.watch.objects();
    if (!objects) throw noStatefulSet(this.release, this.kube.namespace);
    // Once the watch shows a pod newer than our write to it, the watch answers for it.
    for (const [id, { name, before }] of this.owned)
      if (this.watch.pod(name)?.resourceVersion !== before) this.owned.delete(id);
    for (const [name, rv] of this.freed)
      if (this.watch.pod(name)?.resourceVersion !== rv) this.freed.delete(name);
    const rows = resolveEndpointRows({ ...objects.input, addressTypes: this.addressTypes });
    this.view = {
      version: this.watch.version,
      at: Date.now(),
      objects,
      pods: new Map(objects.input.pods.map((p) => [p.name, p])),
      free: allocatable(rows),
    };
    return this.view;
  }

  private usable(p: PodView | undefined): p is PodView {
    return (
      p?.resourceVersion !== undefined &&
      !this.writing.has(p.name) &&
      !(this.behind.has(p.name) && this.behind.get(p.name) === p.resourceVersion)
    );
  }

  /** One try: the room won, 'none' when the view has no Free room, 'wait' when ours are in flight or behind. */
  private async take(metadata: Record<string, string>, id: string): Promise<Endpoint | 'none' | 'wait'> {
    const { objects, pods, free } = this.current();
    for (const [name, rv] of this.behind)
      if (pods.get(name)?.resourceVersion !== rv) this.behind.delete(name);
    const candidates = free.filter((r) => this.usable(pods.get(r.pod)));
    if (!candidates.length) return this.writing.size || this.behind.size ? 'wait' : 'none';
    for (const row of candidates) {
      const pod = pods.get(row.pod);
      if (!this.usable(pod)) continue;
      this.writing.add(pod.name);
      // Kept when the write throws: its answer may be lost while it landed (held() asks).
      this.owned.set(id, { name: pod.name, before: pod.resourceVersion });
      try {
        const won = await writeAllocation(this.kube, objects, pod, metadata, id);
        this.behind.set(pod.name, pod.resourceVersion);
        if (won) {
          this.owned.set(id, { name: pod.name, before: pod.resourceVersion, written: won });
          return rowOf(objects, this.addressTypes, won);
        }
        this.owned.delete(id);
      } finally {
        this.writing.delete(pod.name);
      }
    }
    return 'wait';
  }
}

/** The row of the room just allocated, from the view with that pod as written. */
function rowOf(objects: RoomObjects, addressTypes: string[], won: PodView): Endpoint {
  // Its own pod and Service are all its row depends on; rows stop at its ordinal.
  const services = objects.input.services.filter((v) => v.selectsPod === won.name);
  const replicas = (ordinalOf(won.name, objects.input.workload) ?? 0) + 1;
  const row = resolveEndpointRows({ ...objects.input, replicas, pods: [won], services, addressTypes }).find(
    (r) => r.pod === won.name,
  );
  if (!row) throw new ExposePodsError(`allocated ${won.name}, but it has no row`, ExitCode.ERROR);
  return row;
}
