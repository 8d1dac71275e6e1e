import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { build, type Plugin } from 'esbuild';

import type { ChartBundle } from '../../src/helm/embedded-chart.js';
import { sh } from '../lib/run.js';
import { ROOT } from './targets.js';

const SHIM = fileURLToPath(new URL('./sea-shim.cjs', import.meta.url));

/** What sea-shim.cjs exports: the modules kept as assets, and how each is wrapped. */
const { ASSET_MODULES } = createRequire(import.meta.url)(SHIM) as {
  ASSET_MODULES: Record<string, string>;
};

/** The chart as one JSON asset: every file under charts/expose-pods. */
export function chartBundle(): ChartBundle {
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
 * The bundle's first lines: sea-shim.cjs becomes its require, beside the map
 * of modules it answers (src/sea.ts registers the command map there).
 * import.meta.url has no CommonJS equivalent, so it becomes the executable's
 * own file URL.
 */
function banner(): string {
  return `"use strict";
const EXPOSE_PODS_IMPORT_META_URL = require("node:url").pathToFileURL(__filename).href;
const EXPOSE_PODS_SEA_MODULES = new Map();
require = ((module) => {
${readFileSync(SHIM, 'utf8')}
return module.exports;
})({ exports: {} }).seaRequire(require, EXPOSE_PODS_SEA_MODULES, __filename, __dirname);
const EXPOSE_PODS_REQUIRE = (id) => require(id);`;
}

/**
 * Resolves each asset module to a stub that requires it through the shim.
 * Marking it external instead would leave `import()` native, and Node would
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
  target: 'node26',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
} as const;

/**
 * esbuild: src/sea.ts (or another entry) and everything it imports (but the asset modules), as
 * one CommonJS file; then each asset module. Returns the main script and
 * each asset module's file, by asset name.
 */
export async function bundle(
  work: string,
  pkg: Record<string, unknown>,
  entry = path.join(ROOT, 'src/sea.ts'),
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
    entryPoints: [entry],
    outfile: main,
    external: devOnly,
    plugins: [assetModulesPlugin],
    banner: { js: banner() },
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
 * A V8 code cache for an asset module, made by the Node that will run it
 * (code-cache.cjs): only valid where it was made.
 */
export function assetCodeCache(generator: string, moduleFile: string, cacheFile: string): void {
  sh(generator, [fileURLToPath(new URL('./code-cache.cjs', import.meta.url)), moduleFile, cacheFile]);
}
