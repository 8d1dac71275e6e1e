/**
 * What the single executable runs (src/sea.ts calls it): the same oclif
 * commands as bin/run.js, from the static command map. A single executable can
 * only require Node's built-in modules, so oclif must never look for files.
 * Everything that depends on where and how the binary runs (its path, the
 * warning filter) happens in runSea, never when the module loads.
 */
import path from 'node:path';

import { execute, type Interfaces } from '@oclif/core';

import { COMMANDS } from './commands/index.js';

/** package.json, inlined by the bundler (scripts/package/bundle.ts). */
declare const EXPOSE_PODS_PJSON: Interfaces.PJSON;
/** Modules the bundle's require shim answers itself (scripts/package/sea-shim.cjs). */
declare const EXPOSE_PODS_SEA_MODULES: Map<string, unknown>;

/**
 * Node warns about `punycode` (DEP0040) and `url.parse()` (DEP0169) only when
 * the caller is outside node_modules. In the bundle every dependency is outside
 * node_modules, so client-node's old whatwg-url and node-fetch would print both
 * on every API call; the npm install never shows them. Only these two are
 * dropped; any other warning still prints.
 */
const THIRD_PARTY_DEPRECATIONS = new Set(['DEP0040', 'DEP0169']);

function dropThirdPartyDeprecations(): void {
  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = (warning: string | Error, ...rest: unknown[]) => {
    const [typeOrOptions, code] = rest;
    const c =
      typeof typeOrOptions === 'object' && typeOrOptions ? (typeOrOptions as { code?: string }).code : code;
    if (typeof c === 'string' && THIRD_PARTY_DEPRECATIONS.has(c)) return;
    (emitWarning as (...a: unknown[]) => void)(warning, ...rest);
  };
}

/** Runs the command line; execute() reports its own errors. */
export function runSea(): void {
  dropThirdPartyDeprecations();
  const root = path.dirname(process.execPath);
  const target = path.join(root, 'sea-commands');
  // oclif loads an explicit command map by requiring its target; the shim hands it this one.
  EXPOSE_PODS_SEA_MODULES.set(target, { COMMANDS });
  const pjson: Interfaces.PJSON = {
    ...EXPOSE_PODS_PJSON,
    oclif: {
      ...EXPOSE_PODS_PJSON.oclif,
      commands: { strategy: 'explicit', target, identifier: 'COMMANDS' },
    },
  };
  void execute({ loadOptions: { root, pjson } });
}
