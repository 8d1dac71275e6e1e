import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { credentialFile, forgetCredentialFile, openCredentialFiles } from '../../src/helm/credential-file.js';

// The signed-in kubeconfig a change gives helm: on disk only while a helm reads it, and its
// directory gone when the change ends, so a process running change after change (the
// autoscaler) keeps no directory per step.
describe('credential files', () => {
  it('written while a helm that names it runs, removed after; the directory goes with its change', () => {
    const file = credentialFile('{"kind":"Config"}');
    const dir = path.dirname(file);
    assert.ok(existsSync(dir) && !existsSync(file), 'nothing written before helm starts');
    const close = openCredentialFiles(['upgrade', '--kubeconfig', file]);
    assert.equal(readFileSync(file, 'utf8'), '{"kind":"Config"}');
    close();
    close();
    assert.ok(!existsSync(file) && existsSync(dir), 'the file goes with its helm, the directory stays');
    forgetCredentialFile(file);
    assert.ok(!existsSync(dir), 'the directory goes with its change');
  });

  it('a change that ends while its helm still runs: the directory goes when that helm ends', () => {
    const file = credentialFile('{}');
    const dir = path.dirname(file);
    const first = openCredentialFiles([file]);
    const second = openCredentialFiles([file]);
    forgetCredentialFile(file);
    assert.ok(existsSync(file), 'a helm still reads it');
    first();
    assert.ok(existsSync(file), 'another helm still reads it');
    second();
    assert.ok(!existsSync(dir));
    // Opened again after it was forgotten: nothing of it is left to write.
    openCredentialFiles([file])();
    assert.ok(!existsSync(dir));
  });

  it('leaves alone what it did not make: the user kubeconfig, or no file', () => {
    const file = credentialFile('{}');
    forgetCredentialFile('/home/someone/.kube/config');
    forgetCredentialFile(undefined);
    assert.ok(existsSync(path.dirname(file)));
    forgetCredentialFile(file);
    assert.ok(!existsSync(path.dirname(file)));
  });
});
