/**
 * `npm run package`: the single executable, one archive per krew platform,
 * checksums.txt, RELEASE_NOTES.md and krew-manifest.yaml.
 *
 *   npm run package                                  every platform, into dist/, and krew-manifest.yaml
 *   npm run package -- --platform linux/amd64 --out-dir /tmp/x --manifest /tmp/x/krew-manifest.yaml
 *   ... --without-code-cache, --node-version 24.21.0, --with-snapshot   for bench/startup.ts's comparisons
 *
 * The steps, each in its own module under scripts/package/:
 *   targets.ts        the platforms, and the Node LTS binary each embeds (pinned by version and sha512)
 *   node-dist.ts      fetching and checking those binaries from the npm registry; rcodesign
 *   bundle.ts         esbuild: src/sea.ts as one CommonJS file behind sea-shim.cjs, client-node apart
 *   apple-signature.ts, macho.ts  the macOS Node verified as the Node.js project's before it is embedded
 *   executable.ts     the SEA blob, injected with postject; darwin signed again, ad hoc
 *   archive.ts        tar.gz or zip, byte for byte the same on a rebuild (but linux/amd64's code caches)
 *   release-notes.ts  RELEASE_NOTES.md
 *   krew.ts, zip.ts   the krew manifest and its checks; a zip writer
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { parse } from 'yaml';

import { CHART_ASSET } from '../src/helm/embedded-chart.js';
import { sourceDateEpoch, writeArchive } from './package/archive.js';
import { bundle, chartBundle } from './package/bundle.js';
import { seaExecutable, wantsCodeCache } from './package/executable.js';
import {
  krewManifestProblems,
  renderKrewManifest,
  sha256File,
  type BuiltArchive,
  type KrewManifest,
} from './package/krew.js';
import { log } from './package/node-dist.js';
import { releaseNotes } from './package/release-notes.js';
import { platformOf, ROOT, TARGETS, targetsWithNode } from './package/targets.js';

export { TARGETS } from './package/targets.js';
export { releaseNotes } from './package/release-notes.js';

export interface PackageOptions {
  platforms: string[];
  outDir: string;
  manifest: string;
  /** false leaves the V8 code cache out even on linux/amd64 (bench/startup.ts compares). */
  codeCache?: boolean;
  /** An earlier pinned Node for linux/amd64 (bench/startup.ts compares); default NODE_VERSION. */
  nodeVersion?: string;
  /** An experimental V8 startup snapshot instead of the code cache (bench/startup.ts compares; never released). */
  snapshot?: boolean;
}

/** checksums.txt, RELEASE_NOTES.md, and the krew manifest, checked, also as plugins/expose-pods.yaml for krew-index. */
function writeReleaseFiles(
  opts: PackageOptions,
  version: string,
  built: BuiltArchive[],
  signers: Record<string, string>,
): void {
  const targets = targetsWithNode(opts.nodeVersion).filter((t) => opts.platforms.includes(platformOf(t)));
  writeFileSync(
    path.join(opts.outDir, 'checksums.txt'),
    built.map((a) => `${a.sha256}  ${path.basename(a.file)}\n`).join(''),
  );
  writeFileSync(path.join(opts.outDir, 'RELEASE_NOTES.md'), releaseNotes(version, targets, built, signers));
  const template = readFileSync(path.join(ROOT, 'scripts/package/krew-manifest.template.yaml'), 'utf8');
  const manifest = renderKrewManifest(template, version, built);
  const problems = krewManifestProblems(parse(manifest) as KrewManifest, {
    expectedName: 'expose-pods',
    archivesDir: opts.outDir,
  });
  if (problems.length > 0)
    throw new Error(`the generated krew manifest is invalid:\n  ${problems.join('\n  ')}`);
  writeFileSync(opts.manifest, manifest);
  mkdirSync(path.join(opts.outDir, 'plugins'), { recursive: true });
  writeFileSync(path.join(opts.outDir, 'plugins/expose-pods.yaml'), manifest);
}

/** Builds the archives, checksums.txt, RELEASE_NOTES.md and the krew manifest; returns what it built. */
export async function packageAll(opts: PackageOptions): Promise<BuiltArchive[]> {
  const targets = targetsWithNode(opts.nodeVersion).filter((t) => opts.platforms.includes(platformOf(t)));
  const unknown = opts.platforms.filter((p) => !TARGETS.some((t) => platformOf(t) === p));
  if (unknown.length > 0)
    throw new Error(`unknown platform ${unknown.join(', ')}; known: ${TARGETS.map(platformOf).join(', ')}`);
  // Built in a temp dir, then kept as <out-dir>/.sea for inspection: the bundle's
  // recorded path then has no node_modules above it, so anything the executable
  // tried to load from disk would fail in the tests instead of quietly working here.
  // The name is fixed per out dir, not random: the blob records the bundle's path.
  const work = path.join(
    os.tmpdir(),
    `kubectl-expose-pods-sea-${createHash('sha256').update(opts.outDir).digest('hex').slice(0, 12)}`,
  );
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  log('… bundling src/sea.ts with esbuild');
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown> & {
    version: string;
  };
  const entry = opts.snapshot
    ? fileURLToPath(new URL('./package/sea-snapshot.ts', import.meta.url))
    : undefined;
  const { main, assets: moduleAssets } = await bundle(work, pkg, entry);
  const chartFile = path.join(work, CHART_ASSET);
  writeFileSync(chartFile, JSON.stringify(chartBundle()));
  const inputs = {
    main,
    moduleAssets,
    assets: { [CHART_ASSET]: chartFile, ...moduleAssets },
    snapshot: opts.snapshot,
  };
  const epoch = sourceDateEpoch();
  const built: BuiltArchive[] = [];
  const signers: Record<string, string> = {};
  for (const t of targets) {
    const dir = path.join(work, `${t.os}_${t.arch}`);
    mkdirSync(dir, { recursive: true });
    const { exe, nodeSigner } = seaExecutable(t, dir, inputs, wantsCodeCache(t, opts.codeCache !== false));
    if (nodeSigner) signers[platformOf(t)] = nodeSigner;
    const archive = writeArchive(t, exe, opts.outDir, epoch);
    log(
      `✔ ${path.relative(ROOT, archive) || archive} ${(statSync(archive).size / 2 ** 20).toFixed(1)} MiB, binary ${(statSync(exe).size / 2 ** 20).toFixed(1)} MiB`,
    );
    built.push({
      os: t.os,
      arch: t.arch,
      file: archive,
      sha256: sha256File(archive),
      bin: path.basename(exe),
    });
  }
  const kept = path.join(opts.outDir, '.sea');
  rmSync(kept, { recursive: true, force: true });
  cpSync(work, kept, { recursive: true });
  rmSync(work, { recursive: true, force: true });
  writeReleaseFiles(opts, pkg.version, built, signers);
  log(
    `✔ ${path.relative(ROOT, opts.manifest) || opts.manifest} and checksums.txt (${built.length} platforms)`,
  );
  return built;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      platform: { type: 'string', multiple: true },
      'out-dir': { type: 'string', default: path.join(ROOT, 'dist') },
      manifest: { type: 'string', default: path.join(ROOT, 'krew-manifest.yaml') },
      'without-code-cache': { type: 'boolean', default: false },
      'node-version': { type: 'string' },
      'with-snapshot': { type: 'boolean', default: false },
    },
  });
  const platforms = values.platform?.flatMap((p) => p.split(',')) ?? TARGETS.map(platformOf);
  const outDir = path.resolve(values['out-dir']);
  mkdirSync(outDir, { recursive: true });
  packageAll({
    platforms,
    outDir,
    manifest: path.resolve(values.manifest),
    codeCache: !values['without-code-cache'],
    nodeVersion: values['node-version'],
    snapshot: values['with-snapshot'],
  }).catch((e: unknown) => {
    log(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
}
