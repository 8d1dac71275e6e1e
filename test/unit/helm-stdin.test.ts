import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { runHelm } from '../../src/helm/helm.js';

describe('runHelm: values on stdin to a helm that exits without reading them', () => {
  let dir: string;
  let helm: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-helm-stdin-'));
    helm = path.join(dir, 'helm');
    // A helm that refuses at once (a bad flag, a wrapper), its stdin never read.
    writeFileSync(helm, '#!/bin/sh\necho "Error: unknown flag: --values" >&2\nexit 3\n');
    chmodSync(helm, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exit 0 with its values unread is a failure: it may have acted without them', async () => {
    const quiet = path.join(dir, 'helm-zero');
    writeFileSync(quiet, '#!/bin/sh\nexit 0\n');
    chmodSync(quiet, 0o755);
    const r = await runHelm(quiet, ['upgrade', '--values', '-'], { stdin: 'x'.repeat(1 << 20) });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /exited 0 without reading its values from stdin/);
  });

  it('its exit code and stderr are the result: the closed pipe (EPIPE) is no crash', async () => {
    // More than a pipe holds (64 KiB), so the write outlives helm and meets the closed pipe.
    const values = `room:\n  annotations:\n    big: "${'x'.repeat(1 << 20)}"\n`;
    for (let i = 0; i < 3; i++) {
      const r = await runHelm(helm, ['upgrade', '--install', 'rooms', '.', '--values', '-'], {
        stdin: values,
      });
      assert.equal(r.code, 3);
      assert.match(r.stderr, /unknown flag: --values/);
    }
  });
});
