import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';

import { atExit } from '../cleanup.js';
import { requireSecretDriver } from '../core/release.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import { openCredentialFiles } from './credential-file.js';
import { helmFailure } from './errors.js';
import { running, signalHelm, stopRunningHelm } from './processes.js';
import { parseHelmVersion, SUPPORTED_HELM_MAJORS, type HelmVersion } from './version.js';

const INSTALL_HINT =
  'Install Helm 3 or 4 (https://helm.sh/docs/intro/install/), put it on PATH, or pass --helm-binary /path/to/helm.';

/** A helm binary this plugin can drive. */
export interface Helm {
  path: string;
  version: HelmVersion;
}

export interface HelmResult {
  stdout: string;
  stderr: string;
  code: number;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds helm: the given path, or the first `helm` on PATH. */
export async function locateHelm(explicit?: string, envPath = process.env.PATH ?? ''): Promise<string> {
  if (explicit) {
    if (await isExecutable(explicit)) return explicit;
    throw new ExposePodsError(
      `--helm-binary ${explicit} is not an executable file`,
      ExitCode.HELM_MISSING,
      INSTALL_HINT,
    );
  }
  const names = process.platform === 'win32' ? ['helm.exe', 'helm'] : ['helm'];
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (await isExecutable(candidate)) return candidate;
    }
  }
  throw new ExposePodsError('helm was not found on PATH', ExitCode.HELM_MISSING, INSTALL_HINT);
}

/**
 * helm's own cluster settings from the environment. Each would point helm at
 * a cluster (or identity) other than the one our API requests use, so a
 * command could uninstall in one cluster and delete data in another. Our helm
 * runs never see them: the target is always passed as flags (see kubeArgs).
 */
export const HELM_CLUSTER_ENV = [
  'HELM_KUBECONTEXT',
  'HELM_KUBEAPISERVER',
  'HELM_KUBETOKEN',
  'HELM_KUBEASUSER',
  'HELM_KUBEASGROUPS',
  'HELM_KUBECAFILE',
  'HELM_KUBEINSECURE_SKIP_TLS_VERIFY',
  'HELM_KUBETLS_SERVER_NAME',
  'HELM_NAMESPACE',
] as const;

/** The environment helm runs with: ours, less HELM_CLUSTER_ENV. */
export function helmEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const drop = new Set<string>(HELM_CLUSTER_ENV);
  return Object.fromEntries(Object.entries(env).filter(([k]) => !drop.has(k)));
}

/** The HELM_CLUSTER_ENV variables set here, as NAME=value, for a warning that they are ignored. */
export function ignoredHelmEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return HELM_CLUSTER_ENV.filter((k) => env[k]).map((k) =>
    k === 'HELM_KUBETOKEN' ? `${k}=<redacted>` : `${k}=${env[k] ?? ''}`,
  );
}

export { stopRunningHelm } from './processes.js';

/** Unregisters the clean-up that stops running helms, once none runs. */
let stopAtExit: (() => void) | undefined;

export interface RunHelmOptions {
  /** Called with helm's pid once it started. */
  onSpawn?: (pid: number) => void;
  /** Written to helm's stdin (for `--values -`), so values never touch the disk. */
  stdin?: string;
  /** Aborting stops helm (SIGTERM); the result then has code 1 and the reason in stderr. */
  signal?: AbortSignal;
}

/** Runs helm with the given arguments and collects its output; never throws on a non-zero exit. */
export function runHelm(helmPath: string, args: string[], opts: RunHelmOptions = {}): Promise<HelmResult> {
  return new Promise((resolve, reject) => {
    // A kubeconfig with a live credential exists only while a helm that reads it runs.
    const closeCredentials = openCredentialFiles(args);
    const child = spawn(helmPath, args, {
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: helmEnv(),
      // A process group of its own: a terminal's Ctrl-C reaches us, and we stop helm deliberately.
      detached: process.platform !== 'win32',
    });
    // A signal nothing else handles (install --dry-run has no handler) stops helm before we die of it.
    if (!running.size) stopAtExit = atExit(() => stopRunningHelm('SIGTERM'), 'leaving');
    running.add(child);
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    let unread = false;
    if (opts.stdin !== undefined) {
      // A helm that exits before it reads its values (a bad flag, a wrapper that refuses) closes the pipe:
      // EPIPE then is not ours to report; its exit code and stderr are. Exit 0 with its values unread is a failure.
      child.stdin?.on('error', () => (unread = true));
      child.stdin?.end(opts.stdin);
    }
    const abort = () => {
      signalHelm(child, 'SIGTERM');
    };
    opts.signal?.addEventListener('abort', abort, { once: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      running.delete(child);
      if (!running.size) stopAtExit?.();
      closeCredentials();
      reject(
        new ExposePodsError(`cannot run ${helmPath}: ${e.message}`, ExitCode.HELM_MISSING, INSTALL_HINT),
      );
    });
    child.on('close', (code) => {
      running.delete(child);
      if (!running.size) stopAtExit?.();
      closeCredentials();
      opts.signal?.removeEventListener('abort', abort);
      const aborted = opts.signal?.aborted ? `stopped: ${String(opts.signal.reason)}\n` : '';
      const lost = unread && code === 0 ? `${helmPath} exited 0 without reading its values from stdin\n` : '';
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: aborted + lost + Buffer.concat(err).toString('utf8'),
        code: lost ? 1 : (code ?? 1),
      });
    });
  });
}

/** Locates helm and checks that it is Helm 3 or 4. */
export async function detectHelm(explicit?: string): Promise<Helm> {
  requireSecretDriver();
  const helmPath = await locateHelm(explicit);
  const res = await runHelm(helmPath, ['version', '--short']);
  const version = res.code === 0 ? parseHelmVersion(res.stdout) : undefined;
  if (!version) {
    throw new ExposePodsError(
      `${helmPath} did not report a Helm version (\`helm version --short\` printed ${JSON.stringify((res.stdout + res.stderr).trim().slice(0, 200))})`,
      ExitCode.HELM_MISSING,
      INSTALL_HINT,
    );
  }
  if (!(SUPPORTED_HELM_MAJORS as readonly number[]).includes(version.major)) {
    throw new ExposePodsError(
      `${helmPath} is Helm ${version.raw}; this plugin supports Helm 3 and Helm 4`,
      ExitCode.HELM_MISSING,
      INSTALL_HINT,
    );
  }
  return { path: helmPath, version };
}

/** Runs helm and returns stdout, or throws a classified error on failure. */
export async function helmOrThrow(
  helm: Helm,
  action: string,
  args: string[],
  opts: RunHelmOptions = {},
): Promise<string> {
  const res = await runHelm(helm.path, args, opts);
  if (opts.signal?.aborted) {
    const reason: unknown = opts.signal.reason;
    throw reason instanceof ExposePodsError
      ? reason
      : new ExposePodsError(`helm ${action} was stopped: ${String(reason)}`, ExitCode.ERROR);
  }
  if (res.code !== 0) throw helmFailure(action, res.stderr || res.stdout);
  return res.stdout;
}
