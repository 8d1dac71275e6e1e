/**
 * `npm run test:mutation`: StrykerJS on src/core with the unit tests
 * (stryker.config.mjs), then the score per file as a Markdown table.
 *
 *   npm run test:mutation                                   all of src/core
 *   npm run test:mutation -- --mutate src/core/scale.ts     one file (arguments go to stryker run)
 *   npm run test:mutation -- --dryRunOnly                   Stryker's initial test run only, no mutant (npm test runs it)
 *   node --import tsx scripts/mutation.ts --summary [FILE...]  the table of the last run's report, or of
 *                                                             reports merged (a file's row from the last that has it)
 *
 * Stryker 10 needs Node 22 or later. The machine's Node may be older, so the
 * run uses the Node that `npm run package` embeds (fetched from the npm
 * registry into the cache and checked against its pinned sha512), and puts it
 * first on PATH: the tap runner starts every test file with `node`.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { log, nodeBinary } from './package/node-dist.js';
import { platformOf, ROOT, TARGETS } from './package/targets.js';

const REPORT = path.join(ROOT, 'reports/mutation/mutation.json');

/** A mutant's status as Stryker's JSON report spells it. */
type Status = 'Killed' | 'Survived' | 'NoCoverage' | 'Timeout' | 'CompileError' | 'RuntimeError' | 'Ignored';

interface Report {
  files: Record<string, { mutants: { status: Status }[] }>;
}

/** Killed, survived, … per file, and the score as Stryker computes it: detected / (detected + undetected). */
export function scores(report: Report): string {
  const rows: string[] = [
    '| file | mutants | killed | timed out | survived | no coverage | score |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  const total = { mutants: 0, killed: 0, timeout: 0, survived: 0, none: 0 };
  const line = (name: string, t: typeof total) => {
    const valid = t.killed + t.timeout + t.survived + t.none;
    const score = valid === 0 ? 'n/a' : `${((100 * (t.killed + t.timeout)) / valid).toFixed(1)}%`;
    return `| ${name} | ${t.mutants} | ${t.killed} | ${t.timeout} | ${t.survived} | ${t.none} | ${score} |`;
  };
  for (const [file, { mutants }] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
    const t = { mutants: 0, killed: 0, timeout: 0, survived: 0, none: 0 };
    for (const m of mutants) {
      if (m.status === 'Ignored' || m.status === 'CompileError' || m.status === 'RuntimeError') continue;
      t.mutants++;
      if (m.status === 'Killed') t.killed++;
      else if (m.status === 'Timeout') t.timeout++;
      else if (m.status === 'Survived') t.survived++;
      else t.none++;
    }
    for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += t[k];
    rows.push(line(path.relative(ROOT, path.resolve(ROOT, file)), t));
  }
  rows.push(line('**all**', total));
  return rows.join('\n');
}

/**
 * The table of one report, or of several: a file's row comes from the last
 * report that mutated it (a run narrowed with --mutate on top of a whole one).
 */
function summary(reports: string[]): void {
  const files: Report['files'] = {};
  for (const report of reports.length ? reports : [REPORT]) {
    if (!existsSync(report)) throw new Error(`no report at ${report}: run npm run test:mutation first`);
    Object.assign(files, (JSON.parse(readFileSync(report, 'utf8')) as Report).files);
  }
  process.stdout.write(`${scores({ files })}\n`);
}

function main(): void {
  const args = process.argv.slice(2);
  if (args[0] === '--summary') return summary(args.slice(1));
  // The unit tests find helm, krew, kube-score and kubectl as npm test installs them (test/support/tools.ts); cached after the first time.
  for (const step of [
    ['scripts/install-tools.sh', 'helm'],
    ['test/cluster/cluster.sh', 'build'],
  ]) {
    const r = spawnSync('bash', [path.join(ROOT, step[0]!), step[1]!], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  // A few unit tests run the built CLI (bin/run.js): they need dist/, and see no mutant.
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
  const linux = TARGETS.find((t) => platformOf(t) === 'linux/amd64')!;
  // Copied out of the cache (under $HOME): one unit test runs the CLI as nobody (setpriv), with this node.
  const node = path.join(ROOT, 'build/mutation-node/node');
  mkdirSync(path.dirname(node), { recursive: true });
  copyFileSync(nodeBinary(linux.node, linux.exe), node);
  chmodSync(node, 0o755);
  log(`… StrykerJS with ${node}`);
  const r = spawnSync(
    node,
    [
      path.join(ROOT, 'node_modules/@stryker-mutator/core/bin/stryker.js'),
      'run',
      'stryker.config.mjs',
      ...args,
    ],
    {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ''}` },
    },
  );
  if (r.status !== 0) process.exit(r.status ?? 1);
  // A dry run tests no mutant and writes no report: the one on disk is an older run's.
  if (!args.includes('--dryRunOnly')) summary([]);
}

main();
