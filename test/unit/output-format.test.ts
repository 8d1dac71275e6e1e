import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { objectName, renderNames } from '../../src/output/format.js';

describe('-o name (output/format.ts)', () => {
  it('objectName: the kind in lower case, then the API group when there is one, as kubectl prints it', () => {
    const named = (apiVersion: string, kind: string) =>
      objectName({ apiVersion, kind, metadata: { name: 'x' } });
    assert.equal(named('v1', 'Service'), 'service/x');
    assert.equal(named('apps/v1', 'StatefulSet'), 'statefulset.apps/x');
    assert.equal(named('networking.k8s.io/v1', 'NetworkPolicy'), 'networkpolicy.networking.k8s.io/x');
    assert.equal(named('policy/v1', 'PodDisruptionBudget'), 'poddisruptionbudget.policy/x');
  });

  it('renderNames: one a line, with the kind when given; nothing at all for nothing', () => {
    assert.equal(renderNames(['web-0', 'web-1'], 'pod'), 'pod/web-0\npod/web-1\n');
    assert.equal(renderNames(['alpha']), 'alpha\n');
    assert.equal(renderNames([], 'pod'), '');
  });
});
