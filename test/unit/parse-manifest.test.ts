import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { parseManifest } from '../../src/ops/change-preview.js';
import type { ManifestObject } from '../../src/core/release-change.js';

const service = (i: number) =>
  `# Source: expose-pods/templates/pod-services.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: rooms-${i}\nspec:\n  ports:\n    - port: 7777\n`;

describe('parseManifest: the objects of a manifest, each document parsed once per cache', () => {
  it('the same objects with a cache as without, whatever the document markers, comments and empty documents', () => {
    const texts = [
      '',
      service(0),
      `---\n${service(0)}---\n${service(1)}`,
      `--- # a comment on the marker\n${service(0)}---\n---\n# only a comment\n---\n${service(1)}\n`,
      '--- {apiVersion: v1, kind: ConfigMap, metadata: {name: inline}}\n---\nkind: Secret\n',
      // A block scalar that holds "---" indented is content, not a marker.
      `kind: ConfigMap\ndata:\n  config: |\n    a\n    ---\n    b\n---\n${service(2)}`,
      '---\r\nkind: A\r\n---\r\nkind: B\r\n',
    ];
    for (const text of texts)
      assert.deepEqual(parseManifest(text, new Map()), parseManifest(text), JSON.stringify(text));
    assert.equal(
      (parseManifest(texts[5]!).find((o) => o.kind === 'ConfigMap') as { data?: { config?: string } }).data
        ?.config,
      'a\n---\nb\n',
    );
  });

  it('random manifests: cached equals uncached; documents two manifests share are parsed once', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 30 }), fc.boolean(), (ids, lead) => {
        const text = `${lead ? '---\n' : ''}${ids.map(service).join('---\n')}`;
        assert.deepEqual(parseManifest(text, new Map()), parseManifest(text));
      }),
    );
    const cache = new Map<string, ManifestObject[]>();
    const before = parseManifest(`---\n${[0, 1, 2].map(service).join('---\n')}`, cache);
    const after = parseManifest(`---\n${[0, 1, 2, 3].map(service).join('---\n')}`, cache);
    assert.equal(before.length, 3);
    assert.equal(after.length, 4);
    assert.equal(after[1], before[1], 'an unchanged document is the same object: parsed once');
    assert.equal(cache.size, 4, 'four Services, each parsed once');
  });
});
