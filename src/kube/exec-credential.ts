import { spawn, type ChildProcess } from 'node:child_process';

import type { Cluster, KubeConfig, User } from '@kubernetes/client-node';

import { atExit } from '../cleanup.js';
import { ExitCode } from '../errors.js';
import { credentialFile } from '../helm/credential-file.js';
import { KubeApiError } from './errors.js';
import { carriedImpersonation, impersonationFields } from './impersonation.js';

/**
 * Exec credential plugins (`aws eks get-token`, `gke-gcloud-auth-plugin`,
 * `kubelogin`), run the way kubectl runs them: once per process, the
 * credential reused until its `expirationTimestamp`, requests that go out
 * meanwhile waiting for the one sign-in in flight. The plugin's stderr is the
 * user's (sign-in prompts, device codes), and with `interactiveMode`
 * IfAvailable or Always it reads the terminal. A plugin that fails, or takes
 * longer than --request-timeout, ends the command with exit 5.
 *
 * client-node's own ExecAuth starts the plugin for every request made before
 * the first run ends, keeps no credential without an expiry, swallows the
 * plugin's stderr and has no deadline; so the user's exec entry is replaced
 * by a provider that only this module answers.
 */

/** The exec entry of a kubeconfig user (client.authentication.k8s.io v1 and v1beta1). */
export interface ExecConfig {
  command: string;
  args?: string[] | null;
  env?: { name: string; value: string }[] | null;
  apiVersion?: string;
  /** Never, IfAvailable or Always. */
  interactiveMode?: string;
  provideClusterInfo?: boolean;
  installHint?: string;
}

/** What the plugin prints on stdout. */
export interface ExecCredential {
  apiVersion?: string;
  kind?: string;
  status?: {
    token?: string;
    clientCertificateData?: string;
    clientKeyData?: string;
    expirationTimestamp?: string;
  };
}

/** How a plugin is run: the deadline, and whether the user is at a terminal. */
export interface ExecRunOptions {
  /** --request-timeout in ms; 0 waits as long as the plugin takes. */
  timeoutMs: number;
  /** Whether stdin is a terminal (the plugin may then prompt and read it). */
  stdinIsTTY: boolean;
}

/** The name of the auth provider that stands for an exec entry once this module has taken it over. */
export const EXEC_PROVIDER = 'kubectl-expose-pods-exec';

/** How long before its expiry a credential is renewed, as client-go does not cut it close either. */
const EXPIRY_MARGIN_MS = 10_000;

/** Credentials by plugin invocation (command, args, env, cluster): one sign-in per process for each. */
const credentials = new Map<string, { credential?: ExecCredential; inFlight?: Promise<ExecCredential> }>();

/** How many times a plugin was started in this process (the tests and `--v` read it). */
export let execRuns = 0;

/** Forgets every credential (tests). */
export function resetExecCredentials(): void {
  credentials.clear();
  execRuns = 0;
}

function expired(c: ExecCredential, now = Date.now()): boolean {
  const at = c.status?.expirationTimestamp;
  if (!at) return false; // No expiry: kept for the life of the process, as client-go keeps it.
  const t = Date.parse(at);
  return Number.isNaN(t) || t - EXPIRY_MARGIN_MS <= now;
}

function pluginError(exec: ExecConfig, message: string, hint: string): KubeApiError {
  return new KubeApiError(
    `the credential plugin ${exec.command} ${message}`,
    undefined,
    undefined,
    ExitCode.CLUSTER_UNREACHABLE,
    hint,
  );
}

/** Whether the plugin may talk to the user, by client-go's rule; Always without a terminal is an error. */
export function interactive(exec: ExecConfig, stdinIsTTY: boolean): boolean {
  const mode = exec.interactiveMode ?? 'IfAvailable';
  if (mode === 'Never') return false;
  if (mode === 'Always' && !stdinIsTTY)
    throw pluginError(
      exec,
      'needs a terminal (interactiveMode: Always), and stdin is not one',
      'Run the command in a terminal, or sign in first so that the plugin has a cached credential.',
    );
  return stdinIsTTY;
}

/** KUBERNETES_EXEC_INFO, as client-go sets it: the API version, interactive, and the cluster when asked for. */
export function execInfo(exec: ExecConfig, isInteractive: boolean, cluster?: Cluster): string {
  const spec: Record<string, unknown> = { interactive: isInteractive };
  if (exec.provideClusterInfo && cluster) {
    spec.cluster = {
      server: cluster.server,
      ...(cluster.tlsServerName && { 'tls-server-name': cluster.tlsServerName }),
      ...(cluster.caData && { 'certificate-authority-data': cluster.caData }),
      ...(cluster.skipTLSVerify && { 'insecure-skip-tls-verify': true }),
      ...(cluster.proxyUrl && { 'proxy-url': cluster.proxyUrl }),
    };
  }
  return JSON.stringify({
    apiVersion: exec.apiVersion ?? 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    spec,
  });
}

/** A signal to a plugin: to its process group when it has one of its own. */
function signalPlugin(child: ChildProcess, detached: boolean, signal: NodeJS.Signals): void {
  try {
    if (detached && child.pid !== undefined) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // Gone already.
  }
}

/**
 * A plugin that hangs or traps SIGTERM must not outlive the command (it may
 * hold the terminal's stdin): `stop` sends SIGTERM, then SIGKILL 2 s later,
 * and whatever still runs when the command ends, however it ends, is killed
 * with all it started (cleanup.ts).
 */
function trackPlugin(child: ChildProcess, detached: boolean): { stop: () => void; done: () => void } {
  const unregister = atExit(() => {
    signalPlugin(child, detached, 'SIGKILL');
  }, 'leaving');
  let finished = false;
  return {
    stop: () => {
      signalPlugin(child, detached, 'SIGTERM');
      setTimeout(() => {
        if (!finished) signalPlugin(child, detached, 'SIGKILL');
      }, 2000).unref();
    },
    done: () => {
      // Its process group may live on (a child it left behind): that is the plugin's, not ours to reap.
      finished = true;
      unregister();
    },
  };
}

/** Runs the plugin once: its stderr to ours, stdin the terminal's when interactive, bounded by the timeout. */
export function runExecPlugin(
  exec: ExecConfig,
  opts: ExecRunOptions,
  cluster?: Cluster,
): Promise<ExecCredential> {
  const isInteractive = interactive(exec, opts.stdinIsTTY);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const e of exec.env ?? []) env[e.name] = e.value;
  env.KUBERNETES_EXEC_INFO = execInfo(exec, isInteractive, cluster);
  execRuns++;
  return new Promise((resolve, reject) => {
    let stdout = '';
    let timer: NodeJS.Timeout | undefined;
    // Not talking to the user: a process group of its own, so it can be ended with all it started.
    const detached = !isInteractive && process.platform !== 'win32';
    const child = spawn(exec.command, exec.args ?? [], {
      env,
      stdio: [isInteractive ? 'inherit' : 'ignore', 'pipe', 'inherit'],
      detached,
    });
    const plugin = trackPlugin(child, detached);
    const fail = (e: KubeApiError) => {
      clearTimeout(timer);
      reject(e);
    };
    if (opts.timeoutMs > 0) {
      timer = setTimeout(() => {
        plugin.stop();
        fail(
          pluginError(
            exec,
            `did not return a credential within ${opts.timeoutMs / 1000}s (--request-timeout)`,
            'Finish the sign-in it asked for, or raise --request-timeout to give it more time.',
          ),
        );
      }, opts.timeoutMs);
      timer.unref();
    }
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (stdout += d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      plugin.done();
      fail(
        pluginError(
          exec,
          e.code === 'ENOENT' ? 'was not found' : `could not be started: ${e.message}`,
          exec.installHint?.trim() || `Install ${exec.command} or put it on PATH, as kubectl needs it too.`,
        ),
      );
    });
    child.on('close', (code, signal) => {
      plugin.done();
      if (code !== 0) {
        fail(
          pluginError(
            exec,
            signal ? `was stopped by ${signal}` : `failed (exit ${code})`,
            'Its own message is above. Sign in again as your provider asks, or pick another --context.',
          ),
        );
        return;
      }
      clearTimeout(timer);
      try {
        resolve(parseCredential(exec, stdout));
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

/** The plugin's stdout as a credential: an ExecCredential with a token or a client certificate and key. */
export function parseCredential(exec: ExecConfig, stdout: string): ExecCredential {
  const check = 'Check the plugin with: kubectl get --raw /version -v 6';
  let cred: ExecCredential;
  try {
    cred = JSON.parse(stdout) as ExecCredential;
  } catch {
    throw pluginError(exec, 'printed something that is not an ExecCredential', check);
  }
  const s = cred.status;
  if (cred.kind !== 'ExecCredential' || !s || !(s.token || (s.clientCertificateData && s.clientKeyData)))
    throw pluginError(exec, 'returned no token and no client certificate', check);
  return cred;
}

function keyOf(exec: ExecConfig, cluster?: Cluster): string {
  return JSON.stringify([
    exec.command,
    exec.args ?? [],
    exec.env ?? [],
    exec.provideClusterInfo ? cluster?.server : '',
  ]);
}

/**
 * The credential for an exec entry: the one this process already has while
 * it is valid, else the sign-in in flight, else a new run of the plugin.
 */
export function execCredential(
  exec: ExecConfig,
  opts: ExecRunOptions,
  cluster?: Cluster,
): Promise<ExecCredential> {
  const key = keyOf(exec, cluster);
  let entry = credentials.get(key);
  if (!entry) credentials.set(key, (entry = {}));
  if (entry.credential && !expired(entry.credential)) return Promise.resolve(entry.credential);
  if (!entry.inFlight) {
    const slot = entry;
    entry.inFlight = runExecPlugin(exec, opts, cluster).then(
      (c) => {
        slot.credential = c;
        slot.inFlight = undefined;
        return c;
      },
      (e: unknown) => {
        // A failed sign-in is not kept: the next request of a long-running command tries again.
        slot.inFlight = undefined;
        throw e;
      },
    );
    return entry.inFlight;
  }
  return entry.inFlight;
}

/** The exec entries this module answers for, by KubeConfig. */
const takenOver = new WeakMap<KubeConfig, { exec: ExecConfig; opts: ExecRunOptions; cluster?: Cluster }>();

/**
 * How long a credential must stay valid to be handed to helm: a helm process
 * cannot sign in again with it, and an upgrade waits up to its --timeout.
 */
export const HELM_CREDENTIAL_MIN_VALIDITY_MS = 10 * 60_000;

/**
 * A kubeconfig for helm that carries this process's credential, so that helm
 * does not run the exec plugin again (each helm process would, once or twice:
 * a device-code sign-in would ask the user again for each). Only the current
 * context, its cluster (file references absolute) and a user holding the
 * token or client certificate (and the user's impersonation); mode 0600 in
 * a private directory, on disk only while a helm reads it, and removed on
 * every way out. Undefined when the user has no exec plugin, or when the
 * credential expires within HELM_CREDENTIAL_MIN_VALIDITY_MS (helm then signs
 * in by itself, from the user's kubeconfig).
 */
export async function helmKubeconfig(kc: KubeConfig): Promise<string | undefined> {
  const entry = takenOver.get(kc);
  const context = kc.getContextObject(kc.getCurrentContext());
  if (!entry || !context) return undefined;
  const { status = {} } = await execCredential(entry.exec, entry.opts, entry.cluster);
  const expiry = status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : Infinity;
  if (!(expiry - Date.now() >= HELM_CREDENTIAL_MIN_VALIDITY_MS)) return undefined;
  const { KubeConfig: Config } = await import('@kubernetes/client-node');
  const out = new Config();
  const user = `${context.user}-signed-in`;
  out.loadFromOptions({
    clusters: kc.clusters.filter((c) => c.name === context.cluster),
    users: [
      {
        name: user,
        ...(status.token && { token: status.token }),
        ...(status.clientCertificateData && {
          certData: Buffer.from(status.clientCertificateData).toString('base64'),
        }),
        ...(status.clientKeyData && { keyData: Buffer.from(status.clientKeyData).toString('base64') }),
      },
    ],
    contexts: [{ ...context, user }],
    currentContext: context.name,
  });
  // The user's impersonation too: helm acts as the identity our permission checks asked about.
  const config = JSON.parse(out.exportConfig()) as { users: { user: Record<string, unknown> }[] };
  const impersonation = carriedImpersonation(kc);
  for (const u of config.users) Object.assign(u.user, impersonation && impersonationFields(impersonation));
  // Written only while a helm that reads it runs, and removed on every way out (helm/credential-file.ts).
  return credentialFile(JSON.stringify(config));
}

/** The request options client-node's authenticators fill in. */
interface AuthOptions {
  headers?: Record<string, string>;
  cert?: string | Buffer;
  key?: string | Buffer;
}

/**
 * Takes over the current user's exec entry: its requests get their
 * credential from execCredential. Other users, and a kubeconfig without
 * exec, are left to client-node.
 */
export function takeOverExec(kc: KubeConfig, opts: ExecRunOptions): void {
  const user = kc.getCurrentUser();
  const exec = (user?.exec ?? undefined) as ExecConfig | undefined;
  if (!user || !exec?.command) return;
  const cluster = kc.getCurrentCluster() ?? undefined;
  const ours: User = { ...user, exec: undefined, authProvider: { name: EXEC_PROVIDER, config: {} } };
  takenOver.set(kc, { exec, opts, cluster });
  kc.users = kc.users.map((u) => (u === user ? ours : u));
  kc.addAuthenticator({
    isAuthProvider: (u: User) => (u.authProvider as { name?: string } | undefined)?.name === EXEC_PROVIDER,
    applyAuthentication: async (_u: User, o: AuthOptions) => {
      const { status = {} } = await execCredential(exec, opts, cluster);
      if (status.clientCertificateData) o.cert = status.clientCertificateData;
      if (status.clientKeyData) o.key = status.clientKeyData;
      if (status.token) o.headers = { ...o.headers, Authorization: `Bearer ${status.token}` };
    },
  });
}
