import { diffEndpoints, type EndpointChange } from '../core/endpoint-changes.js';
import { DEFAULT_ADDRESS_TYPES, type Endpoint } from '../core/endpoints.js';
import { DEFAULT_RELEASE } from '../core/release.js';
import { loadKube } from '../kube/config.js';
import { noStatefulSet, releaseReader } from '../kube/reader.js';
import { ReleaseReflectors, type WatchClient } from '../kube/reflector.js';
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
export async function* watchEndpoints(opts: WatchEndpointsOptions = {}): AsyncGenerator<EndpointsUpdate> {
  const release = opts.release ?? DEFAULT_RELEASE;
  const kube = await loadKube(kubeFlagsOf(opts));
  const namespace = kube.namespace;
  const addressTypes = [...(opts.addressTypes ?? DEFAULT_ADDRESS_TYPES)];
  const stop = new AbortController();
  const onOuterAbort = () => {
    stop.abort();
  };
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    const read = await releaseReader(kube, namespace, release, { fresh: true });
    const watch = await ReleaseReflectors.open(kube, read, release, opts);
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
