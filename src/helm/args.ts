/**
 * Pure builders for helm argument lists. Helm 3 and Helm 4 spell some flags
 * differently; every difference lives here, keyed by the major version.
 */

/** Values the user passes to a release, in Helm's own terms. */
export interface ValuesInput {
  /** -f/--values files, lowest precedence, in order. */
  valuesFiles: string[];
  /** --set expressions, in order; later ones win. */
  set: string[];
  setString: string[];
  setFile: string[];
}

/** The plugin's shortcut flags; each maps to one documented chart value. */
export interface Shortcuts {
  replicas?: number;
  image?: string;
  port?: number;
  nodePortBase?: number;
  exposeType?: 'NodePort' | 'LoadBalancer';
  /** false leaves Redis out (--no-redis); true forces it in. */
  redis?: boolean;
}

/** Splits "repo[:tag]" (a registry port is not a tag; a digest stays in the repository). */
export function splitImage(image: string): { repository: string; tag?: string } {
  if (image.includes('@')) return { repository: image };
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  if (colon > slash) return { repository: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { repository: image };
}

/**
 * Escapes a value for helm's --set parser, where `,` separates assignments
 * and `\\` escapes: `--image repo/app:1.2,redis.enabled=false` must set one
 * value, never a second key.
 */
export function escapeSetValue(v: string): string {
  return v.replace(/[\\,]/g, (c) => `\\${c}`);
}

/**
 * The shortcut flags as helm flags, in a fixed order. Strings go through
 * --set-string, escaped, so a tag like 2.50 stays the string "2.50" and a
 * comma cannot add a key; numbers and booleans through --set.
 */
export function shortcutArgs(s: Shortcuts): string[] {
  const out: string[] = [];
  const str = (k: string, v: string) => out.push('--set-string', `${k}=${escapeSetValue(v)}`);
  if (s.replicas !== undefined) out.push('--set', `room.replicas=${s.replicas}`);
  if (s.image !== undefined) {
    const { repository, tag } = splitImage(s.image);
    str('room.image.repository', repository);
    if (tag !== undefined) str('room.image.tag', tag);
  }
  if (s.port !== undefined)
    out.push('--set', `room.containerPort=${s.port}`, '--set', `expose.port=${s.port}`);
  if (s.nodePortBase !== undefined) out.push('--set', `expose.nodePortBase=${s.nodePortBase}`);
  if (s.exposeType !== undefined) str('expose.type', s.exposeType);
  if (s.redis !== undefined) out.push('--set', `redis.enabled=${s.redis}`);
  return out;
}

/**
 * Value flags for helm. Shortcuts go in before the user's own --set, so an
 * explicit --set wins (Helm applies -f files first, then --set flags in order).
 */
export function valuesArgs(values: ValuesInput, shortcuts: Shortcuts = {}): string[] {
  const args: string[] = [];
  for (const f of values.valuesFiles) args.push('--values', f);
  // helm applies every --set-string after every --set, whatever their order: a shortcut's
  // --set-string would beat the user's --set of the same key, so it is left out then.
  const userKeys = new Set(
    [...values.set, ...values.setString, ...values.setFile].flatMap((e) =>
      e.split(/(?<!\\),/).map((a) => a.slice(0, a.indexOf('='))),
    ),
  );
  const shortcut = shortcutArgs(shortcuts);
  for (let i = 0; i < shortcut.length; i += 2) {
    const [flag = '', expr = ''] = [shortcut[i], shortcut[i + 1]];
    if (!userKeys.has(expr.slice(0, expr.indexOf('=')))) args.push(flag, expr);
  }
  for (const s of values.set) args.push('--set', s);
  for (const s of values.setString) args.push('--set-string', s);
  for (const s of values.setFile) args.push('--set-file', s);
  return args;
}

/** Where helm finds the cluster: only what the user chose, so helm's defaults match ours. */
export interface KubeTarget {
  namespace: string;
  kubeconfig?: string;
  context?: string;
}

export function kubeArgs(t: KubeTarget): string[] {
  const args = ['--namespace', t.namespace];
  if (t.kubeconfig) args.push('--kubeconfig', t.kubeconfig);
  if (t.context) args.push('--kube-context', t.context);
  return args;
}

/** `helm template`: a local render that contacts no cluster. */
export function templateArgs(release: string, chart: string, target: KubeTarget, values: string[]): string[] {
  return ['template', release, chart, ...kubeArgs(target), ...values];
}

export interface UpgradeOptions {
  createNamespace: boolean;
  wait: boolean;
  /** A Go duration, as helm takes it: "5m0s", "300s". */
  timeout: string;
  /** helm's revision description (helm history shows it). */
  description?: string;
  /**
   * Helm 4 applies server-side: take fields another manager owns (kubectl scale owns
   * spec.replicas after it ran). Helm 3's three-way merge overrides them anyway.
   */
  forceConflicts?: boolean;
}

/**
 * `helm upgrade --install`. Helm 4 made --wait take a strategy (bare --wait is
 * "watcher"); Helm 3 takes a boolean. We ask for readiness explicitly in both.
 */
export function upgradeArgs(
  helmMajor: number,
  release: string,
  chart: string,
  target: KubeTarget,
  values: string[],
  opts: UpgradeOptions,
): string[] {
  const args = ['upgrade', '--install', release, chart, ...kubeArgs(target), ...values];
  if (opts.createNamespace) args.push('--create-namespace');
  if (opts.wait) args.push(helmMajor >= 4 ? '--wait=watcher' : '--wait');
  args.push('--timeout', opts.timeout);
  if (opts.description) args.push('--description', opts.description);
  if (opts.forceConflicts && helmMajor >= 4) args.push('--force-conflicts');
  return args;
}

/** `helm rollback` to a revision, without waiting: the same in Helm 3 and 4. */
export function rollbackArgs(release: string, revision: number, target: KubeTarget): string[] {
  return ['rollback', release, String(revision), ...kubeArgs(target)];
}

/**
 * `helm list` for exactly one release, in any status. Helm 3 lists only
 * deployed and failed releases unless given --all; Helm 4 lists every status
 * by default and has no --all.
 */
export function listArgs(helmMajor: number, release: string, target: KubeTarget): string[] {
  const args = ['list', '--filter', `^${release.replace(/\./g, '\\.')}$`, '-o', 'json', ...kubeArgs(target)];
  if (helmMajor < 4) args.splice(1, 0, '--all');
  return args;
}

/** `helm uninstall`: the same in Helm 3 and 4. */
export function uninstallArgs(release: string, target: KubeTarget, timeout: string): string[] {
  return ['uninstall', release, ...kubeArgs(target), '--timeout', timeout];
}
