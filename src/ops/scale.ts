import { diffEndpoints, type EndpointChange } from '../core/endpoint-changes.js';
import { DEFAULT_ADDRESS_TYPES, resolveEndpointRows, type Endpoint } from '../core/endpoints.js';
import { requireTimeout } from '../core/duration.js';
import { installProgress, type InstallProgress } from '../core/progress.js';
import type { RolloutProgress } from '../core/rollout.js';
import { planScale, preflight, scaleDisruptions, type ScalePlan } from '../core/scale.js';
import { pollUntil } from '../core/poll.js';
import { ExitCode, ExposePodsError, UsageError } from '../errors.js';
import type { ChartValues } from '../core/chart-values.js';
import { pollReads, refreshReads } from '../kube/api.js';
import type { KubeFlags, ResolvedKube } from '../kube/config.js';
import { deleteReleaseData } from '../kube/writes.js';
import { readEndpointObjects, readRoomPods } from '../kube/reader.js';
import { readProgressObjects } from '../kube/reader.js';
import { readScaleObjects } from '../kube/reader.js';
import { setStatefulSetReplicas } from '../kube/writes.js';
import { spareRoomsInUse } from './drain.js';
import { OPERATION_PREFIX } from './change-pin.js';
import {
  withReleaseChange,
  type ChangeSession,
  type ChangeSpec,
  type Confirm,
  type SessionRequest,
} from './mutation.js';

/** Every revision `scale` makes says so, which lets a re-run recognise one it left pending. */
export const SCALE_DESCRIPTION = `${OPERATION_PREFIX} scale`;

export interface ScaleRequest {
  release: string;
  kube: KubeFlags;
  helmBinary?: string;
  /** --replicas N; undefined with sync. */
  replicas?: number;
  /** --sync: adopt the StatefulSet's live replica count into the release. */
  sync: boolean;
  dryRun: boolean;
  deleteData: boolean;
  /** Remove rooms in use (Allocated) anyway, after the confirmation names them; otherwise wait until they are freed. */
  deleteInUse?: boolean;
  /** Refuse at once (ROOMS_IN_USE) when a room to be removed is in use, instead of waiting (the autoscaler). */
  refuseInUse?: boolean;
  /** Ends the scale as a signal would, instead of its own signal handlers (mutation.ts SessionRequest.interrupt). */
  interrupt?: AbortSignal;
  /** Who asked, for the lock's operation ("scale --replicas 8 (autoscale)"): a command refused by the lock names it. */
  requestedBy?: string;
  timeout: string;
  /** While the scale waits for rooms in use to be freed: which. */
  onWaitingInUse?: (inUse: string[]) => void;
  /** Asked before Ready pods or rooms in use are removed, or PVCs deleted. */
  confirm: Confirm;
  onPlan?: (plan: ScalePlan) => void;
  onProgress?: (p: InstallProgress) => void;
  /** After helm: the wait for the rooms (OnDelete: helm does not wait for the StatefulSet). */
  onRollout?: (p: RolloutProgress) => void;
  warn: (message: string) => void;
}

export interface ScaleResult {
  schemaVersion: 1;
  plan: ScalePlan;
  /** False for --dry-run and when nothing needed to change. */
  applied: boolean;
  /** The Helm revision the scale made, if any. */
  revision: number | null;
  /** PVCs deleted with --delete-data. */
  deletedPvcs: string[];
  /** Endpoints that appeared, changed or went away. */
  changes: EndpointChange[];
}

/** Polls until `replicas` pods of the release are Ready (and no more exist), or times out naming them. */
async function waitForReplicas(
  kube: ResolvedKube,
  namespace: string,
  release: string,
  replicas: number,
  timeoutMs: number,
  onProgress?: (p: InstallProgress) => void,
  signal?: AbortSignal,
): Promise<void> {
  const reads = pollReads(kube);
  const done = await pollUntil(
    async () => {
      reads.next();
      const o = await readProgressObjects(kube, namespace, release);
      if (!o) return undefined;
      onProgress?.(installProgress(o.workload, replicas, o.pods, o.redisPods));
      const ready = o.pods.filter((p) => p.ready && !p.terminating).length;
      return ready === replicas && o.pods.length === replicas ? true : undefined;
    },
    { timeoutMs, intervalMs: 1000, signal },
  );
  if (!done) {
    throw new ExposePodsError(
      `timed out waiting for ${replicas} Ready pods of release ${release}`,
      ExitCode.TIMEOUT,
      `See which are not: kubectl expose-pods endpoints ${release} -n ${namespace}`,
    );
  }
}

/**
 * A safety net: the release says `to`, so the StatefulSet must too, whoever
 * owned the field (an HPA that scaled it again during the upgrade). It removes
 * rooms as a scale-down does, so it drains them first, as the upgrade did:
 * marked Draining, and rooms in use waited for (exit 15 on timeout) unless
 * --delete-in-use. True when it had to change the replicas.
 */
async function enforceReplicas(
  req: ScaleRequest,
  kube: ResolvedKube,
  namespace: string,
  workload: string,
  to: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  refreshReads(kube);
  const { replicas } = await readRoomPods(kube, namespace, req.release);
  if (replicas === to) return false;
  await spareRoomsInUse(kube, namespace, req.release, to, {
    deleteInUse: req.deleteInUse ?? false,
    refuseInUse: req.refuseInUse,
    timeoutMs,
    signal,
    onWaiting: req.onWaitingInUse,
  });
  return setStatefulSetReplicas(kube, namespace, workload, to);
}

/** The endpoint rows now, for the before/after diff; best effort. */
async function endpointRows(kube: ResolvedKube, namespace: string, release: string): Promise<Endpoint[]> {
  const o = await readEndpointObjects(kube, namespace, release);
  return resolveEndpointRows({ ...o, addressTypes: DEFAULT_ADDRESS_TYPES });
}

/** Checks the flags before anything is read: one of --replicas N and --sync, N a whole number. */
function validate(req: ScaleRequest): void {
  if ((req.replicas === undefined) === !req.sync) {
    throw new UsageError(
      'give either --replicas N or --sync',
      'For example: kubectl expose-pods scale rooms --replicas 5',
    );
  }
  if (req.replicas !== undefined && (!Number.isInteger(req.replicas) || req.replicas < 0)) {
    throw new UsageError(`--replicas ${req.replicas} must be a whole number, 0 or more`);
  }
}

/** The plan of a scale from the release's values and the live objects, refused when scale's own checks fail. */
async function planInSession(
  req: ScaleRequest,
  session: ChangeSession,
): Promise<{ plan: ScalePlan; workload: string; to: number }> {
  const { kube, namespace } = session.cluster;
  const all = session.values as ChartValues;
  const live = await readScaleObjects(kube, namespace, req.release);
  const to = req.sync ? live.liveReplicas : (req.replicas ?? 0);
  const userCount = (session.userValues as ChartValues).expose?.count;
  const input = {
    release: req.release,
    namespace,
    workload: live.workload,
    releaseReplicas: all.room?.replicas ?? 0,
    liveReplicas: live.liveReplicas,
    target: to,
    pinnedCount: typeof userCount === 'number' ? userCount : undefined,
    nodePorts: all.expose?.nodePorts ?? undefined,
    nodePortBase: all.expose?.nodePortBase ?? undefined,
    pods: live.pods,
    services: live.services,
    pvcs: live.pvcs,
    claimTemplates: live.claimTemplates,
  };
  const plan = planScale(input);
  if (plan.noop && session.status !== 'deployed') {
    // Same counts, but the last operation did not finish: run it again to converge.
    plan.noop = false;
    plan.notes.push(`the release is ${session.status} after an earlier operation: upgrading it again`);
  }
  const problems = preflight(input, plan);
  if (problems.length) {
    throw new ExposePodsError(
      `cannot scale release ${req.release} to ${to}:\n${problems.map((p) => `  ${p}`).join('\n')}`,
      ExitCode.INVALID_VALUES,
      'Nothing was changed.',
    );
  }
  return { plan, workload: live.workload, to };
}

/**
 * `scale`: plan, check, then change room.replicas through the release (the
 * one change path: the user's values kept, the cluster pinned, the release
 * locked), so the per-pod Services follow from the chart and a later helm
 * upgrade keeps the count. Waits with progress, and reports the endpoints that changed.
 */
/**
 * The scale's preview. A scale changes no pod template, unless the release's
 * newest record (a failed revision whose StatefulSet never reached the
 * cluster) does: its values are reused, so the upgrade applies that template
 * and its Free rooms are replaced; said here, and confirmed. How many rooms.
 */
async function previewScale(req: ScaleRequest, session: ChangeSession, change: ChangeSpec): Promise<number> {
  const preview = await session.preview(change);
  const replaced = preview.plan.restartPods.length;
  if (replaced && !req.dryRun)
    req.warn(
      `the StatefulSet's live pod template differs from the release's newest revision (${session.status}), whose values this scale reuses: the upgrade applies that template too`,
    );
  return replaced;
}

/** The change session a scale opens: its lock names it ("scale --replicas 8 (autoscale)"). */
function sessionOf(req: ScaleRequest, timeoutMs: number): SessionRequest {
  const what = req.sync ? '--sync' : `--replicas ${req.replicas ?? ''}`;
  return {
    release: req.release,
    kube: req.kube,
    helmBinary: req.helmBinary,
    operation: `scale ${what}${req.requestedBy ? ` (${req.requestedBy})` : ''}`,
    dryRun: req.dryRun,
    orphanWaitMs: timeoutMs,
    confirm: req.confirm,
    warn: req.warn,
    interrupt: req.interrupt,
    refuseInUse: req.refuseInUse,
  };
}

export async function runScale(req: ScaleRequest): Promise<ScaleResult> {
  const { go: timeout, ms: timeoutMs } = requireTimeout('--timeout', req.timeout);
  validate(req);
  return withReleaseChange(sessionOf(req, timeoutMs), async (session) => {
    const { kube, namespace } = session.cluster;
    const { plan, workload, to } = await planInSession(req, session);
    const change: ChangeSpec = {
      values: [],
      set: { 'room.replicas': to },
      description: `${SCALE_DESCRIPTION} ${plan.from.live} -> ${to}`,
      // spec.replicas may belong to kubectl scale or an HPA now; the user asked for `to`.
      forceConflicts: true,
      deleteInUse: req.deleteInUse,
      refuseInUse: req.refuseInUse,
      // The plan is shown with the cluster's budgets before any check may refuse it.
      onPlanned: (p) => {
        plan.budget = p.budget;
        plan.orderedStart = p.plan.orderedStart;
        req.onPlan?.(plan);
      },
    };
    // nodePorts free cluster-wide, pod slots, and the API server's own dry run.
    const replaced = await previewScale(req, session, change);

    const result: ScaleResult = {
      schemaVersion: 1,
      plan,
      applied: false,
      revision: null,
      deletedPvcs: [],
      changes: [],
    };
    const wait = () =>
      waitForReplicas(kube, namespace, req.release, to, timeoutMs, req.onProgress, session.signal);
    if (req.dryRun) return result;
    // Nothing to change; but an earlier run may have stopped before the pods were Ready,
    // or a scale-down that timed out left rooms Draining that this count keeps.
    if (plan.noop && session.status === 'deployed') {
      await spareRoomsInUse(kube, namespace, req.release, to, { deleteInUse: false, timeoutMs });
      return wait().then(() => result);
    }
    const disrupts = scaleDisruptions(plan, req.deleteData, req.deleteInUse, replaced).join(' and ');
    if (disrupts)
      await session.confirm({ what: `this scale ${disrupts}`, question: `This ${disrupts}. Go ahead?` });

    const before = await endpointRows(kube, namespace, req.release);
    await session.apply(change, {
      wait: true,
      timeout,
      onProgress: req.onProgress,
      onWaitingInUse: req.onWaitingInUse,
      onRollout: req.onRollout,
    });
    if (await enforceReplicas(req, kube, namespace, workload, to, timeoutMs, session.signal)) {
      req.warn(`the StatefulSet still had other replicas after the upgrade; set it to ${to}`);
      await wait();
    }
    if (req.deleteData && plan.pvcsLeftBehind.length) {
      await deleteReleaseData(kube, namespace, { pvcs: plan.pvcsLeftBehind, secrets: [] });
      result.deletedPvcs = plan.pvcsLeftBehind;
    }
    result.revision = (await session.revision()) || null;
    result.applied = true;
    result.changes = diffEndpoints(before, await endpointRows(kube, namespace, req.release));
    return result;
  });
}
