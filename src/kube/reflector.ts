import { setTimeout as sleep } from 'node:timers/promises';

import type { V1Deployment, V1Node, V1Pod, V1Service, V1StatefulSet } from '@kubernetes/client-node';

import { resolveEndpointRows, type Endpoint } from '../core/endpoints.js';
import { ExitCode } from '../errors.js';
import { kubeApis, releaseSelector } from './api.js';
import type { ResolvedKube } from './config.js';
import { endpointsInput } from './views.js';
import { KubeApiError, toKubeError } from './errors.js';
import { releaseReader, type ReleaseReader } from './reader.js';
import type { ProgressObjects } from './views.js';
import { progressObjectsOf } from './views.js';
import { roomObjectsOf, type RoomObjects } from './views.js';
import { endOnRestartOf, nodeView, podView } from './views.js';
import type { PodView } from '../core/model.js';
import { ALLOCATED, ALLOCATION_ID_ANNOTATION, STATE_LABEL } from '../core/rooms.js';

/** Any object the API server lists and watches. */
export interface Watched {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

/** The part of client-node's Watch a reflector uses; tests may pass their own. */
export interface WatchClient {
  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, object: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController>;
}

export interface ReflectorOptions<T extends Watched> {
  /** What is watched, for messages: "pods in namespace game". */
  what: string;
  /** The collection's API path: /api/v1/namespaces/game/pods. */
  path: string;
  labelSelector?: string;
  /** One list request: the items and the list's resourceVersion. */
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
  watcher: WatchClient;
  /** Called after every change to `items`. */
  onChange: () => void;
  /** Called with a sentence when the watch expires, drops or reconnects. */
  onNotice?: (message: string) => void;
  /** Reconnect back-off after a failure: first and largest delay. Default 1 s and 30 s. */
  backoffMs?: { first: number; max: number };
}

type Outcome = { kind: 'closed'; events: number } | { kind: 'gone' } | { kind: 'failed'; err: unknown };

function message(err: unknown): string {
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (e.statusCode) return `HTTP ${e.statusCode}`;
  return e.code ?? e.message ?? String(err);
}

/**
 * A local mirror of one collection, kept current the way client-go's
 * reflector does it: list once, then watch from the list's resourceVersion.
 * A watch the server closes (its timeoutSeconds) is reopened from the last
 * resourceVersion seen; 410 Gone (the version was compacted) means list
 * again; a dropped connection is retried with back-off. Only 401 and 403
 * end it: retrying cannot fix them.
 */
export class Reflector<T extends Watched> {
  readonly items = new Map<string, T>();
  private resourceVersion = '';

  constructor(private readonly opts: ReflectorOptions<T>) {}

  /** Lists the collection and replaces the mirror. Throws a KubeApiError on failure. */
  async list(): Promise<void> {
    let list;
    try {
      list = await this.opts.list();
    } catch (e) {
      throw e instanceof KubeApiError ? e : toKubeError(e, `list ${this.opts.what}`);
    }
    this.items.clear();
    for (const item of list.items) this.items.set(this.key(item), item);
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    this.opts.onChange();
  }

  /** Watches until the signal aborts; rejects only on 401 or 403. Call list() first. */
  async run(signal: AbortSignal): Promise<void> {
    const { first, max } = this.opts.backoffMs ?? { first: 1000, max: 30_000 };
    let delay = first;
    const wait = async (ms: number) => {
      await sleep(ms, undefined, { signal }).catch(() => undefined);
    };
    const stopped = () => signal.aborted;
    while (!stopped()) {
      const started = Date.now();
      const outcome = await this.watchOnce(signal);
      if (stopped()) return;
      if (outcome.kind === 'gone') {
        this.notice(`the watch on ${this.opts.what} expired (410 Gone); listing again`);
        try {
          await this.list();
          delay = first;
        } catch (e) {
          if (e instanceof KubeApiError && (e.httpCode === 401 || e.httpCode === 403)) throw e;
          this.notice(
            `listing ${this.opts.what} failed (${(e as Error).message}); retrying in ${delay / 1000}s`,
          );
          await wait(delay);
          delay = Math.min(delay * 2, max);
        }
      } else if (outcome.kind === 'failed') {
        const code = (outcome.err as { statusCode?: number }).statusCode;
        if (code === 401 || code === 403) {
          throw new KubeApiError(
            `the API server refused to watch ${this.opts.what} (${code})`,
            code,
            undefined,
            code === 403 ? ExitCode.FORBIDDEN : ExitCode.CLUSTER_UNREACHABLE,
            code === 403
              ? 'Ask a cluster admin for the watch verb on it, or run without --watch.'
              : 'Refresh your credentials, or pick another --context.',
          );
        }
        this.notice(
          `the watch on ${this.opts.what} was lost (${message(outcome.err)}); reconnecting in ${delay / 1000}s`,
        );
        await wait(delay);
        delay = Math.min(delay * 2, max);
      } else if (outcome.events === 0 && Date.now() - started < first) {
        // Closed at once with nothing said: do not spin.
        await wait(delay);
        delay = Math.min(delay * 2, max);
      } else {
        delay = first;
      }
    }
  }

  private watchOnce(signal: AbortSignal): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      let events = 0;
      let gone = false;
      let failure: unknown;
      let controller: AbortController | undefined;
      const onAbort = () => controller?.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      const query = {
        resourceVersion: this.resourceVersion || undefined,
        allowWatchBookmarks: true,
        labelSelector: this.opts.labelSelector,
        // As client-go: 5 to 10 minutes, so many watchers do not reconnect at once.
        timeoutSeconds: Math.floor(300 + Math.random() * 300),
      };
      this.opts.watcher
        .watch(
          this.opts.path,
          query,
          (phase, object) => {
            events++;
            if (phase === 'ERROR') {
              const status = object as { code?: number; message?: string };
              if (status.code === 410) gone = true;
              else failure ??= { statusCode: status.code, message: status.message };
              return;
            }
            const item = object as T;
            const rv = item.metadata?.resourceVersion;
            if (rv) this.resourceVersion = rv;
            if (phase === 'BOOKMARK') return;
            if (phase === 'DELETED') this.items.delete(this.key(item));
            else if (phase === 'ADDED' || phase === 'MODIFIED') this.items.set(this.key(item), item);
            else return;
            this.opts.onChange();
          },
          (err) => {
            signal.removeEventListener('abort', onAbort);
            const code = (err as { statusCode?: number } | null)?.statusCode;
            if (gone || code === 410) resolve({ kind: 'gone' });
            else if (err || failure) resolve({ kind: 'failed', err: err ?? failure });
            else resolve({ kind: 'closed', events });
          },
        )
        .then(
          (c) => {
            controller = c;
            if (signal.aborted) c.abort();
          },
          (err: unknown) => {
            resolve({ kind: 'failed', err });
          },
        );
    });
  }

  private key(item: T): string {
    const m = item.metadata;
    return `${m?.namespace ?? ''}/${m?.name ?? ''}`;
  }

  private notice(message: string): void {
    this.opts.onNotice?.(message);
  }
}

/** What a release's reflectors tell and how they reconnect (endpoints --watch's options of the same names). */
export interface ReleaseReflectorsOptions {
  onNotice?: (message: string) => void;
  backoffMs?: { first: number; max: number };
}

type Common = Pick<ReflectorOptions<Watched>, 'watcher' | 'onChange' | 'onNotice' | 'backoffMs'>;
type ListOf<T> = () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;

/**
 * Reflectors that wake one waiter together: each change of any of them is
 * counted, and a burst of changes (a scale, a node going away) settles into
 * one wake-up. A watch refused for good ends the next wait with its error.
 */
abstract class ReflectorGroup {
  /** Counts the changes seen: a view built at one version stays true until the next. */
  version = 0;
  private dirty = false;
  private wake: (() => void) | undefined;
  private fatal: Error | undefined;
  protected readonly common: Common;

  constructor(
    protected readonly namespace: string,
    private readonly release: string,
    watcher: WatchClient,
    opts: ReleaseReflectorsOptions,
  ) {
    this.common = {
      watcher,
      onChange: () => {
        this.poke();
      },
      onNotice: opts.onNotice,
      backoffMs: opts.backoffMs,
    };
  }

  /** The reflectors watched; undefined ones are not (nodes a user may not list). */
  protected abstract members(): (Reflector<Watched> | undefined)[];

  /** A reflector of the release's objects of one component, listed by `list`. */
  protected ofRelease<T extends Watched>(
    resource: string,
    group: string,
    component: string,
    list: ListOf<T>,
  ): Reflector<T> {
    const ns = encodeURIComponent(this.namespace);
    return new Reflector<T>({
      ...this.common,
      what: `${resource} in namespace ${this.namespace}`,
      path: `${group}/namespaces/${ns}/${resource}`,
      labelSelector: releaseSelector(this.release, component),
      list,
    });
  }

  /** The first lists are done: no change is pending. */
  protected listed(): void {
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
    for (const r of this.members()) {
      r?.run(signal).catch((e: unknown) => {
        this.fatal ??= e instanceof Error ? e : new Error(String(e));
        this.poke();
      });
    }
  }

  /**
   * Waits for a change, then lets a burst of events settle into one for
   * `settleMs`. False once `signal` is aborted, which also ends the wait;
   * throws a watch's fatal error.
   */
  async changed(signal: AbortSignal, settleMs: number): Promise<boolean> {
    if (this.stopped(signal)) return false;
    if (!this.dirty) {
      const onAbort = () => this.wake?.();
      signal.addEventListener('abort', onAbort, { once: true });
      await new Promise<void>((r) => {
        this.wake = r;
      });
      signal.removeEventListener('abort', onAbort);
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
 * The release's StatefulSet, pods, per-pod Services and the nodes, each
 * listed (the same lists as every read of the release, kube/reader.ts)
 * and then kept current by a watch; and the wake-up their changes share.
 */
export class ReleaseReflectors extends ReflectorGroup {
  private readonly sets: Reflector<V1StatefulSet>;
  private readonly pods: Reflector<V1Pod>;
  private readonly services: Reflector<V1Service>;
  /** Undefined when listing nodes is forbidden: rows then have no node addresses. */
  nodes: Reflector<V1Node> | undefined;

  /** The reflectors of a release, watching through `opts.watcher` or client-node's Watch. */
  static async open(
    kube: ResolvedKube,
    read: ReleaseReader,
    release: string,
    opts: ReleaseReflectorsOptions & { watcher?: WatchClient },
  ): Promise<ReleaseReflectors> {
    const watcher = opts.watcher ?? new (await kubeApis(kube)).k8s.Watch(kube.kc);
    return new ReleaseReflectors(read, watcher, kube.namespace, release, opts);
  }

  constructor(
    read: ReleaseReader,
    watcher: WatchClient,
    namespace: string,
    release: string,
    opts: ReleaseReflectorsOptions,
  ) {
    super(namespace, release, watcher, opts);
    this.sets = this.ofRelease('statefulsets', '/apis/apps/v1', 'room', read.statefulSets);
    this.pods = this.ofRelease('pods', '/api/v1', 'room', read.roomPods);
    this.services = this.ofRelease('services', '/api/v1', 'pod-service', read.podServices);
    this.nodes = new Reflector<V1Node>({
      ...this.common,
      what: 'nodes',
      path: '/api/v1/nodes',
      list: read.nodes,
    });
  }

  protected members() {
    return [this.sets, this.pods, this.services, this.nodes];
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
    this.listed();
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

  /** One room pod as the watch has it now (no view built), or undefined. */
  pod(name: string): PodView | undefined {
    const p = this.pods.items.get(`${this.namespace}/${name}`) ?? this.pods.items.get(`/${name}`);
    // Its allocation settled as every view settles it: by the StatefulSet's allocation.endOnRestart.
    return p && podView(p, endOnRestartOf([...this.sets.items.values()][0]));
  }

  /** The names of the room pods that hold allocation `id` as the watch has them now (a scan of their annotations). */
  holders(id: string): string[] {
    const names: string[] = [];
    for (const p of this.pods.items.values()) {
      const m = p.metadata;
      if (m?.labels?.[STATE_LABEL] === ALLOCATED && m.annotations?.[ALLOCATION_ID_ANNOTATION] === id)
        names.push(m.name ?? '');
    }
    return names;
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
}

/**
 * What a wait on helm shows (readProgressObjects' four collections: the
 * StatefulSet, its pods, the Redis Deployment and its pods), listed once and
 * then kept current by watches, so that following a fleet's rollout costs
 * the changes, not a list of every pod each second.
 */
export class ProgressReflectors extends ReflectorGroup {
  private readonly sets: Reflector<V1StatefulSet>;
  private readonly pods: Reflector<V1Pod>;
  private readonly redisSets: Reflector<V1Deployment>;
  private readonly redisPods: Reflector<V1Pod>;

  /**
   * The first lists are `read`'s: the API server's watch cache (resourceVersion
   * 0), as client-go's reflectors list, so no list of every pod reaches etcd
   * while helm works; a list again after a watch expired is `fresh`'s.
   */
  static async open(
    kube: ResolvedKube,
    release: string,
    opts: ReleaseReflectorsOptions & { watcher?: WatchClient } = {},
  ): Promise<ProgressReflectors> {
    const [read, fresh] = await Promise.all([
      releaseReader(kube, kube.namespace, release, { cached: true }),
      releaseReader(kube, kube.namespace, release, { fresh: true }),
    ]);
    const watcher = opts.watcher ?? new (await kubeApis(kube)).k8s.Watch(kube.kc);
    return new ProgressReflectors(read, fresh, watcher, kube.namespace, release, opts);
  }

  constructor(
    read: ReleaseReader,
    fresh: ReleaseReader,
    watcher: WatchClient,
    namespace: string,
    release: string,
    opts: ReleaseReflectorsOptions,
  ) {
    super(namespace, release, watcher, opts);
    const firstThen = <T>(first: () => Promise<T>, then: () => Promise<T>) => {
      let listed = false;
      return () => (listed ? then() : ((listed = true), first()));
    };
    this.sets = this.ofRelease(
      'statefulsets',
      '/apis/apps/v1',
      'room',
      firstThen(read.statefulSets, fresh.statefulSets),
    );
    this.pods = this.ofRelease(
      'pods',
      '/api/v1',
      'room',
      firstThen(
        () => read.roomPods(),
        () => fresh.roomPods(),
      ),
    );
    this.redisSets = this.ofRelease(
      'deployments',
      '/apis/apps/v1',
      'redis',
      firstThen(read.redisDeployments, fresh.redisDeployments),
    );
    this.redisPods = this.ofRelease('pods', '/api/v1', 'redis', firstThen(read.redisPods, fresh.redisPods));
  }

  protected members() {
    return [this.sets, this.pods, this.redisSets, this.redisPods];
  }

  async list(): Promise<void> {
    await Promise.all(this.members().map((r) => r.list()));
    this.listed();
  }

  /** What the watches have now; undefined while the StatefulSet is missing. */
  progress(): ProgressObjects | undefined {
    return progressObjectsOf(
      [...this.sets.items.values()],
      [...this.pods.items.values()],
      [...this.redisSets.items.values()],
      [...this.redisPods.items.values()],
    );
  }
}
