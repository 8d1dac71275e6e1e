import { existsSync } from 'node:fs';

import { durationMs, requireTimeout } from '../core/duration.js';
import type { InstallProgress } from '../core/progress.js';
import type { MaxUnavailable, RolloutProgress } from '../core/rollout.js';
import type { RolloutResult } from './rollout.js';
import { releaseNameProblem } from '../core/release.js';
import type { ManifestObject } from '../core/release-change.js';
import { ExitCode, ExposePodsError, UsageError } from '../errors.js';
import { templateArgs, valuesArgs, type Shortcuts, type ValuesInput } from '../helm/args.js';
import { bundledChartPath } from '../helm/chart.js';
import { detectHelm, helmOrThrow, type Helm } from '../helm/helm.js';
import { findRelease, getValues } from '../helm/release.js';
import { parseAllDocuments } from 'yaml';

import { serverDryRun } from '../kube/apply.js';
import { namespaceExists } from '../kube/reader.js';
import { helmKubeconfig } from '../kube/exec-credential.js';
import { loadKube, type KubeFlags, type ResolvedKube } from '../kube/config.js';
import { redactSecrets } from '../core/redact.js';
import { OPERATION_PREFIX } from './change-pin.js';
import { withReleaseChange, type ChangePreview, type ChangeSpec, type Confirm } from './mutation.js';

export interface InstallRequest {
  release: string;
  kube: KubeFlags;
  helmBinary?: string;
  values: ValuesInput;
  shortcuts: Shortcuts;
  createNamespace: boolean;
  wait: boolean;
  timeout: string;
  /** Start from the chart's defaults instead of the release's values. */
  resetValues?: boolean;
  /** Fewer replicas remove rooms in use (Allocated) too, confirmed, instead of waiting until they are freed. */
  deleteInUse?: boolean;
  /** While it waits for rooms in use to be freed: which. */
  onWaitingInUse?: (inUse: string[]) => void;
  /** Called with live progress while helm waits; progress is best effort and never fails the install. */
  onProgress?: (p: InstallProgress) => void;
  /** Rooms a rollout replaces at once (--max-unavailable); default 25%. */
  maxUnavailable?: MaxUnavailable;
  /** Also wait for rooms in use on older revisions, replacing each as its match ends (--wait-in-use). */
  waitInUse?: boolean;
  /** Each new state of the rollout that replaces Free rooms on older revisions. */
  onRollout?: (p: RolloutProgress) => void;
  /** Called with the plan (values, pods, Services, budgets) before the checks that may refuse it. */
  onPreview?: (p: ChangePreview) => void;
  /** Asked when the change disrupts running pods (preview.disruptions). */
  confirm: Confirm;
  warn: (message: string) => void;
}

export interface InstallResult {
  release: string;
  namespace: string;
  helm: Helm;
  /** helm's own output: the rendered manifests for a dry run, the release summary and NOTES otherwise. */
  output: string;
  /** What the change did to an existing release (values, pods, Services); absent for a dry run. */
  preview?: ChangePreview;
  /** The release runs the chart's Redis (its Deployment is in the manifest). */
  redis?: boolean;
  /** How the rollout after the upgrade ended (OnDelete, with the wait): rooms replaced, rooms in use left on older revisions. */
  rollout?: RolloutResult;
}

/** Checks everything that can be checked before helm runs; returns the normalised timeout. */
function validate(req: InstallRequest): string {
  const problem = releaseNameProblem(req.release);
  if (problem) throw new UsageError(problem);
  const timeout = requireTimeout('--timeout', req.timeout).go;
  for (const file of [
    ...req.values.valuesFiles,
    ...req.values.setFile.map((s) => s.slice(s.indexOf('=') + 1)),
  ]) {
    if (!existsSync(file)) throw new UsageError(`values file ${file}: no such file`);
  }
  for (const s of [...req.values.set, ...req.values.setString, ...req.values.setFile]) {
    if (!s.includes('=')) throw new UsageError(`"${s}" is not key=value; for example --set room.replicas=3`);
  }
  if (req.shortcuts.replicas !== undefined && req.shortcuts.replicas < 0) {
    throw new UsageError(`--replicas ${req.shortcuts.replicas} must be 0 or more`);
  }
  return timeout;
}

async function namespaceFor(req: InstallRequest): Promise<string> {
  // -n needs no kubeconfig at all, so a dry run works on a machine without one.
  if (req.kube.namespace) return req.kube.namespace;
  return (await loadKube(req.kube)).namespace;
}

/** What both a render and an install need: checked input, the namespace, helm, and the value flags. */
async function prepare(req: InstallRequest) {
  const timeout = validate(req);
  const namespace = await namespaceFor(req);
  const helm = await detectHelm(req.helmBinary);
  const target = { namespace, kubeconfig: req.kube.kubeconfig, context: req.kube.context };
  return { timeout, namespace, helm, target, values: valuesArgs(req.values, req.shortcuts) };
}

/** How a dry run was checked: by the API server, or only rendered locally (and why). */
export interface DryRunCheck {
  mode: 'server' | 'client';
  /** server: objects the API server accepted. */
  accepted?: number;
  /** client: why the server was not asked. */
  reason?: string;
}

/** The cluster to dry-run against, or why there is none; configuration mistakes still throw. */
async function dryRunTarget(
  req: InstallRequest,
  namespace: string,
): Promise<{ kube?: ResolvedKube; reason?: string }> {
  const kube = await loadKube({ ...req.kube, namespace });
  if (!kube.kc.getCurrentCluster()) return { reason: 'no cluster in the kubeconfig' };
  let exists: boolean;
  try {
    exists = await namespaceExists(kube, namespace);
  } catch (e) {
    if (e instanceof ExposePodsError && e.exitCode === ExitCode.CLUSTER_UNREACHABLE)
      return { reason: e.message };
    throw e;
  }
  if (exists) return { kube };
  if (!req.createNamespace) {
    throw new ExposePodsError(
      `namespace ${namespace} does not exist`,
      ExitCode.NOT_FOUND,
      'Create it, or add --create-namespace.',
    );
  }
  return { reason: `namespace ${namespace} does not exist yet (--create-namespace)` };
}

/**
 * A dry run: renders the bundled chart, then, when a cluster answers, has the
 * API server validate and admit every object (server-side apply, dryRun=All).
 * Without a reachable cluster it is a local render. Changes nothing either way.
 */
export async function renderInstall(req: InstallRequest): Promise<InstallResult & { check: DryRunCheck }> {
  const { namespace, helm, target: given, values } = await prepare(req);
  const { kube, reason } = await dryRunTarget(req, namespace);
  // Signed in through an exec plugin: helm gets the credential, so the user signs in once.
  const signedIn = kube && (await helmKubeconfig(kube.kc));
  const target = signedIn ? { ...given, kubeconfig: signedIn } : given;
  // An existing release renders with its own values kept, as the install itself would.
  let current: Record<string, unknown> | undefined;
  if (kube && !req.resetValues) {
    try {
      await findRelease(helm, req.release, target);
      current = await getValues(helm, req.release, target, false);
    } catch (e) {
      if (!(e instanceof ExposePodsError && e.exitCode === ExitCode.NOT_FOUND)) throw e;
    }
  }
  // With a cluster, lookups are live, so the render shows the Redis Secret as it would be kept.
  const args = [
    ...templateArgs(req.release, await bundledChartPath(), target, [
      ...(current ? ['--values', '-'] : []),
      ...values,
    ]),
    ...(kube ? ['--dry-run=server'] : []),
  ];
  const rendered = await helmOrThrow(helm, 'template', args, {
    stdin: current && JSON.stringify(current),
  });
  // A dry run's output ends up in CI logs: Secret values never reach it.
  const output = redactSecrets(rendered);
  if (!kube) return { release: req.release, namespace, helm, output, check: { mode: 'client', reason } };
  const objects = parseAllDocuments(rendered)
    .map((d) => d.toJS() as ManifestObject | null)
    .filter((o): o is ManifestObject => o !== null);
  const accepted = await serverDryRun(kube, objects);
  return { release: req.release, namespace, helm, output, check: { mode: 'server', accepted } };
}

/**
 * Installs the release, or changes an existing one, through the one change
 * path: the release's own values are kept and this install's values merged
 * on top (--reset-values starts from the chart's defaults instead); nodePorts
 * and pod slots are checked first; a change that removes Ready pods, restarts
 * pods or moves a nodePort is shown and needs a yes.
 */
export async function runInstall(req: InstallRequest): Promise<InstallResult> {
  const timeout = validate(req);
  return withReleaseChange(
    {
      release: req.release,
      kube: req.kube,
      helmBinary: req.helmBinary,
      operation: 'install',
      allowMissing: true,
      orphanWaitMs: durationMs(timeout) ?? 300_000,
      confirm: req.confirm,
      warn: req.warn,
    },
    async (session) => {
      const { cluster } = session;
      const { kube, namespace, helm } = cluster;
      let newNamespace = false;
      if (!session.exists && !(await namespaceExists(kube, namespace))) {
        if (!req.createNamespace) {
          throw new ExposePodsError(
            `namespace ${namespace} does not exist`,
            ExitCode.NOT_FOUND,
            'Create it, or add --create-namespace.',
          );
        }
        newNamespace = true;
      }
      const change: ChangeSpec = {
        values: valuesArgs(req.values, req.shortcuts),
        resetValues: req.resetValues,
        description: `${OPERATION_PREFIX} install`,
        skipServerDryRun: newNamespace,
        onPlanned: req.onPreview,
        deleteInUse: req.deleteInUse,
      };
      const preview = await session.preview(change);
      const disrupts = preview.disruptions.join(' and ');
      if (disrupts)
        await session.confirm({ what: `this install ${disrupts}`, question: `This ${disrupts}. Go ahead?` });
      const output = await session.apply(change, {
        wait: req.wait,
        timeout,
        createNamespace: req.createNamespace,
        onProgress: req.onProgress,
        onWaitingInUse: req.onWaitingInUse,
        maxUnavailable: req.maxUnavailable,
        waitInUse: req.waitInUse,
        onRollout: req.onRollout,
      });
      const redis = preview.rendered.some((o) => o.kind === 'Deployment');
      return { release: req.release, namespace, helm, output, preview, redis, rollout: session.rolledOut() };
    },
  );
}
