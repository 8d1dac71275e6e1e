import { setTimeout as sleep } from 'node:timers/promises';

import { DEFAULT_ADDRESS_TYPES, resolveEndpointRows, type Endpoint } from '../core/endpoints.js';
import type { PodView } from '../core/model.js';
import { DEFAULT_RELEASE } from '../core/release.js';
import { allocatable, countRooms } from '../core/rooms.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { kubeApis } from '../kube/api.js';
import { loadKube } from '../kube/config.js';
import { noStatefulSet, releaseReader } from '../kube/release-reader.js';
import type { RoomObjects } from '../kube/room-marks.js';
import { noFreeRoom, writeAllocation } from './allocate.js';
import { kubeFlagsOf, type EndpointsOptions } from './endpoints.js';
import { ReleaseReflectors, type WatchEndpointsOptions } from './endpoints-watch.js';

/** Options of createAllocator: the cluster and release, as for resolveEndpoints. */
export type AllocatorOptions = EndpointsOptions & Pick<WatchEndpointsOptions, 'onNotice' | 'watcher'>;

/** A matchmaker's allocator: allocations from a watched view of the rooms. */
export interface Allocator {
  /** Allocates one Free room, as allocate() does; exit 14 (ExposePodsError) when none is Free. */
  allocate(opts?: { metadata?: Record<string, string> }): Promise<Endpoint>;
  /** Stops the watches. */
  close(): void;
}

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
  const addressTypes = [...(opts.addressTypes ?? DEFAULT_ADDRESS_TYPES)];
  const { k8s } = await kubeApis(kube);
  const stop = new AbortController();
  const read = await releaseReader(kube, namespace, release);
  const watch = new ReleaseReflectors(read, opts.watcher ?? new k8s.Watch(kube.kc), namespace, release, opts);
  await watch.list();
  if (!watch.objects()) throw noStatefulSet(release, namespace);
  watch.run(stop.signal);

  // Rooms this process is writing, and rooms whose view is behind: the resourceVersion it
  // had when our write went out (or was refused), skipped until the watch brings a newer one.
  const writing = new Set<string>();
  const behind = new Map<string, string | undefined>();
  const usable = (p: PodView | undefined) =>
    p !== undefined &&
    !writing.has(p.name) &&
    !(behind.has(p.name) && behind.get(p.name) === p.resourceVersion);

  // The view of the rooms, rebuilt only when a watch brought a change.
  let view:
    { version: number; objects: RoomObjects; pods: Map<string, PodView>; free: Endpoint[] } | undefined;
  const current = () => {
    if (view?.version === watch.version) return view;
    const objects = watch.objects();
    if (!objects) throw noStatefulSet(release, namespace);
    const rows = resolveEndpointRows({ ...objects.input, addressTypes });
    view = {
      version: watch.version,
      objects,
      pods: new Map(objects.input.pods.map((p) => [p.name, p])),
      free: allocatable(rows),
    };
    return view;
  };

  const take = async (metadata: Record<string, string>): Promise<Endpoint | 'none' | 'wait'> => {
    const { objects, pods, free } = current();
    for (const [name, rv] of behind) if (pods.get(name)?.resourceVersion !== rv) behind.delete(name);
    const candidates = free.filter((r) => usable(pods.get(r.pod)));
    if (!candidates.length) return writing.size || behind.size ? 'wait' : 'none';
    for (const row of candidates) {
      const pod = pods.get(row.pod);
      if (!pod?.resourceVersion || !usable(pod)) continue;
      writing.add(pod.name);
      try {
        const won = await writeAllocation(kube, objects, pod, metadata);
        behind.set(pod.name, pod.resourceVersion);
        if (won) return rowOf(objects, addressTypes, won);
      } finally {
        writing.delete(pod.name);
      }
    }
    return 'wait';
  };

  return {
    async allocate({ metadata = {} } = {}) {
      const deadline = Date.now() + CATCH_UP_MS;
      for (;;) {
        const got = await take(metadata);
        if (typeof got === 'object') return got;
        const objects = watch.objects();
        if (got === 'none' || Date.now() > deadline || !objects) {
          const rows = objects ? resolveEndpointRows({ ...objects.input, addressTypes }) : [];
          throw noFreeRoom(release, namespace, countRooms(rows));
        }
        await sleep(20);
      }
    },
    close() {
      stop.abort();
    },
  };
}

/** The row of the room just allocated, from the view with that pod as written. */
function rowOf(objects: RoomObjects, addressTypes: string[], won: PodView): Endpoint {
  const pods = objects.input.pods.map((p) => (p.name === won.name ? won : p));
  const row = resolveEndpointRows({ ...objects.input, pods, addressTypes }).find((r) => r.pod === won.name);
  if (!row) throw new ExposePodsError(`allocated ${won.name}, but it has no row`, ExitCode.ERROR);
  return row;
}
