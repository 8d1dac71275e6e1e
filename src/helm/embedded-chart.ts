import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
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
 * the digest in the name means a new binary never reuses an old copy.
 */
export async function unpackChart(assetText: string, cacheRoot: string): Promise<string> {
  const bundle = JSON.parse(assetText) as ChartBundle;
  const digest = createHash('sha256').update(assetText).digest('hex').slice(0, 16);
  const dest = path.join(cacheRoot, `chart-${digest}`);
  const chartDir = path.join(dest, bundle.name);
  if (existsSync(path.join(chartDir, 'Chart.yaml'))) return chartDir;
  await mkdir(cacheRoot, { recursive: true, mode: 0o700 });
  const tmp = await mkdtemp(path.join(cacheRoot, '.unpack-'));
  for (const [rel, content] of Object.entries(bundle.files)) {
    const file = path.join(tmp, bundle.name, rel);
    // The asset is ours, but a path that escapes the chart is refused all the same.
    if (!file.startsWith(path.join(tmp, bundle.name) + path.sep)) throw new Error(`bad chart path ${rel}`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
  try {
    await rename(tmp, dest);
  } catch (e) {
    // Another run unpacked the same chart first: use theirs.
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(path.join(chartDir, 'Chart.yaml'))) throw e;
  }
  return chartDir;
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
    return unpackChart(text, await mkdtemp(path.join(os.tmpdir(), 'kubectl-expose-pods-')));
  }
}
