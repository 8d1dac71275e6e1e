import type { ChartValues } from '../core/chart-values.js';
import { durationMs, notADuration, requireTimeout } from '../core/duration.js';
import type { InstallProgress } from '../core/progress.js';
import type { MaxUnavailable, RolloutProgress } from '../core/rollout.js';
import {
  NOT_READY,
  toleratedSeconds,
  tolerationsReport,
  UNREACHABLE,
  type TolerationsReport,
} from '../core/tolerations.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { loadKube, type KubeFlags } from '../kube/config.js';
import { readTolerationObjects } from '../kube/reader.js';
import { describeCluster, OPERATION_PREFIX } from './change-pin.js';
import { withReleaseChange, type ChangeSpec, type Confirm } from './mutation.js';

/** Longer than this is "never" for a game room or a Redis member; null in the values says that outright. */
export const MAX_TOLERATION_SECONDS = 3600;
/** Below this, a short network blip already evicts pods. */
export const FLAPPING_BELOW_SECONDS = 5;

/** Whole seconds of a --not-ready / --unreachable value, or why it is not one. */
export function parseTolerationSeconds(flag: string, value: string): number | string {
  const ms = durationMs(value);
  if (ms === undefined || ms % 1000 !== 0) {
    return notADuration(flag, value, 'seconds').message;
  }
  const s = ms / 1000;
  if (s > MAX_TOLERATION_SECONDS) {
    return `${flag} ${value} is longer than ${MAX_TOLERATION_SECONDS / 60}m; to never evict, set room.failover.notReadySeconds or unreachableSeconds to null in your values`;
  }
  return s;
}

export interface TolerationsChange {
  release: string;
  namespace: string;
  /** The cluster, as the confirmation names it. */
  cluster: string;
  from: { notReadySeconds: number | null | undefined; unreachableSeconds: number | null | undefined };
  to: { notReadySeconds?: number; unreachableSeconds?: number };
  /** The pods restarted: under OnDelete the Free rooms the rollout replaces; under RollingUpdate every pod. */
  pods: string[];
  /** Under OnDelete, the rooms in use that keep their old tolerations until their match ends. */
  inUse?: string[];
  /** The StatefulSet's update strategy. */
  strategy?: string;
}

export interface SetTolerationsRequest {
  release: string;
  kube: KubeFlags;
  helmBinary?: string;
  notReadySeconds?: number;
  unreachableSeconds?: number;
  timeout: string;
  /** Restart rooms in use (Allocated) too, ending their matches; otherwise refused with ROOMS_IN_USE. */
  deleteInUse?: boolean;
  /** Shown the change, then `confirm` asked, before the rolling update. */
  onChange?: (change: TolerationsChange) => void;
  confirm: Confirm;
  onProgress?: (p: InstallProgress) => void;
  /** Rooms the rollout replaces at once (--max-unavailable); default 25%. */
  maxUnavailable?: MaxUnavailable;
  /** Also wait for rooms in use, replacing each as its match ends (--wait-in-use). */
  waitInUse?: boolean;
  onRollout?: (p: RolloutProgress) => void;
  warn: (message: string) => void;
}

/**
 * Sets room.failover.* through the release (helm upgrade with the user's own
 * values reused), so the values survive later upgrades. The StatefulSet then
 * rolls every pod; this waits for it with progress. Returns false when the
 * template already had the values.
 */
export async function setTolerations(req: SetTolerationsRequest): Promise<boolean> {
  const { go: timeout, ms: timeoutMs } = requireTimeout('--timeout', req.timeout);
  warnFlapping(req);
  return withReleaseChange(
    {
      release: req.release,
      kube: req.kube,
      helmBinary: req.helmBinary,
      operation: 'tolerations',
      orphanWaitMs: timeoutMs,
      confirm: req.confirm,
      warn: req.warn,
    },
    async (session) => {
      const { kube, namespace } = session.cluster;
      const all = session.values as ChartValues;
      const live = await readTolerationObjects(kube, namespace, req.release);
      const liveReplicas = live.replicas;
      if (liveReplicas !== all.room?.replicas) {
        throw new ExposePodsError(
          `the StatefulSet runs ${liveReplicas} replicas but release ${req.release} says ${all.room?.replicas ?? 0} (kubectl scale or an HPA); an upgrade now would change that too`,
          ExitCode.CONFLICT,
          `Settle the count first: kubectl expose-pods scale ${req.release} -n ${namespace} --sync (or --replicas N). Nothing was changed.`,
        );
      }
      const change: TolerationsChange = {
        release: req.release,
        namespace,
        cluster: describeCluster(session.cluster),
        from: {
          notReadySeconds: toleratedSeconds(live.template, NOT_READY),
          unreachableSeconds: toleratedSeconds(live.template, UNREACHABLE),
        },
        to: { notReadySeconds: req.notReadySeconds, unreachableSeconds: req.unreachableSeconds },
        pods: live.pods.map((p) => p.name).sort(),
      };
      const same = (want: number | undefined, now: number | null | undefined) =>
        want === undefined || want === now;
      if (
        same(change.to.notReadySeconds, change.from.notReadySeconds) &&
        same(change.to.unreachableSeconds, change.from.unreachableSeconds)
      ) {
        return false;
      }
      const set: Record<string, number> = {};
      if (req.notReadySeconds !== undefined) set['room.failover.notReadySeconds'] = req.notReadySeconds;
      if (req.unreachableSeconds !== undefined)
        set['room.failover.unreachableSeconds'] = req.unreachableSeconds;
      const spec: ChangeSpec = {
        values: [],
        set,
        deleteInUse: req.deleteInUse,
        description: `${OPERATION_PREFIX} tolerations${req.notReadySeconds !== undefined ? ` not-ready=${req.notReadySeconds}s` : ''}${req.unreachableSeconds !== undefined ? ` unreachable=${req.unreachableSeconds}s` : ''}`,
      };
      const { plan } = await session.preview(spec);
      change.inUse = plan.keepInUse;
      change.pods = plan.restartPods;
      change.strategy = plan.updateStrategy;
      req.onChange?.(change);
      const verb = plan.updateStrategy === 'OnDelete' ? 'replace' : 'restart';
      if (plan.restartPods.length)
        await session.confirm({
          what: `this ${verb}s ${plan.restartPods.length} pod(s)`,
          question: `${verb} them now?`,
        });
      await session.apply(spec, {
        wait: true,
        timeout,
        onProgress: req.onProgress,
        maxUnavailable: req.maxUnavailable,
        waitInUse: req.waitInUse,
        onRollout: req.onRollout,
      });
      return true;
    },
  );
}

/** Below FLAPPING_BELOW_SECONDS, a warning that a network blip evicts pods. */
function warnFlapping(req: SetTolerationsRequest): void {
  for (const [flag, s] of [
    ['--not-ready', req.notReadySeconds],
    ['--unreachable', req.unreachableSeconds],
  ] as const) {
    if (s !== undefined && s < FLAPPING_BELOW_SECONDS) {
      req.warn(`${flag} ${s}s: below ${FLAPPING_BELOW_SECONDS}s a short network blip evicts pods (flapping)`);
    }
  }
}

/** The tolerations each pod of the release runs with, and the failover timing they give. */
export async function readTolerations(req: {
  release: string;
  kube: KubeFlags;
  graceSeconds: number;
}): Promise<TolerationsReport> {
  const kube = await loadKube(req.kube);
  const objects = await readTolerationObjects(kube, kube.namespace, req.release);
  return tolerationsReport({ ...objects, graceSeconds: req.graceSeconds });
}
