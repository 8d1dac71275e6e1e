/**
 * The autoscaler's loop: decide from the watched rooms (core/autoscale.ts),
 * apply a step as a `scale`, wait for the next change or deadline. Holds the
 * autoscaler's Lease throughout, and takes it back after an outage.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import {
  bufferRooms,
  decide,
  decisionLine,
  fleetOf,
  stepLead,
  type AutoscalePolicy,
  type Decision,
  type Fleet,
  type SurplusClock,
  type StepSpan,
} from '../core/autoscale.js';
import { DEFAULT_ADDRESS_TYPES } from '../core/endpoints.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import type { ResolvedKube } from '../kube/config.js';
import type { ReleaseLock } from '../kube/lock.js';
import type { ReleaseReflectors } from '../kube/reflector.js';
import { noStatefulSet } from '../kube/reader.js';
import {
  nextBackoff,
  policyView,
  retryable,
  unattendedConfirm,
  type AutoscaleEventBody,
  type Autoscaler,
  type AutoscalerOptions,
  type AutoscaleRooms,
} from './autoscale.js';
import { kubeFlagsOf } from './endpoints.js';
import { runScale } from './scale.js';

/**
 * How long the rooms must stay unchanged before they are looked at: a burst of watch events is one
 * decision (concurrent allocators at 1000 rooms leave gaps of 0.1 s between their allocations).
 */
const SETTLE_MS = 200;
/**
 * The longest a stream of changes (a burst of allocations, 60 a second at 1000 rooms) defers a
 * decision: a scale-up still starts within a second of the first allocation, and takes the whole
 * burst instead of its first allocations, the rest waiting for the next step.
 */
const SETTLE_MAX_MS = 800;
/** How long, after a scale, the watches may take to show its replicas before the next decision. */
const CATCH_UP_MS = 5_000;

/** What the loop is given by createAutoscaler. */
export interface LoopSettings {
  release: string;
  policy: AutoscalePolicy;
  delay: string;
  stepTimeoutMs: number;
  emit: (e: AutoscaleEventBody) => void;
  /** Takes the autoscaler's Lease; `reclaim`: our own identity whose Lease lapsed while we lived. */
  takeLease: (reclaim?: string) => Promise<ReleaseLock>;
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

/** The counts an event carries. */
function roomsOf(fleet: Fleet): AutoscaleRooms {
  return { replicas: fleet.replicas, allocated: fleet.allocated, free: fleet.free, cordoned: fleet.cordoned };
}

/** A step: a scale up or down, or one to the same count that returns rooms left Draining to service. */
type Step = { kind: 'up' | 'down' | 'tidy'; from: number; to: number };

export class AutoscaleLoop {
  private clock: SurplusClock = {};
  /** The last step that finished, for the lead (core stepLead); takenAfter is filled in by the decision that follows it. */
  private span: (Omit<StepSpan, 'takenAfter'> & { takenAfter?: number }) | undefined;
  private backoffMs = 0;
  private retryAt = 0;
  /** The last pending scale-down reported, so each is reported once. */
  private pending: string | undefined;
  private readonly stopper = new AbortController();
  /** Ends the loop: stop(), the caller's signal, or its interrupt. */
  private readonly stopped: AbortSignal;
  /** Stops the watches once the loop has ended, however it ended. */
  private readonly watching = new AbortController();
  /** Given to each scale as its interrupt, so a scale never takes over the process's signals (a library host's). */
  private readonly interrupt: AbortSignal;

  constructor(
    private readonly kube: ResolvedKube,
    private readonly watch: ReleaseReflectors,
    private lease: ReleaseLock,
    private readonly opts: AutoscalerOptions,
    private readonly s: LoopSettings,
  ) {
    this.interrupt = opts.interrupt ?? new AbortController().signal;
    this.stopped = AbortSignal.any([
      this.stopper.signal,
      ...(opts.signal ? [opts.signal] : []),
      ...(opts.interrupt ? [opts.interrupt] : []),
    ]);
  }

  start(): Autoscaler {
    this.watch.run(this.watching.signal);
    let fleet: Fleet;
    try {
      fleet = this.fleet();
    } catch (e) {
      this.watching.abort();
      throw e;
    }
    const v = policyView(this.s.policy);
    this.s.emit({
      type: 'started',
      policy: v,
      rooms: roomsOf(fleet),
      message: `autoscaling ${this.s.release} in ${this.kube.namespace}: buffer ${v.buffer}, min ${v.min}, max ${v.max}, scale-down delay ${this.s.delay}; ${fleet.replicas} rooms: Allocated ${fleet.allocated}, Free ${fleet.free}`,
    });
    const done = this.run().finally(async () => {
      this.watching.abort();
      await this.lease.release();
    });
    return {
      done,
      stop: async () => {
        this.stopper.abort();
        await done.catch(() => undefined);
      },
    };
  }

  /** The fleet as the watches show it; NOT_FOUND once the StatefulSet is gone (the release uninstalled). */
  private fleet(): Fleet {
    const objects = this.watch.objects();
    const rows = this.watch.rows(this.opts.addressTypes ?? DEFAULT_ADDRESS_TYPES);
    if (!objects || !rows) throw noStatefulSet(this.s.release, this.kube.namespace);
    return fleetOf(rows, objects.input.replicas);
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopped.aborted) await this.once();
    } catch (e) {
      const err = e instanceof ExposePodsError ? e : undefined;
      this.s.emit({
        type: 'stopped',
        message: `autoscaler stopped: ${e instanceof Error ? e.message : String(e)}`,
        exitCode: err?.exitCode ?? ExitCode.ERROR,
      });
      throw e;
    }
    if (this.opts.interrupt?.aborted) throw this.opts.interrupt.reason as Error;
    this.s.emit({ type: 'stopped', message: 'autoscaler stopped', exitCode: ExitCode.OK });
  }

  /** One turn: a decision, and a step or a wait. */
  private async once(): Promise<void> {
    if (this.lease.signal.aborted) {
      await this.regainLease();
      return;
    }
    const fleet = this.fleet();
    const now = Date.now();
    const before = this.clock;
    const lead = this.lead(fleet, now);
    const { decision, clock } = decide(this.s.policy, fleet, this.clock, now, lead);
    this.clock = clock;
    let step: Step | undefined;
    if (decision.kind === 'up' || decision.kind === 'down') step = decision;
    // Rooms a failed or interrupted scale left Draining take no match: a scale to the same count returns them.
    else if (fleet.draining) step = { kind: 'tidy', from: fleet.replicas, to: fleet.replicas };
    if (step && now >= this.retryAt) {
      // A scale-down that fails is tried again after the backoff, not after a whole new delay.
      const ok = await this.step(step, fleet, decision);
      if (!ok && step.kind === 'down') this.clock = before;
      return;
    }
    if (decision.kind === 'pending' || decision.kind === 'hold') this.report(decision, fleet);
    // Rooms the lead keeps are looked at again once it lapses: a surplus then starts its delay.
    const leadEnds = lead && this.span ? 2 * this.span.endedAt - this.span.startedAt + 1 : undefined;
    await this.next(step ? this.retryAt : decision.kind === 'pending' ? decision.at : leadEnds);
  }

  /** The lead for a decision now (0 without --lead). */
  private lead(fleet: Fleet, now: number): number {
    const span = this.span;
    if (!span) return 0;
    span.takenAfter ??= fleet.allocated + fleet.cordoned;
    if (!this.s.policy.lead) return 0;
    return stepLead({ ...span, takenAfter: span.takenAfter }, now, bufferRooms(this.s.policy, fleet));
  }

  /**
   * The Lease lapsed (renewals failed, the API server away): taken back while it still names
   * us, retried with the backoff while the API server does not answer; another autoscaler
   * holding it ends the loop (exit 9).
   */
  private async regainLease(): Promise<void> {
    const lost = this.lease;
    if (/taken over/.test(lost.lost() ?? '')) throw lost.signal.reason as Error;
    try {
      this.lease = await this.s.takeLease(lost.holder);
      this.backoffMs = 0;
      this.s.emit({ type: 'notice', message: 'took the autoscaler Lease back after its renewals failed' });
    } catch (e) {
      if (e instanceof ExposePodsError && !retryable(e)) throw e;
      if (e instanceof ExposePodsError && e.exitCode === ExitCode.CONFLICT) throw e;
      this.backoffMs = nextBackoff(this.backoffMs);
      this.s.emit({
        type: 'notice',
        message: `the autoscaler Lease lapsed and could not be taken back (${e instanceof Error ? e.message : String(e)}); trying again in ${this.backoffMs / 1000}s`,
      });
      await this.next(Date.now() + this.backoffMs);
    }
  }

  /** A pending scale-down reported once; its end, when the surplus goes away, too. */
  private report(d: Extract<Decision, { kind: 'pending' | 'hold' }>, fleet: Fleet): void {
    const key = d.kind === 'pending' ? `${d.from}->${d.to}@${d.at}` : undefined;
    if (key === this.pending) return;
    const was = this.pending;
    this.pending = key;
    const message = decisionLine(this.s.policy, fleet, d, this.s.delay);
    const rooms = roomsOf(fleet);
    if (d.kind === 'pending')
      this.s.emit({
        type: 'pending',
        from: d.from,
        to: d.to,
        at: new Date(d.at).toISOString(),
        rooms,
        message,
      });
    else if (was) this.s.emit({ type: 'kept', replicas: d.replicas, rooms, message });
  }

  /** The line a step is announced with. */
  private stepLine(step: Step, fleet: Fleet, decision: Decision): string {
    if (step.kind !== 'tidy') return decisionLine(this.s.policy, fleet, decision, this.s.delay);
    return `${fleet.draining} room(s) left Draining below ${fleet.replicas} by a scale that did not finish: returning them to service (scale to ${step.to})`;
  }

  /** One scale; false when it failed and is to be tried again after the backoff. */
  private async step(step: Step, fleet: Fleet, decision: Decision): Promise<boolean> {
    const { from, to } = step;
    this.pending = undefined;
    const message = this.stepLine(step, fleet, decision);
    this.s.emit({ type: 'scaling', direction: step.kind, from, to, rooms: roomsOf(fleet), message });
    const started = performance.now();
    const startedAt = Date.now();
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
        interrupt: this.interrupt,
        requestedBy: 'autoscale',
        timeout: `${Math.ceil(this.s.stepTimeoutMs / 1000)}s`,
        confirm: unattendedConfirm,
        warn: (m) => {
          this.s.emit({ type: 'notice', message: m });
        },
      });
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      const revision = result.revision;
      this.s.emit({
        type: 'scaled',
        from,
        to,
        revision,
        seconds,
        message: `scaled ${from} -> ${to} in ${seconds}s${revision ? ` (revision ${revision})` : ''}`,
      });
      const now = await this.caughtUp(to);
      if (now === to || this.stopped.aborted) {
        this.backoffMs = 0;
        this.retryAt = 0;
        // The lead follows scale-ups only: allocations during a scale-down are no reason to scale up again.
        if (step.kind === 'up')
          this.span = { startedAt, endedAt: Date.now(), takenBefore: fleet.allocated + fleet.cordoned };
        return true;
      }
      // Someone else sets the replicas too (an HPA, kubectl scale): back off rather than fight it.
      throw new ExposePodsError(
        `the StatefulSet's replicas are ${now ?? 'unknown'} right after this scale set ${to}: something else scales it too (an HPA, kubectl scale)`,
        ExitCode.CONFLICT,
        'Leave the replicas to one owner: remove the HPA, or stop the autoscaler.',
      );
    } catch (e) {
      if (!retryable(e) || this.interrupt.aborted) throw e;
      this.retry(step, e);
      return false;
    }
  }

  private retry(step: Step, e: unknown): void {
    this.backoffMs = nextBackoff(this.backoffMs);
    this.retryAt = Date.now() + this.backoffMs;
    const err = e instanceof ExposePodsError ? e : undefined;
    const why = e instanceof Error ? e.message : String(e);
    this.s.emit({
      type: 'retrying',
      from: step.from,
      to: step.to,
      exitCode: err?.exitCode ?? ExitCode.ERROR,
      inSeconds: this.backoffMs / 1000,
      message: `the scale ${step.from} -> ${step.to} did not happen: ${why}; trying again in ${this.backoffMs / 1000}s`,
      ...(err?.hint && { hint: err.hint }),
    });
  }

  /**
   * Until the watches show the replicas a scale set (at most CATCH_UP_MS): a decision from an
   * older view would scale again. The replicas they show at the end.
   */
  private async caughtUp(replicas: number): Promise<number | undefined> {
    const deadline = Date.now() + CATCH_UP_MS;
    const shown = () => this.watch.objects()?.input.replicas;
    while (shown() !== replicas && Date.now() < deadline && !this.stopped.aborted) await this.next(deadline);
    return shown();
  }

  /** Until the rooms change, `wakeAt` (ms) comes, the Lease is lost, or the loop is stopped. */
  private async next(wakeAt: number | undefined): Promise<void> {
    const signals = [this.stopped, this.lease.signal];
    if (wakeAt !== undefined) signals.push(AbortSignal.timeout(Math.max(0, wakeAt - Date.now())));
    await settle(this.watch, AbortSignal.any(signals));
  }
}
