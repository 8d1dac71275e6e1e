/**
 * Benchmark: the API requests each command sends, counted from the API
 * server's audit log (it records only the benchmark's own token user), split
 * into ours and helm's (by User-Agent). For ours: the reads, how many of them
 * are distinct, and each read sent more than once, named with its count (a
 * wait that polls repeats its reads by design; anything else is waste).
 * Figures, never a pass/fail gate.
 * Run: node --import tsx bench/requests.ts (part of npm run bench)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { CLI, TOOLS } from '../test/support/tools.js';
import { clusterEnv, markdownTable, sh } from './support.js';

const NS = 'bench-requests';
const RELEASE = 'req';

const cluster = clusterEnv();
const KUBECONFIG = path.join(cluster.CLUSTER_RUN, 'bench.kubeconfig');
const AUDIT = path.join(cluster.CLUSTER_RUN, 'audit.log');
const env = {
  KUBECONFIG,
  NO_COLOR: '1',
  PATH: [path.dirname(TOOLS.HELM4), path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter),
};

interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  requestURI: string;
  userAgent?: string;
}

const auditLines = (): string[] => readFileSync(AUDIT, 'utf8').split('\n').filter(Boolean);

/** The requests of one command run: every request the audit log recorded meanwhile, once (a watch logs when it starts and when it ends). */
function requestsOf(args: string[]): AuditEvent[] {
  const before = auditLines().length;
  sh(process.execPath, [CLI, ...args], { env });
  return auditLines()
    .slice(before)
    .map((l) => JSON.parse(l) as AuditEvent)
    .filter((e) => e.stage === 'ResponseComplete' || (e.verb === 'watch' && e.stage === 'ResponseStarted'))
    .filter((e, i, all) => all.findIndex((o) => o.auditID === e.auditID) === i);
}

const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** A request as it repeats: the verb and the URI without the watch's resourceVersion. */
const key = (e: AuditEvent) => `${e.verb} ${e.requestURI.replace(/([?&])resourceVersion=[^&]*&?/, '$1')}`;

/** Our reads sent more than once in the command run, by request, with how many times. */
function repeats(ours: AuditEvent[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const e of ours) {
    // The lock's lease and the permission self-reviews are not reads of the release.
    if (WRITES.has(e.verb) || /\/leases|selfsubject/.test(e.requestURI)) continue;
    seen.set(key(e), (seen.get(key(e)) ?? 0) + 1);
  }
  return new Map([...seen].filter(([, n]) => n > 1));
}

const COMMANDS: [string, string[]][] = [
  [
    'install (new release, 3 rooms)',
    [
      'install',
      RELEASE,
      '-n',
      NS,
      '--create-namespace',
      '--replicas',
      '3',
      '--set',
      'expose.nodePortBase=null',
      '--yes',
      '--timeout',
      '3m',
    ],
  ],
  ['status', ['status', RELEASE, '-n', NS]],
  ['list', ['list', '-n', NS]],
  ['endpoints', ['endpoints', RELEASE, '-n', NS, '-o', 'json']],
  ['scale 3 -> 4', ['scale', RELEASE, '-n', NS, '--replicas', '4', '--yes', '--timeout', '3m']],
  ['scale 4 -> 4 (nothing to do)', ['scale', RELEASE, '-n', NS, '--replicas', '4', '--yes']],
  ['scale 4 -> 3', ['scale', RELEASE, '-n', NS, '--replicas', '3', '--yes', '--timeout', '3m']],
  ['scale --dry-run', ['scale', RELEASE, '-n', NS, '--replicas', '5', '--dry-run']],
  ['tolerations', ['tolerations', RELEASE, '-n', NS]],
  ['allocate', ['allocate', RELEASE, '-n', NS, '-o', 'name']],
  ['deallocate', ['deallocate', RELEASE, '-n', NS, '--ordinal', '0']],
  ['recover', ['recover', RELEASE, '-n', NS]],
  [
    'install (upgrade: expose.count 3)',
    ['install', RELEASE, '-n', NS, '--set', 'expose.count=3', '--yes', '--timeout', '3m'],
  ],
  ['uninstall', ['uninstall', RELEASE, '-n', NS, '--yes']],
];

// A clean start: the release from an interrupted run goes first.
sh(TOOLS.HELM4, ['uninstall', RELEASE, '-n', NS, '--wait', '--ignore-not-found'], { env });

const rows: string[][] = [];
const details: string[] = [];
for (const [name, args] of COMMANDS) {
  const events = requestsOf(args);
  const isHelm = (e: AuditEvent) => /^helm\//i.test(e.userAgent ?? '');
  const helm = events.filter(isHelm);
  const ours = events.filter((e) => !isHelm(e));
  const repeated = repeats(ours);
  const reads = ours.filter((e) => !WRITES.has(e.verb)).length;
  const distinct = new Set(ours.filter((e) => !WRITES.has(e.verb)).map(key)).size;
  rows.push([name, String(ours.length), String(reads), String(distinct), String(helm.length)]);
  for (const [k, n] of repeated)
    details.push(`${name}: ${n}× ${k.replace(/labelSelector=[^&]*component%3D(\w+)/, 'component=$1')}`);
  process.stderr.write(`… ${name}: ${ours.length} requests of ours, ${helm.length} of helm\n`);
  if (process.env.BENCH_TRACE) for (const e of ours) process.stderr.write(`    ${key(e)}\n`);
}
process.stdout.write(
  `${markdownTable(
    ['command', 'our requests', 'our reads', 'distinct reads', 'helm requests'],
    rows,
  )}\n\n${details.length ? details.map((d) => `- ${d}`).join('\n') : '- no read repeated'}\n`,
);
