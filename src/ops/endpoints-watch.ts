import { setTimeout as sleep } from 'node:timers/promises';

import type { V1Node, V1Pod, V1Service, V1StatefulSet } from '@kubernetes/client-node';

import { diffEndpoints, type EndpointChange } from '../core/endpoint-changes.js';
import { DEFAULT_ADDRESS_TYPES, resolveEndpointRows, type Endpoint } from '../core/endpoints.js';
import { DEFAULT_RELEASE } from '../core/release.js';
import { kubeApis, releaseSelector } from '../kube/api.js';
import { loadKube } from '../kube/config.js';
import { endpointsInput } from '../kube/endpoint-objects.js';
import { noStatefulSet, releaseReader, type ReleaseReader } from '../kube/release-reader.js';
import { KubeApiError } from '../kube/errors.js';
import { Reflector, type ReflectorOptions, type WatchClient, type Watched } from '../kube/reflector.js';
import { nodeView } from '../kube/views.js';
import { roomObjectsOf, type RoomObjects } from '../kube/room-marks.js';
import { kubeFlagsOf, type EndpointsOptions, type EndpointsReport } from './endpoints.js';

export interface WatchEndpointsOptions extends EndpointsOptions {
  /** Ends the watch. Breaking out of the for-await loop ends it too. */
  signal?: AbortSignal;
  /** Told, as a sentence, when a watch expires, drops, reconnects, or the StatefulSet goes away. */
  onNotice?: (message: string) => void;
  /** Changes arriving within this many milliseconds are reported together. Default 100. */
  settleMs?: number;
  /** Reconnect back-off after a dropped watch. Default 1 s doubling to 30 s. */
  backoffMs?: { first: number; max: number };
  /** For tests: the watch client; default client-node's Watch. */
  watcher?: WatchClient;
}

/** One step of --watch: every row as it is now, and what changed since the previous step. */
export interface EndpointsUpdate extends EndpointsReport {
  changes: EndpointChange[];
}

type Common = Pick<ReflectorOptions<Watched>, 'watcher' | 'onChange' | 'onNotice' | 'backoffMs'>;

/**
 * The release's StatefulSet, pods, per-pod Services and the nodes, each
 * listed (the same lists as every read of the release, kube/release-reader.ts)
 * and then kept current by a watch; and the wake-up their changes share.
 */
export class ReleaseReflectors {
  /** Counts the changes seen: a view built at one version stays true until the next. */
  version = 0;
  private dirty = false;
  private wake: (() => void) | undefined;
  private fatal: Error | undefined;
  private readonly sets: Reflector<V1StatefulSet>;
  private readonly pods: Reflector<V1Pod>;
  private readonly services: Reflector<V1Service>;
  /** Undefined when listing nodes is forbidden: rows then have no node addresses. */
  nodes: Reflector<V1Node> | undefined;

  constructor(
    read: ReleaseReader,
    watcher: WatchClient,
    private readonly namespace: string,
    release: string,
    opts: Pick<WatchEndpointsOptions, 'onNotice' | 'backoffMs'>,
  ) {
    const common: Common = {
      watcher,
      onChange: () => {
        this.poke();
      },
      onNotice: opts.onNotice,
      backoffMs: opts.backoffMs,
    };
    const ns = encodeURIComponent(namespace);
    const ofRelease = <T extends Watched>(
      resource: string,
      group: string,
      component: string,
      list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>,
    ) =>
      new Reflector<T>({
        ...common,
        what: `${resource} in namespace ${namespace}`,
        path: `${group}/namespaces/${ns}/${resource}`,
        labelSelector: releaseSelector(release, component),
        list,
      });
    this.sets = ofRelease('statefulsets', '/apis/apps/v1', 'room', read.statefulSets);
    this.pods = ofRelease('pods', '/api/v1', 'room', read.roomPods);
    this.services = ofRelease('services', '/api/v1', 'pod-service', read.podServices);
    this.nodes = new Reflector<V1Node>({ ...common, what: 'nodes', path: '/api/v1/nodes', list: read.nodes });
  }

  /** The first lists, in parallel; a 403 on nodes only drops the node addresses. */
  async list(): Promise<void> {
    const nodeList = this.nodes?.list().catch((e: unknown) => {
      if (e instanceof KubeApiError && e.httpCode === 403) return 'forbidden' as const;
      throw e;
    });
    const [, , , nodeOutcome] = await Promise.all([
      this.sets.list(),
      this.pods.list(),
      this.services.list(),
      nodeList,
    ]);
    if (nodeOutcome === 'forbidden') this.nodes = undefined;
    this.dirty = false;
  }

  /** Starts the watches; a watch that fails for good ends the next wait with its error. */
  run(signal: AbortSignal): void {
    signal.addEventListener(
      'abort',
      () => {
        this.poke();
      },
      { once: true },
    );
    for (const r of [this.sets, this.pods, this.services, this.nodes]) {
      r?.run(signal).catch((e: unknown) => {
        this.fatal ??= e instanceof Error ? e : new Error(String(e));
        this.poke();
      });
    }
  }

  /** The rows as the reflectors have them now; undefined while the StatefulSet is missing. */
  rows(addressTypes: readonly string[]): Endpoint[] | undefined {
    const input = endpointsInput(
      this.namespace,
      [...this.sets.items.values()],
      [...this.pods.items.values()],
      [...this.services.items.values()],
      this.nodes && [...this.nodes.items.values()].map(nodeView),
    );
    return input && resolveEndpointRows({ ...input, addressTypes });
  }

  /** The objects as the reflectors have them now, as allocate reads them; undefined while the StatefulSet is missing. */
  objects(): RoomObjects | undefined {
    return roomObjectsOf(
      this.namespace,
      [...this.sets.items.values()],
      [...this.pods.items.values()],
      [...this.services.items.values()],
      this.nodes && [...this.nodes.items.values()].map(nodeView),
    );
  }

  /**
   * Waits for a change, then lets a burst of events (a scale, a node going
   * away) settle into one. False once stopped; throws a watch's fatal error.
   */
  async changed(signal: AbortSignal, settleMs: number): Promise<boolean> {
    if (this.stopped(signal)) return false;
    if (!this.dirty) {
      await new Promise<void>((r) => {
        this.wake = r;
      });
    }
    this.wake = undefined;
    if (this.stopped(signal)) return false;
    await sleep(settleMs, undefined, { signal }).catch(() => undefined);
    this.dirty = false;
    return !this.stopped(signal);
  }

  private stopped(signal: AbortSignal): boolean {
    if (this.fatal) throw this.fatal;
    return signal.aborted;
  }

  private poke(): void {
    this.version++;
    this.dirty = true;
    this.wake?.();
  }
}

/**
 * `endpoints --watch`: the same rows as releaseEndpoints, kept current from
 * watches on the StatefulSet, its pods, its per-pod Services and the nodes.
 * The first update has every row as ADDED; later ones carry only what changed.
 * Watches that expire are listed again (410 Gone) and dropped connections are
 * retried, so it runs until the signal aborts; it throws only when the first
 * lists fail or the API server refuses the watch (401, 403).
 */
export async function* watchEndpoints(opts: WatchEndpointsOptions = {}): AsyncGenerator<EndpointsUpdate> {
  const release = opts.release ?? DEFAULT_RELEASE;
  const kube = await loadKube(kubeFlagsOf(opts));
  const namespace = kube.namespace;
  const addressTypes = [...(opts.addressTypes ?? DEFAULT_ADDRESS_TYPES)];
  const { k8s } = await kubeApis(kube);
  const stop = new AbortController();
  const onOuterAbort = () => {
    stop.abort();
  };
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    const read = await releaseReader(kube, namespace, release);
    const watch = new ReleaseReflectors(
      read,
      opts.watcher ?? new k8s.Watch(kube.kc),
      namespace,
      release,
      opts,
    );
    await watch.list();
    const update = (endpoints: Endpoint[], changes: EndpointChange[]): EndpointsUpdate => ({
      schemaVersion: 1,
      release,
      namespace,
      addressTypes,
      nodesVisible: watch.nodes !== undefined,
      endpoints,
      changes,
    });
    let rows = watch.rows(addressTypes);
    if (!rows) throw noStatefulSet(release, namespace);
    yield update(rows, diffEndpoints([], rows));

    watch.run(stop.signal);
    let setPresent = true;
    while (await watch.changed(stop.signal, opts.settleMs ?? 100)) {
      const next = watch.rows(addressTypes);
      if (!next && setPresent) {
        opts.onNotice?.(
          `the StatefulSet of release ${release} is gone from namespace ${namespace}; waiting for it to come back`,
        );
      }
      setPresent = next !== undefined;
      const changes = diffEndpoints(rows, next ?? []);
      rows = next ?? [];
      if (changes.length) yield update(rows, changes);
    }
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
    stop.abort();
  }
}
