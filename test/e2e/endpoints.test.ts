import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { printClusterLogsOnFailure, userShell } from '../support/e2e.js';
import { HELMS, ROOT, run } from '../support/tools.js';

after(printClusterLogsOnFailure);

// One room pinned to kwok-node-3, the node that has only an InternalIP.
describe('endpoints on the InternalIP-only node', () => {
  const sh = userShell(HELMS[1].path);
  const ns = 'e2e-endpoints';

  before(() => {
    const r = sh.kubectl(
      'expose-pods',
      'install',
      'solo',
      '-n',
      ns,
      '--create-namespace',
      '--replicas',
      '1',
      '--no-redis',
      '--node-port-base',
      '32500',
      '--set',
      'room.nodeSelector.kubernetes\\.io/hostname=kwok-node-3',
      '--timeout',
      '2m',
    );
    assert.equal(r.status, 0, r.stderr);
  });

  it('shows InternalIP, and warns on stderr that outside clients usually cannot reach it', () => {
    const r = sh.kubectl('expose-pods', 'endpoints', 'solo', '-n', ns);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^solo-expose-pods-0 +true +kwok-node-3 +198\.51\.100\.13 +InternalIP +32500 +TCP +solo-expose-pods-0 +Ready$/m,
    );
    assert.match(r.stderr, /^warning: solo-expose-pods-0: only an internal address \(InternalIP\)/m);
  });

  it('-o addresses prints host:port for scripts; --address-type Hostname changes the pick', () => {
    assert.equal(
      sh.kubectl('expose-pods', 'endpoints', 'solo', '-n', ns, '-o', 'addresses').stdout,
      '198.51.100.13:32500\n',
    );
    const r = sh.kubectl(
      'expose-pods',
      'endpoints',
      'solo',
      '-n',
      ns,
      '-o',
      'json',
      '--address-type',
      'Hostname',
    );
    assert.deepEqual(
      JSON.parse(r.stdout).endpoints.map((e: any) => [e.address, e.addressType]),
      [['kwok-node-3', 'Hostname']],
    );
  });

  it('the library: examples/matchmaker.mjs imports resolveEndpoints by package name and hands out room 0', () => {
    // The example runs as a program that depends on the package would: node_modules/kubectl-expose-pods.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-lib-'));
    mkdirSync(path.join(dir, 'node_modules'));
    symlinkSync(ROOT, path.join(dir, 'node_modules', 'kubectl-expose-pods'));
    copyFileSync(path.join(ROOT, 'examples/matchmaker.mjs'), path.join(dir, 'matchmaker.mjs'));
    const r = run(process.execPath, [path.join(dir, 'matchmaker.mjs'), 'solo', ns, '0'], { env: sh.env });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      room: 'solo-expose-pods-0',
      host: '198.51.100.13',
      port: 32500,
      protocol: 'TCP',
    });
  });

  it('--ordinal out of range and an unknown release are clear errors', () => {
    const bad = sh.kubectl('expose-pods', 'endpoints', 'solo', '-n', ns, '--ordinal', '5');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--ordinal 5: release solo has ordinals 0\.\.0/);
    const missing = sh.kubectl('expose-pods', 'endpoints', 'nope', '-n', ns);
    assert.equal(missing.status, 7);
    assert.match(missing.stderr, /^error: release nope has no StatefulSet in namespace e2e-endpoints$/m);
  });
});
