import { setTimeout as sleep } from 'node:timers/promises';

import type { V1Node, V1Pod, V1Service, V1StatefulSet } from '@kubernetes/client-node';

import { diffEndpoints, type EndpointChange } from '../core/endpoint-changes.js';
import { DEFAULT_ADDRESS_TYPES, resolveEndpointRows, type Endpoint } from '../core/endpoints.js';
import { DEFAULT_RELEASE } from '../core/release.js';
import { kubeApis, releaseSelector } from '../kube/api.js';
import { loadKube } from '../kube/config.js';
import { endpointsInput } from '../kube/endpoint-objects.js';
import { noStatefulSet, releaseReader } from '../kube/release-reader.js';
import { KubeApiError } from '../kube/errors.js';
import { Reflector, type WatchClient, type Watched } from '../kube/reflector.js';
import { nodeView } from '../kube/views.js';
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

/**
 * `endpoints --watch`: the same rows as releaseEndpoints, kept current from
 * watches on the StatefulSet, its pods, its per-pod Services and the nodes.
 * The first update has every row as ADDED; later ones carry only what changed.
 * Watches that expire are listed again (410 Gone) and dropped connections are
 * retried, so it runs until the signal aborts; it throws only when the first
 * lists fail or the API server refuses the watch (401, 403).
 */
// eslint-disable-next-line max-lines-per-function -- still to be split (issue 17)
export async function* watchEndpoints(opts: WatchEndpointsOptions = {}): AsyncGenerator<EndpointsUpdate> {
  const release = opts.release ?? DEFAULT_RELEASE;
  const kube = await loadKube(kubeFlagsOf(opts));
  const namespace = kube.namespace;
  const addressTypes = [...(opts.addressTypes ?? DEFAULT_ADDRESS_TYPES)];
  const { k8s } = await kubeApis(kube);
  const watcher = opts.watcher ?? new k8s.Watch(kube.kc);
  const stop = new AbortController();
  const onOuterAbort = () => {
    stop.abort();
  };
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });

  // Set by the reflectors' callbacks, read by the loop below.
  const state: { dirty: boolean; wake?: () => void; fatal?: Error } = { dirty: false };
  const poke = () => {
    state.dirty = true;
    state.wake?.();
  };
  // Read through calls: the reflectors' callbacks change state between awaits.
  const isDirty = (): boolean => state.dirty;
  const check = () => {
    if (state.fatal) throw state.fatal;
    return stop.signal.aborted;
  };
  stop.signal.addEventListener('abort', poke, { once: true });
  const common = { watcher, onChange: poke, onNotice: opts.onNotice, backoffMs: opts.backoffMs };
  const where = `in namespace ${namespace}`;
  const ns = encodeURIComponent(namespace);

  // The same lists as every read of the release (kube/release-reader.ts), each then kept current by a watch.
  const read = await releaseReader(kube, namespace, release);
  /** A reflector on one of the release's collections in the namespace, by the chart's labels. */
  const ofRelease = <T extends Watched>(
    resource: string,
    group: string,
    component: string,
    list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>,
  ) =>
    new Reflector<T>({
      ...common,
      what: `${resource} ${where}`,
      path: `${group}/namespaces/${ns}/${resource}`,
      labelSelector: releaseSelector(release, component),
      list,
    });
  const sets = ofRelease<V1StatefulSet>('statefulsets', '/apis/apps/v1', 'room', read.statefulSets);
  const pods = ofRelease<V1Pod>('pods', '/api/v1', 'room', read.roomPods);
  const services = ofRelease<V1Service>('services', '/api/v1', 'pod-service', read.podServices);
  let nodes: Reflector<V1Node> | undefined = new Reflector<V1Node>({
    ...common,
    what: 'nodes',
    path: '/api/v1/nodes',
    list: read.nodes,
  });

  try {
    const nodeList = nodes.list().catch((e: unknown) => {
      if (e instanceof KubeApiError && e.httpCode === 403) return 'forbidden' as const;
      throw e;
    });
    const [, , , nodeOutcome] = await Promise.all([sets.list(), pods.list(), services.list(), nodeList]);
    if (nodeOutcome === 'forbidden') nodes = undefined;

    const resolve = (): Endpoint[] | undefined => {
      const input = endpointsInput(
        namespace,
        [...sets.items.values()],
        [...pods.items.values()],
        [...services.items.values()],
        nodes && [...nodes.items.values()].map(nodeView),
      );
      return input && resolveEndpointRows({ ...input, addressTypes });
    };
    const update = (endpoints: Endpoint[], changes: EndpointChange[]): EndpointsUpdate => ({
      schemaVersion: 1,
      release,
      namespace,
      addressTypes,
      nodesVisible: nodes !== undefined,
      endpoints,
      changes,
    });

    let rows = resolve();
    if (!rows) throw noStatefulSet(release, namespace);
    state.dirty = false;
    yield update(rows, diffEndpoints([], rows));

    for (const r of [sets, pods, services, nodes]) {
      r?.run(stop.signal).catch((e: unknown) => {
        state.fatal ??= e instanceof Error ? e : new Error(String(e));
        poke();
      });
    }

    let setPresent = true;
    while (!check()) {
      if (!isDirty()) {
        await new Promise<void>((r) => {
          state.wake = r;
        });
      }
      state.wake = undefined;
      if (check()) return;
      // Let a burst of events (a scale, a node going away) settle into one update.
      await sleep(opts.settleMs ?? 100, undefined, { signal: stop.signal }).catch(() => undefined);
      state.dirty = false;
      if (check()) return;
      const next = resolve();
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
