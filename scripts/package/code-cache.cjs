'use strict';
/**
 * Run by the Node that will run the module: node code-cache.cjs <module.cjs> <out.cache>.
 * Compiles and runs the module exactly as sea-shim.cjs does, then takes the
 * V8 code cache, so it also holds the functions that ran; checks that V8
 * accepts it, and writes it.
 */
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const { WRAPPER } = require('./sea-shim.cjs');

const [file, out] = process.argv.slice(2);
const name = path.basename(file);
const source = WRAPPER[0] + fs.readFileSync(file, 'utf8') + WRAPPER[1];
const mod = { exports: {} };
new vm.Script(source, { filename: name })
  .runInThisContext()
  .call(mod.exports, mod.exports, require, mod, file, '.');
const data = new vm.Script(source, { filename: name }).createCachedData();
const check = new vm.Script(source, { filename: name, cachedData: data });
if (check.cachedDataRejected) {
  process.stderr.write('the code cache was rejected\n');
  process.exit(1);
}
fs.writeFileSync(out, data);
