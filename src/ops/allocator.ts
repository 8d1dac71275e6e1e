import { setTimeout as sleep } from 'node:timers/promises';

import { DEFAULT_ADDRESS_TYPES, resolveEndpointRows, type Endpoint } from '../core/endpoints.js';
import { ordinalOf, type PodView } from '../core/model.js';
import { DEFAULT_RELEASE } from '../core/release.js';
import { allocatable, countRooms } from '../core/rooms.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { loadKube, type ResolvedKube } from '../kube/config.js';
import { ReleaseReflectors } from '../kube/reflector.js';
import { noStatefulSet, releaseReader } from '../kube/reader.js';
import type { RoomObjects } from '../kube/views.js';
import { noFreeRoom, writeAllocation } from './allocate.js';
import { kubeFlagsOf, type EndpointsOptions } from './endpoints.js';
import type { WatchEndpointsOptions } from './endpoints-watch.js';

/** Options of createAllocator: the cluster and release, as for resolveEndpoints. */
export type AllocatorOptions = EndpointsOptions & Pick<WatchEndpointsOptions, 'onNotice' | 'watcher'>;

/** A matchmaker's allocator: allocations from a watched view of the rooms. */
export interface Allocator {
  /** Allocates one Free room, as allocate() does; exit 14 (ExposePodsError) when none is Free. */
  allocate(opts?: { metadata?: Record<string, string> }): Promise<Endpoint>;
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

  constructor(
    private readonly kube: ResolvedKube,
    private readonly watch: ReleaseReflectors,
    private readonly release: string,
    private readonly addressTypes: string[],
  ) {}

  async allocate({ metadata = {} }: { metadata?: Record<string, string> } = {}): Promise<Endpoint> {
    const deadline = Date.now() + CATCH_UP_MS;
    for (;;) {
      const fresh = this.view?.version === this.watch.version;
      const got = await this.take(metadata);
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
  private async take(metadata: Record<string, string>): Promise<Endpoint | 'none' | 'wait'> {
    const { objects, pods, free } = this.current();
    for (const [name, rv] of this.behind)
      if (pods.get(name)?.resourceVersion !== rv) this.behind.delete(name);
    const candidates = free.filter((r) => this.usable(pods.get(r.pod)));
    if (!candidates.length) return this.writing.size || this.behind.size ? 'wait' : 'none';
    for (const row of candidates) {
      const pod = pods.get(row.pod);
      if (!this.usable(pod)) continue;
      this.writing.add(pod.name);
      try {
        const won = await writeAllocation(this.kube, objects, pod, metadata);
        this.behind.set(pod.name, pod.resourceVersion);
        if (won) return rowOf(objects, this.addressTypes, won);
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
