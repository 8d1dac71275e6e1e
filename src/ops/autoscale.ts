/**
 * The autoscaler: keeps a buffer of Free rooms by following the rooms with
 * watches (as the allocator does) and applying each decision of
 * core/autoscale.ts as an ordinary `scale` through the one change path. One
 * per release, by a Lease of its own that carries its settings.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import {
  DEFAULT_SCALE_DOWN_DELAY,
  bufferText,
  decide,
  decisionLine,
  fleetOf,
  parseBuffer,
  policyProblems,
  type AutoscalePolicy,
  type Decision,
  type Fleet,
  type SurplusClock,
} from '../core/autoscale.js';
import { DEFAULT_ADDRESS_TYPES } from '../core/endpoints.js';
import { requireDuration } from '../core/duration.js';
import { autoscalerLeaseName, autoscalerRequirements } from '../core/permissions.js';
import { DEFAULT_RELEASE } from '../core/release.js';
import { ExitCode, ExposePodsError, UsageError, type ExitCodeValue } from '../errors.js';
import { requireChangePermissions } from '../kube/access.js';
import { loadKube, type ResolvedKube } from '../kube/config.js';
import { acquireReleaseLock, type ReleaseLock } from '../kube/lock.js';
import { ReleaseReflectors } from '../kube/reflector.js';
import { noStatefulSet, releaseReader } from '../kube/reader.js';
import type { ConfirmAsk } from './mutation.js';
import { kubeFlagsOf, type EndpointsOptions } from './endpoints.js';
import type { WatchEndpointsOptions } from './endpoints-watch.js';
import { runScale } from './scale.js';

/** The annotation of the autoscaler's Lease that holds its settings (status shows them). */
export const AUTOSCALER_POLICY_ANNOTATION = 'expose-pods.io/autoscaler-policy';

/** Options of createAutoscaler: the cluster and release, as for resolveEndpoints, and the policy. */
export interface AutoscalerOptions extends EndpointsOptions, Pick<WatchEndpointsOptions, 'watcher'> {
  /** Free rooms to keep: a count (3, "3") or a percentage of the rooms ("25%"). */
  buffer: number | string;
  /** Never fewer rooms than this; default 0. */
  min?: number;
  /** Never more rooms than this. */
  max: number;
  /** How long a surplus of Free rooms lasts before rooms are removed, as a duration; default 5m. */
  scaleDownDelay?: string;
  /** How long one scale may take (its pods Ready), as a duration; default 5m. */
  timeout?: string;
  helmBinary?: string;
  /** Each event: a decision, a scale done, a retry, a notice; the NDJSON of `autoscale -o json`. */
  onEvent?: (e: AutoscaleEvent) => void;
  /** Stops the loop once the scale in flight (if any) has finished. */
  signal?: AbortSignal;
  /** Stops the scale in flight too (helm stopped, as a second Ctrl-C does). */
  interrupt?: AbortSignal;
}

/** The counts an event carries. */
export interface AutoscaleRooms {
  replicas: number;
  allocated: number;
  free: number;
  cordoned: number;
}

/** The settings, as events and the Lease show them. */
export interface AutoscalePolicyView {
  buffer: string;
  min: number;
  max: number;
  scaleDownDelaySeconds: number;
}

/** What every event carries: when, and which release. */
export interface AutoscaleEventBase {
  schemaVersion: 1;
  /** ISO 8601. */
  time: string;
  release: string;
  namespace: string;
}

/** What the autoscaler reports, one event at a time (one line of NDJSON with -o json). */
export type AutoscaleEvent = AutoscaleEventBase & AutoscaleEventBody;

/** The events, without what every one carries. */
export type AutoscaleEventBody =
  | { type: 'started'; policy: AutoscalePolicyView; rooms: AutoscaleRooms; message: string }
  | {
      type: 'scaling';
      direction: 'up' | 'down';
      from: number;
      to: number;
      rooms: AutoscaleRooms;
      message: string;
    }
  | { type: 'scaled'; from: number; to: number; revision: number | null; seconds: number; message: string }
  | { type: 'pending'; from: number; to: number; at: string; rooms: AutoscaleRooms; message: string }
  | { type: 'kept'; replicas: number; rooms: AutoscaleRooms; message: string }
  | {
      type: 'retrying';
      from: number;
      to: number;
      exitCode: number;
      inSeconds: number;
      message: string;
      hint?: string;
    }
  | { type: 'notice'; message: string }
  | { type: 'stopped'; message: string };

/** A running autoscaler. */
export interface Autoscaler {
  /** Settles when the loop ends: resolves after stop() or the signal, rejects on what it cannot recover from. */
  readonly done: Promise<void>;
  /** Ends the loop once the scale in flight (if any) has finished, and releases the Lease. */
  stop(): Promise<void>;
}

/** The longest pause between two tries of a step that failed. */
const MAX_BACKOFF_MS = 30_000;
/** How long the rooms must stay unchanged before they are looked at: a burst of watch events is one decision. */
const SETTLE_MS = 50;
/**
 * The longest a stream of changes (a burst of allocations, 60 a second at 1000 rooms) defers a
 * decision: a scale-up still starts within a second of the first allocation, and takes the whole
 * burst instead of its first allocations, the rest waiting for the next step.
 */
const SETTLE_MAX_MS = 800;
/** How long, after a scale, the watches may take to show its replicas before the next decision. */
const CATCH_UP_MS = 5_000;

/** Failures no retry mends: exit at once. */
const FATAL: readonly ExitCodeValue[] = [
  ExitCode.USAGE,
  ExitCode.HELM_MISSING,
  ExitCode.FORBIDDEN,
  ExitCode.NOT_FOUND,
  ExitCode.INTERRUPTED,
  ExitCode.TERMINATED,
  ExitCode.HUNG_UP,
];

/** Whether a failed step is worth trying again (a refusal, the lock busy, the cluster unreachable, a timeout). */
export function retryable(e: unknown): boolean {
  return !(e instanceof ExposePodsError) || !FATAL.includes(e.exitCode);
}

/** The next pause after a failure: 1 s, doubling to MAX_BACKOFF_MS. */
export function nextBackoff(previousMs: number): number {
  return Math.min(MAX_BACKOFF_MS, previousMs ? previousMs * 2 : 1000);
}

/**
 * The autoscaler's answer to a scale's question. It removes Ready rooms only
 * as scale-down (Free ones: it never plans below a room in use); anything
 * else a scale would ask about (rooms replaced on a failed revision's
 * template) is refused, for a person to decide.
 */
export function unattendedConfirm(ask: ConfirmAsk): Promise<void> {
  if (/^this scale removes \d+ Ready pod\(s\)$/.test(ask.what)) return Promise.resolve();
  throw new ExposePodsError(
    `the autoscaler does not confirm that ${ask.what}`,
    ExitCode.NOT_CONFIRMED,
    'Run the scale by hand once (kubectl expose-pods scale RELEASE --replicas N), then the autoscaler goes on.',
  );
}

/** The settings checked: exit 2 naming each problem. */
export function policyOf(opts: Pick<AutoscalerOptions, 'buffer' | 'min' | 'max' | 'scaleDownDelay'>): {
  policy: AutoscalePolicy;
  delay: string;
} {
  const buffer = parseBuffer(String(opts.buffer));
  if (typeof buffer === 'string') throw new UsageError(buffer);
  const delay = requireDuration(
    '--scale-down-delay',
    opts.scaleDownDelay ?? DEFAULT_SCALE_DOWN_DELAY,
    'request',
  );
  const policy = { buffer, min: opts.min ?? 0, max: opts.max, scaleDownDelayMs: delay.ms };
  const problems = policyProblems(policy);
  if (problems.length) throw new UsageError(problems.join('; '));
  return { policy, delay: delay.text };
}

/** The settings as events and the Lease show them. */
export function policyView(policy: AutoscalePolicy): AutoscalePolicyView {
  return {
    buffer: bufferText(policy.buffer),
    min: policy.min,
    max: policy.max,
    scaleDownDelaySeconds: policy.scaleDownDelayMs / 1000,
  };
}

/**
 * Starts an autoscaler on a release: checks the settings and the permissions,
 * takes the release's autoscaler Lease (exit 9 while another autoscaler holds
 * it; one that died is taken over once its Lease lapses), lists the rooms and
 * follows them by watches. Each decision is a `scale`: the lock, the plan, the
 * Services following, rooms in use spared. Stop it with stop() or `signal`.
 */
export async function createAutoscaler(opts: AutoscalerOptions): Promise<Autoscaler> {
  const { policy, delay } = policyOf(opts);
  const { ms: stepTimeoutMs } = requireDuration('--timeout', opts.timeout ?? '5m', 'timeout');
  const release = opts.release ?? DEFAULT_RELEASE;
  const kube = await loadKube(kubeFlagsOf(opts));
  const namespace = kube.namespace;
  const read = await releaseReader(kube, namespace, release, { fresh: true });
  if (!(await read.statefulSet())) throw noStatefulSet(release, namespace);
  await requireChangePermissions(kube, namespace, release, autoscalerRequirements(release));
  const view = policyView(policy);
  const emit = (e: AutoscaleEventBody) =>
    opts.onEvent?.({ schemaVersion: 1, time: new Date().toISOString(), release, namespace, ...e });
  const notice = (message: string) => emit({ type: 'notice', message });
  const lease = await acquireReleaseLock(kube, namespace, release, autoscaleOperation(view), notice, {
    name: autoscalerLeaseName(release),
    annotations: { [AUTOSCALER_POLICY_ANNOTATION]: JSON.stringify(view) },
    busyHint: `One autoscaler runs per release. Stop that one first; one that died is taken over within 30s of its last renewal.`,
  });
  try {
    const watch = await ReleaseReflectors.open(kube, read, release, {
      watcher: opts.watcher,
      onNotice: notice,
    });
    await watch.list();
    const loop = new Loop(kube, watch, lease, opts, { release, policy, delay, stepTimeoutMs, emit });
    return loop.start();
  } catch (e) {
    await lease.release();
    throw e;
  }
}

/** The Lease's operation: the command that holds it. */
function autoscaleOperation(v: AutoscalePolicyView): string {
  return `autoscale --buffer ${v.buffer} --min ${v.min} --max ${v.max} --scale-down-delay ${v.scaleDownDelaySeconds}s`;
}

/** The counts an event carries. */
function roomsOf(fleet: Fleet): AutoscaleRooms {
  return { replicas: fleet.replicas, allocated: fleet.allocated, free: fleet.free, cordoned: fleet.cordoned };
}

interface LoopSettings {
  release: string;
  policy: AutoscalePolicy;
  delay: string;
  stepTimeoutMs: number;
  emit: (e: AutoscaleEventBody) => void;
}

/** What settle() needs of the watches: their change count and the wait for a change. */
export interface Changes {
  readonly version: number;
  changed(signal: AbortSignal, settleMs: number): Promise<boolean>;
}

/**
 * Waits for a change, then until the rooms have not changed for `quietMs`, or `maxMs` after
 * the first wait ended: a burst of allocations settles into one decision. False once `signal`
 * is aborted.
 */
export async function settle(
  watch: Changes,
  signal: AbortSignal,
  quietMs = SETTLE_MS,
  maxMs = SETTLE_MAX_MS,
): Promise<boolean> {
  if (!(await watch.changed(signal, quietMs))) return false;
  const deadline = Date.now() + maxMs;
  for (let seen = watch.version; Date.now() < deadline;) {
    await sleep(Math.min(quietMs, deadline - Date.now()), undefined, { signal }).catch(() => undefined);
    if (signal.aborted) return false;
    if (watch.version === seen) break;
    seen = watch.version;
  }
  return true;
}

/** The loop: decide from the watched rooms, apply a scale, wait for the next change or the next deadline. */
class Loop {
  private clock: SurplusClock = {};
  private backoffMs = 0;
  private retryAt = 0;
  /** The last pending scale-down reported, so each is reported once. */
  private pending: string | undefined;
  private readonly stopper = new AbortController();
  private readonly stopped: AbortSignal;

  constructor(
    private readonly kube: ResolvedKube,
    private readonly watch: ReleaseReflectors,
    private readonly lease: ReleaseLock,
    private readonly opts: AutoscalerOptions,
    private readonly s: LoopSettings,
  ) {
    this.stopped = AbortSignal.any([
      this.stopper.signal,
      lease.signal,
      ...(opts.signal ? [opts.signal] : []),
      ...(opts.interrupt ? [opts.interrupt] : []),
    ]);
  }

  start(): Autoscaler {
    this.watch.run(this.stopped);
    const fleet = this.fleet();
    const v = policyView(this.s.policy);
    this.emit({
      type: 'started',
      policy: v,
      rooms: roomsOf(fleet),
      message: `autoscaling ${this.s.release} in ${this.kube.namespace}: buffer ${v.buffer}, min ${v.min}, max ${v.max}, scale-down delay ${this.s.delay}; ${fleet.replicas} rooms: Allocated ${fleet.allocated}, Free ${fleet.free}`,
    });
    const done = this.run().finally(() => this.lease.release());
    return {
      done,
      stop: async () => {
        this.stopper.abort();
        await done.catch(() => undefined);
      },
    };
  }

  private emit(e: AutoscaleEventBody): void {
    this.s.emit(e);
  }

  /** The fleet as the watches show it; NOT_FOUND once the StatefulSet is gone (the release uninstalled). */
  private fleet(): Fleet {
    const objects = this.watch.objects();
    const rows = this.watch.rows(this.opts.addressTypes ?? DEFAULT_ADDRESS_TYPES);
    if (!objects || !rows) throw noStatefulSet(this.s.release, this.kube.namespace);
    return fleetOf(rows, objects.input.replicas);
  }

  private async run(): Promise<void> {
    while (!this.stopped.aborted) {
      const fleet = this.fleet();
      const now = Date.now();
      const { decision, clock } = decide(this.s.policy, fleet, this.clock, now);
      this.clock = clock;
      let wakeAt: number | undefined;
      if (decision.kind === 'up' || decision.kind === 'down') {
        if (now >= this.retryAt) {
          await this.step(decision, fleet);
          continue;
        }
        wakeAt = this.retryAt;
      } else if (decision.kind === 'pending') {
        this.report(decision, fleet);
        wakeAt = decision.at;
      } else this.report(decision, fleet);
      await this.next(wakeAt);
    }
    if (this.lease.signal.aborted) throw this.lease.signal.reason as Error;
    if (this.opts.interrupt?.aborted) throw this.opts.interrupt.reason as Error;
    this.emit({ type: 'stopped', message: 'autoscaler stopped' });
  }

  /** A pending scale-down reported once; its end, when the surplus goes away, too. */
  private report(d: Extract<Decision, { kind: 'pending' | 'hold' }>, fleet: Fleet): void {
    const key = d.kind === 'pending' ? `${d.from}->${d.to}@${d.at}` : undefined;
    if (key === this.pending) return;
    const was = this.pending;
    this.pending = key;
    const message = decisionLine(this.s.policy, fleet, d, this.s.delay);
    if (d.kind === 'pending')
      this.emit({
        type: 'pending',
        from: d.from,
        to: d.to,
        at: new Date(d.at).toISOString(),
        rooms: roomsOf(fleet),
        message,
      });
    else if (was) this.emit({ type: 'kept', replicas: d.replicas, rooms: roomsOf(fleet), message });
  }

  /** One scale; a failure that a retry may mend is reported and tried again after a backoff. */
  private async step(d: Extract<Decision, { kind: 'up' | 'down' }>, fleet: Fleet): Promise<void> {
    const { from, to } = d;
    this.pending = undefined;
    const message = decisionLine(this.s.policy, fleet, d, this.s.delay);
    this.emit({ type: 'scaling', direction: d.kind, from, to, rooms: roomsOf(fleet), message });
    const started = performance.now();
    try {
      const result = await runScale({
        release: this.s.release,
        kube: kubeFlagsOf(this.opts),
        helmBinary: this.opts.helmBinary,
        replicas: to,
        sync: false,
        dryRun: false,
        deleteData: false,
        deleteInUse: false,
        refuseInUse: true,
        interrupt: this.opts.interrupt,
        timeout: `${Math.ceil(this.s.stepTimeoutMs / 1000)}s`,
        confirm: unattendedConfirm,
        warn: (m) => {
          this.emit({ type: 'notice', message: m });
        },
      });
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      const revision = result.revision;
      this.emit({
        type: 'scaled',
        from,
        to,
        revision,
        seconds,
        message: `scaled ${from} -> ${to} in ${seconds}s${revision ? ` (revision ${revision})` : ''}`,
      });
      this.backoffMs = 0;
      this.retryAt = 0;
      await this.caughtUp(to);
    } catch (e) {
      if (!retryable(e) || this.opts.interrupt?.aborted) throw e;
      this.backoffMs = nextBackoff(this.backoffMs);
      this.retryAt = Date.now() + this.backoffMs;
      const err = e instanceof ExposePodsError ? e : undefined;
      const why = e instanceof Error ? e.message : String(e);
      this.emit({
        type: 'retrying',
        from,
        to,
        exitCode: err?.exitCode ?? ExitCode.ERROR,
        inSeconds: this.backoffMs / 1000,
        message: `the scale ${from} -> ${to} did not happen: ${why}; trying again in ${this.backoffMs / 1000}s`,
        ...(err?.hint && { hint: err.hint }),
      });
    }
  }

  /** Until the watches show the replicas a scale set (at most CATCH_UP_MS): a decision from an older view would scale again. */
  private async caughtUp(replicas: number): Promise<void> {
    const deadline = Date.now() + CATCH_UP_MS;
    while (
      this.watch.objects()?.input.replicas !== replicas &&
      Date.now() < deadline &&
      !this.stopped.aborted
    )
      await this.next(deadline);
  }

  /** Until the rooms change, `wakeAt` (ms) comes, or the loop is stopped. */
  private async next(wakeAt: number | undefined): Promise<void> {
    const signals = [this.stopped];
    if (wakeAt !== undefined) signals.push(AbortSignal.timeout(Math.max(0, wakeAt - Date.now())));
    await settle(this.watch, AbortSignal.any(signals));
  }
}
