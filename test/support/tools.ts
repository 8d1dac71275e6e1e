import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { run as runProgram, type Run } from '../../scripts/lib/run.js';
import { archiveName, platformOf, TARGETS } from '../../scripts/package/targets.js';

export { eventually } from './poll.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CHART = path.join(ROOT, 'charts/expose-pods');
export const CLI = path.join(ROOT, 'bin/run.js');

const toolsDir =
  process.env.EXPOSE_PODS_TOOLS_DIR ??
  path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'kubectl-expose-pods/tools');

/**
 * The binaries the tests run: helm 3 and 4, krew and kube-score from scripts/install-tools.sh, kubectl
 * from the control-plane build (test/cluster/cluster.sh build). A missing one
 * fails the test run; it never skips.
 */
function loadTools(): Record<'HELM3' | 'HELM4' | 'KREW' | 'KUBE_SCORE' | 'KUBECTL', string> {
  const envFile = path.join(toolsDir, 'env');
  if (!existsSync(envFile))
    throw new Error(`${envFile} is missing: run npm run tools (npm test does it first)`);
  const entries = Object.fromEntries(
    readFileSync(envFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  ) as Record<string, string | undefined>;
  const get = (k: string): string => {
    const v = entries[k];
    if (!v || !existsSync(v))
      throw new Error(`${k} in ${envFile} is missing or not built: run npm run tools`);
    return v;
  };
  const cluster = spawnSync('bash', [path.join(ROOT, 'test/cluster/cluster.sh'), 'env'], {
    encoding: 'utf8',
  });
  const bin = /^CLUSTER_BIN=(.*)$/m.exec(cluster.stdout)?.[1];
  const kubectl = bin && path.join(bin, 'kubectl');
  if (!kubectl || !existsSync(kubectl)) throw new Error('kubectl is not built: run npm run cluster:build');
  return {
    HELM3: get('HELM3'),
    HELM4: get('HELM4'),
    KREW: get('KREW'),
    KUBE_SCORE: get('KUBE_SCORE'),
    KUBECTL: kubectl,
  };
}

export const TOOLS = loadTools();

/**
 * What scripts/test.sh packages before the tests run: the linux/amd64 and
 * windows/amd64 archives, checksums.txt and their krew manifest, as
 * `npm run package` makes them. Not under dist/: the e2e tests' `npm install -g .`
 * runs the prepare script, which empties dist/.
 */
export const PACKAGE_DIR = path.join(ROOT, 'build/test-package');

/** Every platform's archive, by platform ("linux/amd64"): scripts/test.sh packages all five. */
export const ARCHIVES: Record<string, string> = Object.fromEntries(
  TARGETS.map((t) => [platformOf(t), path.join(PACKAGE_DIR, archiveName(t))]),
);

/** The archives scripts/test.sh packages, and their manifest; a missing one fails the test run. */
export function packaged(): {
  archive: string;
  darwinArchive: string;
  windowsArchive: string;
  manifest: string;
} {
  const manifest = path.join(PACKAGE_DIR, 'krew-manifest.yaml');
  for (const f of [...Object.values(ARCHIVES), manifest])
    if (!existsSync(f)) throw new Error(`${f} is missing: npm test packages it first (scripts/test.sh)`);
  return {
    archive: ARCHIVES['linux/amd64']!,
    darwinArchive: ARCHIVES['darwin/arm64']!,
    windowsArchive: ARCHIVES['windows/amd64']!,
    manifest,
  };
}

/**
 * A krew user's shell: a new $KREW_ROOT, with $KREW_ROOT/bin and the real krew
 * (as kubectl-krew) on PATH, and `install` for `kubectl krew install
 * --manifest --archive`, the way a release is installed before it is in krew-index.
 */
export function krewShell(env: NodeJS.ProcessEnv = {}) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-krew-'));
  const bin = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-krew-bin-'));
  symlinkSync(TOOLS.KREW, path.join(bin, 'kubectl-krew'));
  const shellEnv: NodeJS.ProcessEnv = {
    PATH: [path.join(root, 'bin'), bin, '/usr/bin', '/bin'].join(path.delimiter),
    KREW_ROOT: root,
    KREW_NO_UPGRADE_CHECK: '1',
    ...env,
  };
  const kubectl = (...args: string[]): Run => run(TOOLS.KUBECTL, args, { env: shellEnv });
  return {
    root,
    env: shellEnv,
    kubectl,
    install: (archive: string, manifest: string): Run =>
      kubectl('krew', 'install', `--manifest=${manifest}`, `--archive=${archive}`),
  };
}

/** Both Helm majors: chart tests run under each. */
export const HELMS = [
  { name: 'helm3', path: TOOLS.HELM3, major: 3 },
  { name: 'helm4', path: TOOLS.HELM4, major: 4 },
] as const;

export type { Run } from '../../scripts/lib/run.js';

/** Runs a program to completion; output as text, without colour. */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Run {
  return runProgram(cmd, args, { ...opts, env: { NO_COLOR: '1', ...opts.env } });
}

/** A stack trace line as Node prints it; user-facing output must never contain one. */
export const STACK_LINE = /^\s+at .+\(.+:\d+:\d+\)$|^\s+at .+:\d+:\d+$/m;

/** The local control plane started by `npm run cluster:up` (test/cluster/cluster.sh env): tests and benchmarks alike. */
export function clusterEnv(): {
  KUBECONFIG: string;
  CLUSTER_BIN: string;
  CLUSTER_RUN: string;
  DATAPLANE?: string;
} {
  const r = run('bash', [path.join(ROOT, 'test/cluster/cluster.sh'), 'env']);
  if (r.status !== 0) throw new Error(`cluster.sh env failed:\n${r.stderr}`);
  const env = Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return env as { KUBECONFIG: string; CLUSTER_BIN: string; CLUSTER_RUN: string; DATAPLANE?: string };
}
