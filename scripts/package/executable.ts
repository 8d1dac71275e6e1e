import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { sh } from '../lib/run.js';
import { verifyNodeSignature } from './apple-signature.js';
import { assetCodeCache } from './bundle.js';
import { log, nodeBinary, rcodesign } from './node-dist.js';
import { BIN, generatorOf, ROOT, type Target } from './targets.js';

const SENTINEL = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** What goes into every platform's executable: the main script and the assets, by asset name. */
export interface SeaInputs {
  main: string;
  assets: Record<string, string>;
  /** Asset modules: each may get a code cache beside it. */
  moduleAssets: Record<string, string>;
  /** Start from a V8 snapshot of the main script's heap (bench only; main is then sea-snapshot.ts). */
  snapshot?: boolean;
}

/**
 * Whether this target gets V8 code caches: only linux/amd64, and only when
 * built on linux/amd64, since a code cache is only valid where it was made.
 */
export function wantsCodeCache(t: Target, asked: boolean): boolean {
  return (
    asked && t.os === 'linux' && t.arch === 'amd64' && process.platform === 'linux' && process.arch === 'x64'
  );
}

/**
 * One platform's single executable in `dir`: the SEA blob, made by the
 * linux-x64 Node of the target's version, injected into the target's Node
 * with postject. A darwin Node is embedded only once its Apple signature is
 * verified (apple-signature.ts); postject drops that signature, so the result
 * is signed again, ad hoc, with rcodesign. Returns its path, and for darwin
 * who signed the Node inside.
 */
export function seaExecutable(
  t: Target,
  dir: string,
  inputs: SeaInputs,
  codeCache: boolean,
): { exe: string; nodeSigner?: string } {
  const id = `${t.os}_${t.arch}`;
  const generator = nodeBinary(generatorOf(t), 'bin/node');
  const assets = { ...inputs.assets };
  if (codeCache) {
    for (const [asset, file] of Object.entries(inputs.moduleAssets)) {
      const cache = path.join(dir, `${asset}.cache`);
      assetCodeCache(generator, file, cache);
      assets[`${asset}.cache`] = cache;
    }
  }
  const blob = path.join(dir, 'sea.blob');
  writeFileSync(
    path.join(dir, 'sea-config.json'),
    JSON.stringify({
      main: inputs.main,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: inputs.snapshot === true,
      // Node ignores the main script's code cache when it starts from a snapshot.
      useCodeCache: codeCache && inputs.snapshot !== true,
      assets,
    }),
  );
  const extras = [codeCache && 'with code cache', inputs.snapshot && 'with a startup snapshot'].filter(
    Boolean,
  );
  log(`… ${id}: SEA blob (Node ${t.node.version}${extras.map((e) => `, ${e}`).join('')})`);
  sh(generator, ['--experimental-sea-config', path.join(dir, 'sea-config.json')], { cwd: dir });
  const exe = path.join(dir, t.os === 'windows' ? `${BIN}.exe` : BIN);
  const node = nodeBinary(t.node, t.exe);
  // The Node project signs its macOS builds: only a binary it signed is embedded.
  const nodeSigner = t.os === 'darwin' ? verifyNodeSignature(node).signer : undefined;
  if (nodeSigner) log(`✔ ${id}: ${t.node.pkg}@${t.node.version} is signed by ${nodeSigner}`);
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
  return { exe, nodeSigner };
}
