import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { parse } from 'yaml';

import { ROOT } from '../support/tools.js';

// krew's own rules for a plugin manifest (the distribution issue adds archive checks).
describe('krew-manifest.yaml', () => {
  const m = parse(readFileSync(`${ROOT}/krew-manifest.yaml`, 'utf8'));
  const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string };

  it('is a krew Plugin named expose-pods at the package version', () => {
    assert.equal(m.apiVersion, 'krew.googlecontainertools.github.com/v1alpha2');
    assert.equal(m.kind, 'Plugin');
    assert.match(m.metadata.name, /^[\w-]+$/);
    assert.equal(m.metadata.name, 'expose-pods');
    assert.equal(m.spec.version, `v${pkg.version}`);
    assert.match(m.spec.version, /^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    assert.ok(m.spec.shortDescription && !m.spec.shortDescription.includes('\n'));
    assert.ok(m.spec.description && m.spec.homepage);
  });

  it('has platforms with os/arch selectors, a uri, a 64-hex sha256 and the kubectl plugin binary name', () => {
    assert.ok(m.spec.platforms.length > 0);
    for (const p of m.spec.platforms) {
      assert.deepEqual(Object.keys(p.selector.matchLabels).sort(), ['arch', 'os']);
      assert.match(p.uri, /^https:\/\//);
      assert.match(p.sha256, /^[0-9a-f]{64}$/);
      assert.equal(
        p.bin,
        p.selector.matchLabels.os === 'windows' ? 'kubectl-expose_pods.exe' : 'kubectl-expose_pods',
      );
    }
  });
});
