/**
 * The autoscaler: keeps a buffer of Free rooms by following the rooms with
 * watches (as the allocator does) and applying each decision of
 * core/autoscale.ts as an ordinary `scale` through the one change path. One
 * per release, by a Lease of its own that carries its settings.
 */
import {
  AUTOSCALER_POLICY_ANNOTATION,
  DEFAULT_SCALE_DOWN_DELAY,
  bufferText,
  parseBuffer,
  policyProblems,
  type AutoscalePolicy,
} from '../core/autoscale.js';
import { requireDuration } from '../core/duration.js';
import { autoscalerLeaseName, autoscalerRequirements } from '../core/permissions.js';
import { DEFAULT_RELEASE } from '../core/release.js';
import { ExitCode, ExposePodsError, UsageError, type ExitCodeValue } from '../errors.js';
import { requireChangePermissions } from '../kube/access.js';
import { loadKube } from '../kube/config.js';
import { detectHelm } from '../helm/helm.js';
import { releaseNotFound } from '../helm/release.js';
import { acquireReleaseLock } from '../kube/lock.js';
import { ReleaseReflectors } from '../kube/reflector.js';
import { noStatefulSet, releaseReader } from '../kube/reader.js';
import { AutoscaleLoop } from './autoscale-loop.js';
import { readOurRelease } from './change-pin.js';
import type { ConfirmAsk } from './mutation.js';
import { kubeFlagsOf, type EndpointsOptions } from './endpoints.js';
import type { WatchEndpointsOptions } from './endpoints-watch.js';

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
  /** Whether a scale-up adds the rooms taken while the last step ran (the lead); default false: Agones' plain Buffer. */
  lead?: boolean;
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
  lead: boolean;
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
      /** tidy: a scale to the same count, returning rooms a scale that did not finish left Draining. */
      direction: 'up' | 'down' | 'tidy';
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
  /** The loop ended: exitCode 0 after stop() or a signal, otherwise the error's. */
  | { type: 'stopped'; message: string; exitCode: number };

/** A running autoscaler. */
export interface Autoscaler {
  /** Settles when the loop ends: resolves after stop() or the signal, rejects on what it cannot recover from. */
  readonly done: Promise<void>;
  /** Ends the loop once the scale in flight (if any) has finished, and releases the Lease. */
  stop(): Promise<void>;
}

/** The longest pause between two tries of a step that failed. */
const MAX_BACKOFF_MS = 30_000;

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
  return Promise.reject(
    new ExposePodsError(
      `the autoscaler does not confirm that ${ask.what}`,
      ExitCode.NOT_CONFIRMED,
      'Run the scale by hand once (kubectl expose-pods scale RELEASE --replicas N), then the autoscaler goes on.',
    ),
  );
}

/** The settings checked: exit 2 naming each problem. */
export function policyOf(
  opts: Pick<AutoscalerOptions, 'buffer' | 'min' | 'max' | 'scaleDownDelay' | 'lead'>,
): {
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
  const policy = {
    buffer,
    min: opts.min ?? 0,
    max: opts.max,
    scaleDownDelayMs: delay.ms,
    lead: opts.lead ?? false,
  };
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
    lead: policy.lead,
  };
}

/**
 * Starts an autoscaler on a release: checks the settings, the permissions,
 * helm and the release, takes the release's autoscaler Lease (exit 9 while
 * another autoscaler holds it; one that died is taken over once its Lease
 * lapses), lists the rooms and follows them by watches. Each decision is a
 * `scale`: the lock, the plan, the Services following, rooms in use spared.
 * Stop it with stop() or `signal`.
 */
export async function createAutoscaler(opts: AutoscalerOptions): Promise<Autoscaler> {
  const { policy, delay } = policyOf(opts);
  const { ms: stepTimeoutMs } = requireDuration('--timeout', opts.timeout ?? '5m', 'timeout');
  const release = opts.release ?? DEFAULT_RELEASE;
  const kube = await loadKube(kubeFlagsOf(opts));
  const namespace = kube.namespace;
  // What every step needs, checked now rather than at the first allocation that needs capacity.
  await detectHelm(opts.helmBinary);
  if (!(await readOurRelease(kube, namespace, release))) throw releaseNotFound(release, namespace);
  const read = await releaseReader(kube, namespace, release, { fresh: true });
  if (!(await read.statefulSet())) throw noStatefulSet(release, namespace);
  await requireChangePermissions(kube, namespace, release, autoscalerRequirements(release));
  const view = policyView(policy);
  const emit = (e: AutoscaleEventBody) =>
    opts.onEvent?.({ schemaVersion: 1, time: new Date().toISOString(), release, namespace, ...e });
  const notice = (message: string) => emit({ type: 'notice', message });
  const takeLease = (reclaim?: string) =>
    acquireReleaseLock(kube, namespace, release, autoscaleOperation(view), notice, {
      name: autoscalerLeaseName(release),
      annotations: { [AUTOSCALER_POLICY_ANNOTATION]: JSON.stringify(view) },
      busyHint: `One autoscaler runs per release. Stop that one first; one that died is taken over within 30s of its last renewal.`,
      reclaim,
    });
  const lease = await takeLease();
  try {
    const watch = await ReleaseReflectors.open(kube, read, release, {
      watcher: opts.watcher,
      onNotice: notice,
    });
    await watch.list();
    const loop = new AutoscaleLoop(kube, watch, lease, opts, {
      release,
      policy,
      delay,
      stepTimeoutMs,
      emit,
      takeLease,
    });
    return loop.start();
  } catch (e) {
    await lease.release();
    throw e;
  }
}

/** The Lease's operation: the command that holds it. */
function autoscaleOperation(v: AutoscalePolicyView): string {
  return `autoscale --buffer ${v.buffer} --min ${v.min} --max ${v.max} --scale-down-delay ${v.scaleDownDelaySeconds}s${v.lead ? ' --lead' : ''}`;
}
