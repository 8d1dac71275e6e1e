import { createHash } from 'node:crypto';
import { existsSync, rmSync, type Stats } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The SEA asset key under which `npm run package` embeds the chart. */
export const CHART_ASSET = 'chart.json';

/** The chart as one JSON document: every file under charts/expose-pods, by path relative to it. */
export interface ChartBundle {
  name: string;
  files: Record<string, string>;
}

/** The per-user cache directory, as each platform spells it (never a shared temp dir: the chart must not be writable by others). */
export function userCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (platform === 'win32') return path.join(env.LOCALAPPDATA ?? os.homedir(), 'kubectl-expose-pods');
  if (platform === 'darwin') return path.join(os.homedir(), 'Library/Caches/kubectl-expose-pods');
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'kubectl-expose-pods');
}

/**
 * Writes an embedded chart to `<cacheRoot>/chart-<digest>/<name>` once and
 * returns that path (helm takes a directory). The copy is written to a private
 * temp dir and renamed into place, so a concurrent run never sees half a chart;
 * the digest in the name means a new binary never reuses an old copy. A copy
 * already there is used only when it is intact (see `intact`); otherwise this
 * run gets a private copy of its own, and the cached one is left alone.
 */
export async function unpackChart(assetText: string, cacheRoot: string): Promise<string> {
  const bundle = JSON.parse(assetText) as ChartBundle;
  const digest = createHash('sha256').update(assetText).digest('hex').slice(0, 16);
  const dest = path.join(cacheRoot, `chart-${digest}`);
  const chartDir = path.join(dest, bundle.name);
  const privateCopy = async () => writeBundle(bundle, await tempDirRemovedOnExit());
  if (existsSync(dest)) return (await intact(dest, bundle)) ? chartDir : privateCopy();
  await mkdir(cacheRoot, { recursive: true, mode: 0o700 });
  const tmp = await mkdtemp(path.join(cacheRoot, '.unpack-'));
  await writeBundle(bundle, tmp);
  try {
    await rename(tmp, dest);
  } catch {
    // Another run unpacked the same chart first: use theirs, if it is whole and ours.
    await rm(tmp, { recursive: true, force: true });
    return (await intact(dest, bundle)) ? chartDir : privateCopy();
  }
  return chartDir;
}

/** A private temp dir, removed when the process exits: a copy that is not the cache is not left behind. */
async function tempDirRemovedOnExit(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kubectl-expose-pods-'));
  process.once('exit', () => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Writes the bundle's files under `<root>/<name>`; returns that directory. */
async function writeBundle(bundle: ChartBundle, root: string): Promise<string> {
  const chartDir = path.join(root, bundle.name);
  for (const [rel, content] of Object.entries(bundle.files)) {
    const file = path.join(chartDir, rel);
    // The asset is ours, but a path that escapes the chart is refused all the same.
    if (!file.startsWith(chartDir + path.sep)) throw new Error(`bad chart path ${rel}`);
    // Private whatever the umask: a group-writable copy would not pass `intact` next time.
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, content, { mode: 0o600 });
  }
  return chartDir;
}

/**
 * Whether a cached copy can be trusted, since helm renders every file it finds
 * there: the directory and everything in it are plain files and directories
 * that this user owns and nobody else may write (on POSIX), and the chart's
 * files are exactly the bundle's, byte for byte. A planted template, an edited
 * one, a symlink, or a half-written copy all fail.
 */
async function intact(dest: string, bundle: ChartBundle): Promise<boolean> {
  const uid = process.getuid?.();
  const safe = (st: Stats) =>
    !st.isSymbolicLink() && (uid === undefined || (st.uid === uid && (st.mode & 0o022) === 0));
  try {
    if (!safe(await lstat(dest))) return false;
    const files: string[] = [];
    for (const e of await readdir(dest, { recursive: true, withFileTypes: true })) {
      const full = path.join(e.parentPath, e.name);
      if (!safe(await lstat(full))) return false;
      if (e.isFile()) files.push(path.relative(path.join(dest, bundle.name), full).split(path.sep).join('/'));
      else if (!e.isDirectory()) return false;
    }
    const want = Object.keys(bundle.files).sort();
    if (files.sort().join('\n') !== want.join('\n')) return false;
    for (const rel of want) {
      if ((await readFile(path.join(dest, bundle.name, rel), 'utf8')) !== bundle.files[rel]) return false;
    }
    return true;
  } catch {
    return false;
  }
}

let unpacked: Promise<string | undefined> | undefined;

/**
 * In the single executable: the embedded chart, unpacked (once per run: scale
 * and install ask more than once); otherwise undefined.
 */
export function embeddedChartPath(): Promise<string | undefined> {
  return (unpacked ??= findEmbeddedChart());
}

async function findEmbeddedChart(): Promise<string | undefined> {
  let sea: typeof import('node:sea');
  try {
    sea = await import('node:sea');
  } catch {
    return undefined; // Node before 20.12 has no node:sea, and so is no single executable.
  }
  if (!sea.isSea()) return undefined;
  const text = sea.getAsset(CHART_ASSET, 'utf8');
  try {
    return await unpackChart(text, userCacheDir());
  } catch {
    // A read-only home: a private temp dir still works, just not cached.
    return unpackChart(text, await tempDirRemovedOnExit());
  }
}
