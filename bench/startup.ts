/**
 * Start-up time of `--help`: the npm install, the single executable with and
 * without the V8 code cache, the same on the previous Node LTS, the binary as
 * kubectl runs it, and, for reference, a bare `node -e 0` of each embedded Node
 * and `kubectl version --client`. Also the binary and archive sizes.
 *   node --import tsx bench/startup.ts [runs]     (part of npm run bench)
 * Builds the linux/amd64 package three times into build/bench-package*; no cluster needed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { writeKubeconfig } from '../test/support/cli.js';
import { ROOT, TOOLS } from '../test/support/tools.js';
import { nodeBinary } from '../scripts/package/node-dist.js';
import {
  EARLIER_LINUX_NODES,
  NODE_VERSION,
  platformOf,
  targetsWithNode,
} from '../scripts/package/targets.js';
import { markdownTable, sh } from './support.js';

const RUNS = Number(process.argv[2] ?? 21);

function buildPackage(dir: string, codeCache: boolean, nodeVersion = NODE_VERSION, snapshot = false): string {
  mkdirSync(dir, { recursive: true });
  sh(process.execPath, [
    '--import',
    'tsx',
    path.join(ROOT, 'scripts/package.ts'),
    '--platform',
    'linux/amd64',
    '--out-dir',
    dir,
    '--manifest',
    path.join(dir, 'krew-manifest.yaml'),
    ...(codeCache ? [] : ['--without-code-cache']),
    '--node-version',
    nodeVersion,
    ...(snapshot ? ['--with-snapshot'] : []),
  ]);
  return path.join(dir, '.sea/linux_amd64/kubectl-expose_pods');
}

/** Wall-clock ms of each run, after two warm-up runs (a warm page cache, as a user's second call). */
function time(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, exitCode = 0): number[] {
  const once = (): number => {
    const start = process.hrtime.bigint();
    const r = spawnSync(cmd, args, {
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
    if (r.status !== exitCode) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  once();
  once();
  return Array.from({ length: RUNS }, once).sort((a, b) => a - b);
}

const pct = (xs: number[], p: number): number =>
  xs[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))]!;
const mib = (file: string): string => (statSync(file).size / 2 ** 20).toFixed(1);

const withCache = buildPackage(path.join(ROOT, 'build/bench-package'), true);
const withoutCache = buildPackage(path.join(ROOT, 'build/bench-package-nocache'), false);
const PREVIOUS = Object.keys(EARLIER_LINUX_NODES)[0]!;
const previous = buildPackage(path.join(ROOT, 'build/bench-package-previous'), true, PREVIOUS);
// Not released: the experiment of a V8 startup snapshot (see the colour check below).
const snapshot = buildPackage(path.join(ROOT, 'build/bench-package-snapshot'), true, NODE_VERSION, true);
/** The Node each build embeds, as fetched for it: a bare `node -e 0` is the floor. */
const bareNode = (version: string) => {
  const linux = targetsWithNode(version).find((t) => platformOf(t) === 'linux/amd64')!;
  return nodeBinary(linux.node, linux.exe);
};
// kubectl finds the plugin on PATH, as after a krew install.
const pathDir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-bench-path-'));
symlinkSync(withCache, path.join(pathDir, 'kubectl-expose_pods'));
const viaKubectl = { PATH: `${pathDir}:/usr/bin:/bin` };

const rows: [string, string, number[]][] = [];
for (const sub of [[], ['endpoints']]) {
  const args = [...sub, '--help'];
  const shown = `kubectl expose-pods ${args.join(' ')}`;
  rows.push([
    shown,
    `npm install (Node ${process.version}, bin/run.js)`,
    time(path.join(ROOT, 'bin/run.js'), args),
  ]);
  rows.push([shown, 'single executable, code cache', time(withCache, args)]);
  rows.push([shown, 'single executable, no code cache', time(withoutCache, args)]);
  rows.push([shown, `single executable, code cache, Node ${PREVIOUS}`, time(previous, args)]);
  rows.push([shown, 'single executable, startup snapshot (not released)', time(snapshot, args)]);
  rows.push([
    shown,
    'single executable, through kubectl',
    time(TOOLS.KUBECTL, ['expose-pods', ...args], viaKubectl),
  ]);
}
// A command that loads client-node and makes one request, refused at once (exit 5):
// the fixed cost before any real API work.
const kubeconfig = writeKubeconfig();
const refused = (cmd: string, pre: string[] = []) =>
  time(cmd, [...pre, 'endpoints', '--kubeconfig', kubeconfig], {}, 5);
const shownRefused = 'kubectl expose-pods endpoints (cluster refuses, exit 5)';
rows.push([
  shownRefused,
  `npm install (Node ${process.version}, bin/run.js)`,
  refused(path.join(ROOT, 'bin/run.js')),
]);
rows.push([shownRefused, 'single executable, code cache', refused(withCache)]);
rows.push([shownRefused, 'single executable, no code cache', refused(withoutCache)]);
rows.push([shownRefused, 'single executable, startup snapshot (not released)', refused(snapshot)]);
rows.push([
  'node -e 0',
  `reference: the embedded Node ${NODE_VERSION}`,
  time(bareNode(NODE_VERSION), ['-e', '0']),
]);
rows.push(['node -e 0', `reference: Node ${PREVIOUS}`, time(bareNode(PREVIOUS), ['-e', '0'])]);
rows.push(['kubectl version --client', 'reference', time(TOOLS.KUBECTL, ['version', '--client'])]);

console.log(
  `Start-up, ${RUNS} runs each after 2 warm-up runs, ${os.cpus().length} cores, ${new Date().toISOString().slice(0, 10)}`,
);
console.log(
  markdownTable(
    ['command', 'how', 'median ms', 'p90 ms', 'min ms'],
    rows.map(([cmd, how, xs]) => [
      cmd,
      how,
      pct(xs, 0.5).toFixed(0),
      pct(xs, 0.9).toFixed(0),
      xs[0]!.toFixed(0),
    ]),
  ),
);
const median = (how: string, cmd = 'kubectl expose-pods --help') =>
  pct(rows.find(([c, h]) => c === cmd && h === how)![2], 0.5);
for (const [version, how] of [
  [NODE_VERSION, 'single executable, code cache'],
  [NODE_VERSION, 'single executable, startup snapshot (not released)'],
  [PREVIOUS, `single executable, code cache, Node ${PREVIOUS}`],
] as const) {
  const floor = median(
    version === NODE_VERSION ? `reference: the embedded Node ${NODE_VERSION}` : `reference: Node ${version}`,
    'node -e 0',
  );
  console.log(
    `\nNode ${version}, ${how}: --help ${median(how).toFixed(0)} ms against a bare node -e 0 ${floor.toFixed(0)} ms: ${(median(how) / floor).toFixed(2)}x`,
  );
}
// What a snapshot freezes: state a module computes when it loads is taken from the build
// machine. oclif's help decides on colour that way, so on a terminal the snapshot's help
// stays plain; FORCE_COLOR=1 stands in for a terminal here.
const coloured = (exe: string) =>
  spawnSync(exe, ['--help'], { env: { ...process.env, FORCE_COLOR: '1' }, encoding: 'utf8' }).stdout.includes(
    '\u001b[',
  );
console.log(
  `\nFORCE_COLOR=1 --help in colour: code cache build ${coloured(withCache) ? 'yes' : 'no'}, startup snapshot build ${coloured(snapshot) ? 'yes' : 'no'}`,
);
const archive = path.join(ROOT, 'build/bench-package/kubectl-expose_pods_linux_amd64.tar.gz');
const bundle = path.join(ROOT, 'build/bench-package/.sea/bundle.cjs');
console.log(
  `\nlinux/amd64: binary ${mib(withCache)} MiB (without code cache ${mib(withoutCache)} MiB), archive ${mib(archive)} MiB, bundle ${mib(bundle)} MiB`,
);
