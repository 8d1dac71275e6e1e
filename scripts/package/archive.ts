import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { run, sh } from '../lib/run.js';
import { archiveName, ROOT, type Target } from './targets.js';
import { zip } from './zip.js';

/** The last commit's time, or SOURCE_DATE_EPOCH: the one timestamp every archive entry gets. */
export function sourceDateEpoch(): number {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  const r = run('git', ['log', '-1', '--format=%ct'], { cwd: ROOT });
  return r.status === 0 && r.stdout.trim() ? Number(r.stdout.trim()) : 0;
}

/** kubectl's plugin completion: a script beside the binary that runs its __complete. */
const COMPLETION = {
  unix: 'kubectl_complete-expose_pods',
  windows: 'kubectl_complete-expose_pods.cmd',
} as const;

/**
 * The archive krew installs from: the executable, its completion script and
 * LICENSE, a zip for Windows and a tar.gz elsewhere. Fixed mtime, sorted names
 * and owner 0, so a rebuild is byte for byte the same. Returns its path.
 */
export function writeArchive(t: Target, exe: string, outDir: string, epoch: number): string {
  const dir = path.dirname(exe);
  const bin = path.basename(exe);
  const archive = path.join(outDir, archiveName(t));
  const license = readFileSync(path.join(ROOT, 'LICENSE'));
  writeFileSync(path.join(dir, 'LICENSE'), license);
  const completion = t.os === 'windows' ? COMPLETION.windows : COMPLETION.unix;
  const script = readFileSync(path.join(ROOT, 'scripts/package', completion));
  writeFileSync(path.join(dir, completion), script, { mode: 0o755 });
  if (t.os === 'windows') {
    const entries = [
      { name: 'LICENSE', data: license },
      { name: bin, data: readFileSync(exe), mode: 0o755 },
      { name: completion, data: script, mode: 0o755 },
    ];
    writeFileSync(archive, zip(entries, new Date(epoch * 1000)));
    return archive;
  }
  sh('tar', [
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    `--mtime=@${epoch}`,
    '-I',
    'gzip -n',
    '-cf',
    archive,
    '-C',
    dir,
    'LICENSE',
    bin,
    completion,
  ]);
  return archive;
}
