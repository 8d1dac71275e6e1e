'use strict';
/**
 * The require of the single executable, placed before the bundle by
 * scripts/package/bundle.ts. A single executable's own require() loads only
 * Node's built-in modules. This one answers the paths src/sea.ts registers
 * (oclif loads an explicit command map by requiring its target path),
 * compiles the asset modules on first use, and passes everything else through.
 */

/**
 * Modules kept out of the main script and embedded as assets of their own,
 * compiled only when first required: client-node is three quarters of the
 * code, and --help never needs it. Each has a V8 code cache where the main
 * script has one (linux/amd64).
 */
const ASSET_MODULES = { '@kubernetes/client-node': 'client-node.cjs' };

/** How an asset module is wrapped for vm.Script; a code cache is only accepted for this exact source. */
const WRAPPER = ['(function (exports, require, module, __filename, __dirname) {', '\n})'];

/**
 * The shimmed require. `modules` holds what is already answered: registered
 * by src/sea.ts, or compiled from an asset (registered before running, as
 * Node's loader does for cycles, and again after, since a bundle replaces
 * module.exports).
 */
function seaRequire(real, modules, filename, dirname) {
  const fromAsset = (id) => {
    const sea = real('node:sea');
    const vm = real('node:vm');
    const asset = ASSET_MODULES[id];
    let cachedData;
    try {
      cachedData = Buffer.from(sea.getAsset(`${asset}.cache`));
    } catch {
      // No code cache on this platform: V8 compiles it as it runs.
    }
    const source = WRAPPER[0] + sea.getAsset(asset, 'utf8') + WRAPPER[1];
    const script = new vm.Script(source, { filename: asset, cachedData });
    const module = { exports: {} };
    modules.set(id, module.exports);
    script.runInThisContext().call(module.exports, module.exports, shim, module, filename, dirname);
    modules.set(id, module.exports);
    return module.exports;
  };
  const shim = (id) => (modules.has(id) ? modules.get(id) : id in ASSET_MODULES ? fromAsset(id) : real(id));
  shim.resolve = (id, options) => (modules.has(id) || id in ASSET_MODULES ? id : real.resolve(id, options));
  shim.cache = real.cache;
  return shim;
}

module.exports = { ASSET_MODULES, WRAPPER, seaRequire };
