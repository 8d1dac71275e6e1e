/**
 * The one path every change to a release goes through (install on an existing
 * release, scale, tolerations, rollout, uninstall): the session. Each phase
 * has a file of its own: change-pin.ts (one cluster), the lock (kube/lock.ts),
 * change-settle.ts (a release left pending), change-preview.ts (render, plan,
 * checks), change-apply.ts (drain, upgrade, clean-up), rollout.ts (rooms
 * replaced, never one in use) and change-signals.ts (Ctrl-C, SIGTERM,
 * SIGHUP). Commands pass their change; they never compose these steps themselves.
 */
import { type BudgetChange } from '../core/budget.js';
import type {
  ManifestObject,
  ManifestView,
  planReleaseChange,
  ReleaseChangePlan,
} from '../core/release-change.js';
import type { InstallProgress } from '../core/progress.js';
import { type MaxUnavailable, type RolloutProgress } from '../core/rollout.js';
import { forgetCredentialFile } from '../helm/credential-file.js';
import { releaseNotFound } from '../helm/release.js';
import { newestRevision, type HelmReleaseRecord } from '../kube/helm-releases.js';
import { type ChangeObjects } from '../kube/reader.js';
import { refreshReads } from '../kube/api.js';
import { type KubeFlags } from '../kube/config.js';
import { requireChangePermissions } from '../kube/access.js';
import { acquireReleaseLock, type ReleaseLock } from '../kube/lock.js';
import { rolloutRooms, type RolloutOptions, type RolloutResult } from './rollout.js';
import { describeCluster, pinCluster, readOurRelease, type PinnedCluster } from './change-pin.js';
import { awaitOrphanedHelm, settleRelease, spareRoomsForRollback } from './change-settle.js';
import { stopOnAbort, stopOnSignals } from './change-signals.js';
import { previewChange } from './change-preview.js';
import { applyChange } from './change-apply.js';

/** What a confirmation asks before a disruptive step. */
export interface ConfirmAsk {
  /** The refusal without a terminal: "this scale removes 2 Ready pod(s)". */
  what: string;
  /** The question on a terminal: "This removes 2 Ready pod(s). Go ahead?". */
  question: string;
  /** The cluster and namespace it acts on (a change session names its own). */
  cluster?: string;
  /** What the refusal says happened; default "Nothing was changed." */
  unchanged?: string;
}

/**
 * The command's gate before a disruptive step (output/confirm.ts: --yes, a yes
 * on a terminal, or a refusal): it resolves on yes and throws NOT_CONFIRMED
 * otherwise, so an operation never goes on after a no.
 */
export type Confirm = (ask: ConfirmAsk) => Promise<void>;

/** What the caller of a change learns before it is applied. */
export interface ChangePreview {
  release: string;
  /** The cluster and namespace, as the confirmation names them. */
  cluster: string;
  /** False for a first install. */
  exists: boolean;
  plan: ReleaseChangePlan;
  /** Why it needs a yes ("removes 2 Ready pod(s)", ...); empty when it needs none. */
  disruptions: string[];
  /** The cluster-wide NodePorts, ClusterIPs and pod slots, now and after the change. */
  budget: BudgetChange;
}

/** A change, as a command hands it to the path. */
export interface ChangeSpec {
  /** Helm values flags on top of the release's own values (-f files, --set ...), in order. */
  values: string[];
  /**
   * Numbers set by dotted path (room.replicas), after `values`. A change of
   * these alone has values known here, so its preview renders the chart
   * locally (helm template) instead of Helm's upgrade dry run, which builds
   * every object of the release before and after (seconds at 1000 rooms).
   */
  set?: Record<string, number>;
  /** Start from the chart's defaults, not the release's values (install --reset-values). */
  resetValues?: boolean;
  /** helm's revision description: "<OPERATION_PREFIX> scale 2 -> 5". */
  description: string;
  /** Extra reasons the command refuses, given the rendered change; each a sentence. */
  problems?: (after: ManifestView, live: ChangeObjects) => string[];
  /** Take fields another manager owns (spec.replicas after kubectl scale); Helm 4 only. */
  forceConflicts?: boolean;
  /** The namespace does not exist yet (install --create-namespace): the API server cannot dry-run into it. */
  skipServerDryRun?: boolean;
  /** Called with the plan once it is worked out, before the checks that may refuse it. */
  onPlanned?: (p: ChangePreview) => void;
  /**
   * Rooms in use (Allocated) that the change removes are removed anyway, and
   * the preview's disruptions name them; otherwise apply waits until they are freed.
   */
  deleteInUse?: boolean;
  /** A room in use among those removed refuses the change at once, nothing marked (the autoscaler: it never waits on a match). */
  refuseInUse?: boolean;
}

/** An open session on one release: pinned, locked and settled. */
export interface ChangeSession {
  cluster: PinnedCluster;
  release: string;
  /** False when the release does not exist yet (a first install). */
  exists: boolean;
  /** The values the user supplied so far (helm get values); {} for a new release. */
  userValues: Record<string, unknown>;
  /** The computed values (helm get values --all): the user's over the chart's defaults; {} for a new release. */
  values: Record<string, unknown>;
  /** The newest revision number of the release now (after an apply, the one it wrote); 0 when none. */
  revision(): Promise<number>;
  /** The release's status after settling: deployed, failed, rolled back, or "none". */
  status: string;
  /** Aborted on SIGINT/SIGTERM/SIGHUP and when the lock is lost. */
  signal: AbortSignal;
  /** Asks the command's confirmation, naming this session's cluster; throws NOT_CONFIRMED on anything but yes. */
  confirm(ask: Omit<ConfirmAsk, 'cluster'>): Promise<void>;
  /** Renders the change (server dry run), plans it, and runs the pre-flight checks; writes nothing. */
  preview(change: ChangeSpec): Promise<ChangePreview & { rendered: ManifestObject[] }>;
  /** helm upgrade --install of the change, waiting with progress; then removes Services the release no longer has. */
  apply(
    change: ChangeSpec,
    opts: {
      wait: boolean;
      timeout: string;
      createNamespace?: boolean;
      onProgress?: (p: InstallProgress) => void;
      /** While it waits for rooms in use to be freed: which. */
      onWaitingInUse?: (inUse: string[]) => void;
      /** Rooms a rollout replaces at once (--max-unavailable); default 25%. */
      maxUnavailable?: MaxUnavailable;
      /** Wait for the rooms in use on older revisions too (--wait-in-use), replacing each as its match ends. */
      waitInUse?: boolean;
      /** Each new state of the rollout that follows helm (OnDelete). */
      onRollout?: (p: RolloutProgress) => void;
    },
  ): Promise<string>;
  /** The rollout phase alone, with no upgrade (`rollout` without --restart): replaces the Free rooms on older revisions. */
  rollOut(opts: Omit<RolloutOptions, 'signal'>): Promise<RolloutResult>;
  /** How the rollout after the last apply (or rollOut) ended; undefined when none ran (--no-wait, RollingUpdate). */
  rolledOut(): RolloutResult | undefined;
}

export interface SessionRequest {
  release: string;
  kube: KubeFlags;
  helmBinary?: string;
  /** Lock annotation: "scale --replicas 5". */
  operation: string;
  /**
   * Stops the change as a signal would (helm stopped, the session aborted), instead of the
   * session's own handlers of SIGINT, SIGTERM and SIGHUP: a caller that handles signals itself (the autoscaler).
   */
  interrupt?: AbortSignal;
  /**
   * Never wait on a match, not even to settle a release an interrupted change left pending (the
   * autoscaler): a rollback that would remove a room in use refuses at once (exit 15).
   */
  refuseInUse?: boolean;
  /** A missing release is a first install instead of NOT_FOUND. */
  allowMissing?: boolean;
  /** Read only: no lock, no settling. */
  dryRun?: boolean;
  /** How long to wait for a helm an interrupted run left behind. */
  orphanWaitMs: number;
  /** The gate before a disruptive step; session.confirm asks it. */
  confirm: Confirm;
  warn: (message: string) => void;
}

/** What a session's preview and apply share once it is open. */
export interface OpenSession {
  req: SessionRequest;
  cluster: PinnedCluster;
  exists: boolean;
  userValues: Record<string, unknown>;
  signal: AbortSignal;
  lock?: ReleaseLock;
  /** The release's newest revision as its Secret records it; undefined for a first install. */
  record?: HelmReleaseRecord;
  /** The objects the last preview rendered: what apply keeps when it removes orphaned Services. */
  lastPreview?: ManifestObject[];
  /** The last preview's plan: whether the pod template changes, so apply's rollout replaces rooms. */
  lastPlan?: ReleaseChangePlan;
  /** What the last plan was made from, but the rooms: apply plans again with the rooms just before helm. */
  lastPlanInput?: {
    before?: ManifestView;
    after: ManifestView;
    opts: NonNullable<Parameters<typeof planReleaseChange>[4]>;
  };
  /** The revision the last apply wrote, as helm reported it. */
  applied?: number;
  /** How the rollout after the last apply ended. */
  rolledOut?: RolloutResult;
}

/**
 * Opens a change session on a release, runs `body`, and always cleans up:
 * the lock is released, signal handlers are removed, and on SIGINT/SIGTERM/SIGHUP
 * the helm child is stopped and the command ends with exit 130/143/129.
 */
export async function withReleaseChange<T>(
  req: SessionRequest,
  body: (s: ChangeSession) => Promise<T>,
): Promise<T> {
  const cluster = await pinCluster(req.kube, req.helmBinary, req.warn);
  try {
    return await inSession(req, cluster, body);
  } finally {
    // The signed-in kubeconfig helm got (if any) dies with its change: change after change keeps none.
    forgetCredentialFile(cluster.target.kubeconfig);
  }
}

async function inSession<T>(
  req: SessionRequest,
  cluster: PinnedCluster,
  body: (s: ChangeSession) => Promise<T>,
): Promise<T> {
  const { helm, target, kube, namespace } = cluster;
  // Every permission a change needs, checked before anything is written: exit 6 names each one missing.
  if (!req.dryRun) await requireChangePermissions(kube, namespace, req.release);
  // The release as its newest release Secret records it: no helm process, one read of it.
  let record = await readOurRelease(kube, namespace, req.release);
  if (!record && !req.allowMissing) throw releaseNotFound(req.release, namespace);
  const exists = record !== undefined;

  const interrupt = req.interrupt ? stopOnAbort(req.interrupt) : stopOnSignals(req.release, namespace);
  let lock: ReleaseLock | undefined;
  try {
    lock =
      req.dryRun || !exists
        ? undefined
        : await acquireReleaseLock(kube, namespace, req.release, req.operation, req.warn);
    const signal = lock ? AbortSignal.any([interrupt.signal, lock.signal]) : interrupt.signal;
    let status = 'none';
    if (record) {
      await awaitOrphanedHelm(lock, req.orphanWaitMs, req.warn, req.release, namespace);
      // Looked at again under the lock (names and labels only): read again only if it changed before we held it.
      if (lock) {
        const now = await newestRevision(kube, namespace, req.release);
        if (now?.revision !== record.revision || now.status !== record.status)
          record = (await readOurRelease(kube, namespace, req.release)) ?? record;
      }
      status = req.dryRun
        ? record.status
        : await settleRelease(helm, req.release, target, record, lock, req.warn, (revision) =>
            spareRoomsForRollback(cluster, req, revision, signal, record?.manifest),
          );
      // Nothing a dead holder left is pending now: the Lease goes with this command.
      lock?.settled();
      if (status === 'rolled back') {
        // helm's rollback wrote a revision and changed the objects: nothing read before it holds.
        refreshReads(kube);
        record = (await readOurRelease(kube, namespace, req.release)) ?? record;
      }
    }
    const userValues = record?.userValues ?? {};
    const open: OpenSession = { req, cluster, exists, userValues, signal, lock, record };
    const result = await body({
      cluster,
      release: req.release,
      exists,
      userValues,
      values: record?.values ?? {},
      status,
      signal,
      confirm: (ask) => req.confirm({ ...ask, cluster: describeCluster(cluster) }),
      // After an apply, the revision helm reported; otherwise the newest release Secret's.
      revision: async () =>
        open.applied ?? (await newestRevision(kube, namespace, req.release))?.revision ?? 0,
      preview: (change) => previewChange(open, change),
      apply: (change, opts) => applyChange(open, change, opts),
      rollOut: async (opts) =>
        (open.rolledOut = await rolloutRooms(kube, namespace, req.release, { ...opts, signal })),
      rolledOut: () => open.rolledOut,
    });
    if (lock?.lost()) throw lock.signal.reason as Error;
    return result;
  } catch (e) {
    // An abort (signal or lost lock) surfaces as whatever failed first; report the abort.
    if (interrupt.signal.aborted) throw interrupt.signal.reason as Error;
    if (lock?.signal.aborted) throw lock.signal.reason as Error;
    throw e;
  } finally {
    interrupt.dispose();
    await lock?.release();
  }
}
