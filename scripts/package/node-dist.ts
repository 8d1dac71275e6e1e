import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { sh } from '../lib/run.js';
import { ROOT, type NodeDist } from './targets.js';

/** Where fetched Node packages are kept between builds. */
export const NODE_DIST_CACHE = path.join(
  process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'),
  'kubectl-expose-pods/node-dist',
);

/** Progress for the person building: on stderr, one line per step. */
export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** The Node binary of a registry package, fetched once into the cache and checked against the pinned sha512. */
export function nodeBinary(dist: NodeDist, exe: string): string {
  const cacheDir = NODE_DIST_CACHE;
  const dir = path.join(cacheDir, `${dist.pkg}-${dist.version}`);
  const bin = path.join(dir, exe);
  if (existsSync(bin)) return bin;
  mkdirSync(cacheDir, { recursive: true });
  const tgz = path.join(cacheDir, `${dist.pkg}-${dist.version}.tgz`);
  if (!existsSync(tgz)) {
    log(`… fetching ${dist.pkg}@${dist.version} from the npm registry`);
    sh('npm', ['pack', '--silent', `${dist.pkg}@${dist.version}`, '--pack-destination', cacheDir]);
  }
  const actual = `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`;
  if (actual !== dist.integrity) {
    rmSync(tgz, { force: true });
    throw new Error(`${dist.pkg}@${dist.version}: sha512 ${actual} is not the pinned ${dist.integrity}`);
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  sh('tar', ['-xzf', tgz, '-C', tmp, '--strip-components=1', `package/${exe}`]);
  rmSync(dir, { recursive: true, force: true });
  sh('mv', [tmp, dir]);
  return bin;
}

/** rcodesign, built once into the tools cache by scripts/install-tools.sh. */
export function rcodesign(): string {
  // Its build's progress shows as it happens: the first build takes minutes.
  const r = spawnSync('bash', [path.join(ROOT, 'scripts/install-tools.sh'), 'rcodesign'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) throw new Error('could not build rcodesign (scripts/install-tools.sh rcodesign)');
  const tools = process.env.EXPOSE_PODS_TOOLS_DIR ?? path.join(NODE_DIST_CACHE, '../tools');
  const line = /^RCODESIGN=(.*)$/m.exec(readFileSync(path.join(tools, 'env'), 'utf8'));
  if (!line?.[1] || !existsSync(line[1])) throw new Error(`rcodesign is not in ${tools}/env`);
  return line[1];
}
