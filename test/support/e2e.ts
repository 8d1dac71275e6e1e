import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

import { clusterEnv, krewShell, packaged, ROOT, run, TOOLS, type Run } from './tools.js';

export { eventually } from './tools.js';

export const CLUSTER = clusterEnv();
const KUBECTL = TOOLS.KUBECTL;

{
  const up = run(KUBECTL, ['--kubeconfig', CLUSTER.KUBECONFIG, 'get', '--raw', '/readyz']);
  if (up.status !== 0) {
    throw new Error(`the local cluster is not up (npm run cluster:up, or npm run test:e2e):\n${up.stderr}`);
  }
}

/** What userShell's install passes; everything but ns, replicas and nodePortBase has a default. */
export interface InstallOptions {
  ns: string;
  replicas: number;
  nodePortBase: number | string;
  /** --create-namespace unless false. */
  createNamespace?: boolean;
  /** false adds --no-redis. */
  redis?: boolean;
  /** Each becomes --set. */
  set?: string[];
  /** Default 3m. */
  timeout?: string;
  /** Anything more, after the rest. */
  extra?: string[];
}

/**
 * The plugin installed with krew from the packaged archive, as a krew user
 * gets it: the single executable in $KREW_ROOT/bin.
 */
function krewInstall(): string {
  const { archive, manifest } = packaged();
  const krew = krewShell();
  const inst = krew.install(archive, manifest);
  if (inst.status !== 0) throw new Error(`kubectl krew install failed:\n${inst.stderr}`);
  return path.join(krew.root, 'bin');
}

/**
 * A user's machine: the plugin installed as the README says (npm install -g .)
 * into a private prefix, or with krew from the packaged single executable
 * (via: 'krew'); the given helm and the cluster's kubectl on PATH.
 */
export function userShell(helmPath: string, via: 'npm' | 'krew' = 'npm') {
  const bin = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-e2e-bin-'));
  symlinkSync(helmPath, path.join(bin, 'helm'));
  symlinkSync(KUBECTL, path.join(bin, 'kubectl'));
  let pluginPath: string[];
  if (via === 'krew') {
    pluginPath = [krewInstall(), bin];
  } else {
    const prefix = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-e2e-prefix-'));
    const inst = run('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', ROOT]);
    if (inst.status !== 0) throw new Error(`npm install -g failed:\n${inst.stderr}`);
    pluginPath = [path.join(prefix, 'bin'), bin, path.dirname(process.execPath)];
  }
  const env = {
    PATH: [...pluginPath, '/usr/bin', '/bin'].join(path.delimiter),
    KUBECONFIG: CLUSTER.KUBECONFIG,
    HOME: mkdtempSync(path.join(os.tmpdir(), 'expose-pods-e2e-home-')),
  };
  /** kubectl get ... -o json, parsed; throws with kubectl's message on failure. */
  const getJson = (...args: string[]): any => {
    const r = run(KUBECTL, ['get', ...args, '-o', 'json'], { env });
    if (r.status !== 0) throw new Error(`kubectl get ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  return {
    env,
    kubectl: (...args: string[]): Run => run(KUBECTL, args, { env }),
    /**
     * `kubectl expose-pods install RELEASE -n NS [--create-namespace] --replicas N
     * --node-port-base BASE [--no-redis] [--set S]... --timeout T [EXTRA]`: the
     * release most e2e files start from.
     */
    install: (release: string, o: InstallOptions): Run =>
      run(
        KUBECTL,
        [
          'expose-pods',
          'install',
          release,
          '-n',
          o.ns,
          ...(o.createNamespace === false ? [] : ['--create-namespace']),
          '--replicas',
          String(o.replicas),
          '--node-port-base',
          String(o.nodePortBase),
          ...(o.redis === false ? ['--no-redis'] : []),
          ...(o.set ?? []).flatMap((s) => ['--set', s]),
          '--timeout',
          o.timeout ?? '3m',
          ...(o.extra ?? []),
        ],
        { env },
      ),
    helm: (...args: string[]): Run => run(helmPath, args, { env }),
    getJson,
    /** The room pods in ns: of one release, or of every release there. */
    roomPods: (ns: string, release?: string): any[] =>
      getJson('pods', '-n', ns, '-l', chartLabels('room', release)).items,
    /** The per-pod Services in ns: of one release, or of every release there. */
    podServices: (ns: string, release?: string): any[] =>
      getJson('services', '-n', ns, '-l', chartLabels('pod-service', release)).items,
  };
}

/** The chart's labels of a component, of one release or of all. */
const chartLabels = (component: string, release?: string) =>
  `${release ? `app.kubernetes.io/instance=${release},` : ''}app.kubernetes.io/component=${component}`;

/** Whether a pod is Ready and not being deleted. */
export const isReadyPod = (p: any): boolean =>
  !p.metadata.deletionTimestamp &&
  p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

/**
 * `kubectl expose-pods ARGS` running in the background (endpoints --watch,
 * autoscale): its stdout lines as they arrive (as printed, and parsed), its stderr so far, and its exit.
 */
export function pluginInBackground<T>(env: NodeJS.ProcessEnv, args: string[], parse: (line: string) => T) {
  const child = spawn('kubectl', ['expose-pods', ...args], { env });
  const lines: string[] = [];
  const events: T[] = [];
  let stderr = '';
  createInterface({ input: child.stdout }).on('line', (l) => {
    lines.push(l);
    events.push(parse(l));
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, lines, events, stderr: () => stderr, exited };
}

/** `kubectl expose-pods endpoints ARGS --watch -o OUTPUT` in the background (pluginInBackground). */
export function watchEndpointsAs<T>(
  env: NodeJS.ProcessEnv,
  args: string[],
  output: 'json' | 'name',
  parse: (line: string) => T,
) {
  return pluginInBackground(env, ['endpoints', ...args, '--watch', '-o', output], parse);
}

/** The NDJSON events of `endpoints ARGS --watch -o json`, as watchEndpointsAs runs it. */
export function watchEndpointsJson(env: NodeJS.ProcessEnv, args: string[]) {
  return watchEndpointsAs(env, args, 'json', (l): any => JSON.parse(l));
}

/**
 * Holds new pods Pending (on) or lets them schedule again (off), by pausing the
 * local cluster's kube-scheduler (SIGSTOP; it runs without leader election, so
 * it resumes where it stopped). The pods exist and wait, as behind a slow
 * scheduler, while every node stays as it was: the change path's pre-flight
 * sees room for them (a taint or a cordon would rightly be refused up front),
 * and a scale keeps waiting for as long as a test needs.
 */
export function holdScheduling(on: boolean): void {
  const pid = Number(readFileSync(path.join(CLUSTER.CLUSTER_RUN, 'kube-scheduler.pid'), 'utf8').trim());
  process.kill(pid, on ? 'SIGSTOP' : 'SIGCONT');
}

/** Prints the component logs when a test failed, so CI shows why. */
export function printClusterLogsOnFailure(): void {
  if (!process.exitCode) return;
  const r = run('bash', [path.join(ROOT, 'test/cluster/cluster.sh'), 'logs']);
  console.error(r.stderr);
}

export { TOOLS };
