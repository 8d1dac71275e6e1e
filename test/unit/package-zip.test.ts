import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

import { crc32, zip } from '../../scripts/package/zip.js';

describe('zip (the Windows archive)', () => {
  it('crc32 matches the standard check value', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(Buffer.alloc(0)), 0);
  });

  it('is read back byte for byte by Python’s zipfile, with names, times and modes', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-zip-'));
    const big = Buffer.alloc(3 * 2 ** 20, 'room ');
    const file = path.join(dir, 'a.zip');
    writeFileSync(
      file,
      zip(
        [
          { name: 'LICENSE', data: Buffer.from('Apache\n') },
          { name: 'kubectl-expose_pods.exe', data: big, mode: 0o755 },
        ],
        new Date(Date.UTC(2026, 10, 22, 8, 30, 14)),
      ),
    );
    assert.ok(statSync(file).size < big.length / 100, 'deflated');
    const py = `
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps([[i.filename, list(i.date_time), i.external_attr >> 16, len(z.read(i))] for i in z.infolist()]))
open(sys.argv[2], 'wb').write(z.read('kubectl-expose_pods.exe'))`;
    const out = path.join(dir, 'out');
    const r = spawnSync('python3', ['-c', py, file, out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [
      ['LICENSE', [2026, 11, 22, 8, 30, 14], 0o100644, 7],
      ['kubectl-expose_pods.exe', [2026, 11, 22, 8, 30, 14], 0o100755, big.length],
    ]);
    assert.ok(readFileSync(out).equals(big));
  });

  it('the same inputs give the same bytes', () => {
    const files = [{ name: 'x', data: Buffer.from('same') }];
    const t = new Date(0);
    assert.ok(zip(files, t).equals(zip(files, t)));
  });
});
