/**
 * `kubectl expose-pods rollout`: finishes a rollout (the Free rooms still on an
 * older revision after Ctrl-C, a timeout, a plain helm upgrade, or a room in
 * use that ended without a deallocate), or with --restart gives every room a
 * new revision with nothing else changed. Through the one change path: the
 * lock, a plan and a confirmation, then the rollout phase (ops/rollout.ts).
 */
import {
  batchSize,
  rolloutPlanOf,
  rolloutSetOf,
  type MaxUnavailable,
  type RolloutPlanView,
  type RolloutProgress,
} from '../core/rollout.js';
import { durationMs } from '../core/duration.js';
import { ordinalOf } from '../core/model.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import type { KubeFlags } from '../kube/config.js';
import { readRolloutObjects } from '../kube/reader.js';
import { describeCluster, OPERATION_PREFIX } from './change-pin.js';
import { onDelete } from './change-preview.js';
import { withReleaseChange, type ChangeSpec, type Confirm } from './mutation.js';
import type { RolloutResult } from './rollout.js';

export interface RolloutRequest {
  release: string;
  kube: KubeFlags;
  helmBinary?: string;
  /** A new revision for every room, with nothing else changed (room.restartedAt). */
  restart: boolean;
  maxUnavailable: MaxUnavailable;
  /** Also wait for the rooms in use, replacing each as its match ends. */
  waitInUse: boolean;
  /** Replace the rooms in use too, ending their matches (confirmed). */
  deleteInUse: boolean;
  timeout: string;
  dryRun: boolean;
  confirm: Confirm;
  warn: (message: string) => void;
  onPlan?: (plan: RolloutPlan) => void;
  onProgress?: (p: RolloutProgress) => void;
}

/** What a rollout is about to do. Part of the -o json schema. */
export interface RolloutPlan {
  release: string;
  namespace: string;
  cluster: string;
  restart: boolean;
  /** The StatefulSet's update revision (for --restart: the one before the restart). */
  revision: string | null;
  total: number;
  /** Rooms Ready on the update revision now. */
  updated: number;
  /** Rooms replaced, lowest ordinal first. */
  replace: string[];
  /** Rooms in use on an older revision, kept until their match ends (replaced with --delete-in-use). */
  inUse: string[];
  /** Cordoned rooms on an older revision: kept on it until uncordoned (never replaced). */
  cordoned: string[];
  /** Rooms replaced at once. */
  batch: number;
}

export interface RolloutRunResult {
  schemaVersion: 1;
  plan: RolloutPlan;
  /** False for --dry-run, or when there was nothing to do. */
  applied: boolean;
  result?: RolloutResult;
}

/** The rollout command's flow: plan, confirmation, and the rollout phase (after an upgrade with --restart). */
export async function runRollout(req: RolloutRequest): Promise<RolloutRunResult> {
  return withReleaseChange(
    {
      release: req.release,
      kube: req.kube,
      helmBinary: req.helmBinary,
      operation: req.restart ? 'rollout --restart' : 'rollout',
      dryRun: req.dryRun,
      orphanWaitMs: 60_000,
      confirm: req.confirm,
      warn: req.warn,
    },
    async (session) => {
      const { kube, namespace } = session.cluster;
      const { set: view, pods } = await readRolloutObjects(kube, namespace, req.release);
      const set = rolloutSetOf(view);
      const base = {
        release: req.release,
        namespace,
        cluster: describeCluster(session.cluster),
        restart: req.restart,
        revision: set.updateRevision ?? null,
        total: set.replicas,
        batch: batchSize(req.maxUnavailable, set.replicas),
      };
      const wait = {
        wait: true,
        timeout: req.timeout,
        maxUnavailable: req.maxUnavailable,
        waitInUse: req.waitInUse,
        onRollout: req.onProgress,
      };
      if (set.strategy !== 'OnDelete')
        throw new ExposePodsError(
          `release ${req.release}'s StatefulSet uses updateStrategy ${set.strategy}: its controller replaces the rooms itself, busy or not`,
          ExitCode.CONFLICT,
          `See it with: kubectl rollout status statefulset/${set.workload} -n ${namespace}. To have rooms in use spared, move the release to OnDelete: ${onDelete(req.release, namespace)} (it restarts no room).`,
        );
      if (req.restart) {
        const change: ChangeSpec = {
          values: ['--set-string', `room.restartedAt=${new Date().toISOString()}`],
          description: `${OPERATION_PREFIX} rollout --restart`,
          deleteInUse: req.deleteInUse,
        };
        const preview = await session.preview(change);
        const { plan: p } = preview;
        const plan: RolloutPlan = {
          ...base,
          updated: 0,
          replace: p.restartPods,
          inUse: p.keepInUse.length ? p.keepInUse : p.restartInUse,
          cordoned: [],
        };
        req.onPlan?.(plan);
        if (req.dryRun) return { schemaVersion: 1, plan, applied: false };
        await confirmReplace((ask) => session.confirm(ask), plan, req.deleteInUse);
        await session.apply(change, wait);
        return { schemaVersion: 1, plan, applied: true, result: session.rolledOut() };
      }
      const now = rolloutPlanOf(set, pods);
      const plan = planOf(base, now, req.deleteInUse, set.workload);
      req.onPlan?.(plan);
      const nothing = !plan.replace.length && (!req.waitInUse || !plan.inUse.length);
      // Until the controller has seen the newest spec its update revision is the old one: not "nothing to do".
      const kept = plan.inUse.length + plan.cordoned.length;
      const settled = !now.waitingForController && now.updated + kept >= plan.total;
      if (req.dryRun || (nothing && settled)) return { schemaVersion: 1, plan, applied: false };
      await confirmReplace((ask) => session.confirm(ask), plan, req.deleteInUse);
      const result = await session.rollOut({
        maxUnavailable: req.maxUnavailable,
        timeoutMs: durationMs(req.timeout) ?? 300_000,
        waitInUse: req.waitInUse,
        // Only the rooms in use the confirmation counted: one allocated since keeps its match.
        includeInUse: req.deleteInUse && new Set(plan.replace.filter((p) => plan.inUse.includes(p))),
        onProgress: req.onProgress,
      });
      return { schemaVersion: 1, plan, applied: true, result };
    },
  );
}

/** The plan of a rollout of the rooms as they are (--delete-in-use: the rooms in use are replaced too, and the confirmation names them). */
function planOf(
  base: Omit<RolloutPlan, 'updated' | 'replace' | 'inUse' | 'cordoned'>,
  now: RolloutPlanView,
  deleteInUse: boolean,
  workload: string,
): RolloutPlan {
  const replace = withInUse(now.replace, deleteInUse ? now.inUse : [], workload);
  return { ...base, updated: now.updated, replace, inUse: now.inUse, cordoned: now.cordoned };
}

/** The Free rooms to replace, with the rooms in use `--delete-in-use` adds, lowest ordinal first. */
function withInUse(free: string[], inUse: string[], workload: string): string[] {
  if (!inUse.length) return free;
  const ordinal = (name: string) => ordinalOf(name, workload) ?? 0;
  return [...free, ...inUse].sort((a, b) => ordinal(a) - ordinal(b));
}

/** A yes before rooms are replaced: Free rooms lose nothing but their pod; rooms in use (--delete-in-use) lose their match. */
async function confirmReplace(confirm: Confirm, plan: RolloutPlan, deleteInUse: boolean): Promise<void> {
  if (!plan.replace.length) return;
  const inUse = deleteInUse ? plan.replace.filter((p) => plan.inUse.includes(p)) : [];
  const what = `this rollout replaces ${plan.replace.length} room(s)${inUse.length ? `, ${inUse.length} of them in use (their matches end)` : ''}`;
  await confirm({ what, question: `This replaces ${plan.replace.length} room(s). Go ahead?` });
}
