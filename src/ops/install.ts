import { existsSync } from 'node:fs';

import { toGoDuration } from '../core/duration.js';
import { releaseNameProblem } from '../core/release.js';
import { UsageError } from '../errors.js';
import { templateArgs, upgradeArgs, valuesArgs, type Shortcuts, type ValuesInput } from '../helm/args.js';
import { bundledChartPath } from '../helm/chart.js';
import { detectHelm, helmOrThrow, type Helm } from '../helm/helm.js';
import { loadKube, type KubeFlags } from '../kube/config.js';

export interface InstallRequest {
  release: string;
  kube: KubeFlags;
  helmBinary?: string;
  values: ValuesInput;
  shortcuts: Shortcuts;
  createNamespace: boolean;
  wait: boolean;
  timeout: string;
}

export interface InstallResult {
  release: string;
  namespace: string;
  helm: Helm;
  /** helm's own output: the rendered manifests for a dry run, the release summary and NOTES otherwise. */
  output: string;
}

/** Checks everything that can be checked before helm runs; returns the normalised timeout. */
function validate(req: InstallRequest): string {
  const problem = releaseNameProblem(req.release);
  if (problem) throw new UsageError(problem);
  const timeout = toGoDuration(req.timeout);
  if (!timeout)
    throw new UsageError(`--timeout ${req.timeout} is not a duration; use a value such as 90s, 5m or 1h30m`);
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

/** Renders the bundled chart with the request's values (helm template); changes nothing. */
export async function renderInstall(req: InstallRequest): Promise<InstallResult> {
  const { namespace, helm, target, values } = await prepare(req);
  const output = await helmOrThrow(
    helm,
    'template',
    templateArgs(req.release, bundledChartPath(), target, values),
  );
  return { release: req.release, namespace, helm, output };
}

/** Installs or upgrades the release with the bundled chart (helm upgrade --install). */
export async function runInstall(req: InstallRequest): Promise<InstallResult> {
  const { timeout, namespace, helm, target, values } = await prepare(req);
  const args = upgradeArgs(helm.version.major, req.release, bundledChartPath(), target, values, {
    createNamespace: req.createNamespace,
    wait: req.wait,
    timeout,
  });
  const output = await helmOrThrow(helm, 'upgrade --install', args);
  return { release: req.release, namespace, helm, output };
}
