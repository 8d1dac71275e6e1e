import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { NodeView } from '../../src/core/model.js';
import { placementOf, placementProblem, tolerates, type Placement } from '../../src/core/placement.js';

const node = (over: Partial<NodeView> = {}): NodeView => ({
  name: 'n1',
  ready: true,
  addresses: [],
  labels: { zone: 'a', cores: '8', share: '2.5' },
  ...over,
});

/** A placement with one required term of one expression. */
const requiring = (key: string, operator: string, values?: string[], field = false): Placement => ({
  requiredTerms: [
    field ? { matchFields: [{ key, operator, values }] } : { matchExpressions: [{ key, operator, values }] },
  ],
});

describe('placementOf: a pod template read as the scheduler reads it', () => {
  it('nodeSelector, tolerations and the required node affinity terms; nothing for an empty template', () => {
    const terms = [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }];
    assert.deepEqual(
      placementOf({
        spec: {
          nodeSelector: { zone: 'a' },
          tolerations: [{ key: 'k', operator: 'Exists' }],
          affinity: {
            nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
          },
        },
      }),
      { nodeSelector: { zone: 'a' }, tolerations: [{ key: 'k', operator: 'Exists' }], requiredTerms: terms },
    );
    const none = { nodeSelector: undefined, tolerations: undefined, requiredTerms: undefined };
    assert.deepEqual(placementOf(undefined), none);
    assert.deepEqual(placementOf({ spec: { affinity: {} } }), none);
    assert.deepEqual(placementOf({ spec: { affinity: { nodeAffinity: {} } } }), none);
  });
});

describe("tolerates: the scheduler's TaintToleration rule", () => {
  const taint = { key: 'dedicated', value: 'game', effect: 'NoSchedule' };
  const cases: [string, Parameters<typeof tolerates>[0], boolean][] = [
    ['Equal, same key, value and effect', { key: 'dedicated', value: 'game', effect: 'NoSchedule' }, true],
    ['Equal without an effect: every effect', { key: 'dedicated', value: 'game' }, true],
    ['another effect', { key: 'dedicated', value: 'game', effect: 'NoExecute' }, false],
    ['another value', { key: 'dedicated', value: 'web' }, false],
    ['no value against a value', { key: 'dedicated' }, false],
    ['another key', { key: 'other', value: 'game' }, false],
    ['Exists on the key', { key: 'dedicated', operator: 'Exists' }, true],
    ['Exists on another key', { key: 'other', operator: 'Exists' }, false],
    ['Exists without a key: every taint', { operator: 'Exists' }, true],
    ['Exists without a key, another effect', { operator: 'Exists', effect: 'NoExecute' }, false],
  ];
  for (const [what, t, want] of cases) it(what, () => assert.equal(tolerates(t, taint), want));
  it('Equal matches a taint without a value only with no value or ""', () => {
    const bare = { key: 'gpu', effect: 'NoSchedule' };
    assert.equal(tolerates({ key: 'gpu' }, bare), true);
    assert.equal(tolerates({ key: 'gpu', value: '' }, bare), true);
    assert.equal(tolerates({ key: 'gpu', value: 'x' }, bare), false);
  });
});

describe('placementProblem: why rooms cannot go to a node', () => {
  it('nodeSelector: every label must match', () => {
    assert.equal(placementProblem(node(), { nodeSelector: { zone: 'a' } }), undefined);
    assert.equal(placementProblem(node(), { nodeSelector: { zone: 'b' } }), 'no label zone=b (nodeSelector)');
    assert.equal(
      placementProblem(node({ labels: undefined }), { nodeSelector: { zone: 'a' } }),
      'no label zone=a (nodeSelector)',
    );
  });

  const NOT = 'not matched by the required node affinity';
  const table: [string, Placement, string | undefined][] = [
    ['In, matching', requiring('zone', 'In', ['a', 'b']), undefined],
    ['In, not matching', requiring('zone', 'In', ['b']), NOT],
    ['In, label missing', requiring('rack', 'In', ['1']), NOT],
    ['In without values', requiring('zone', 'In'), NOT],
    ['NotIn, not listed', requiring('zone', 'NotIn', ['b']), undefined],
    ['NotIn, listed', requiring('zone', 'NotIn', ['a']), NOT],
    ['NotIn, label missing', requiring('rack', 'NotIn', ['1']), undefined],
    ['Exists', requiring('zone', 'Exists'), undefined],
    ['Exists, missing', requiring('rack', 'Exists'), NOT],
    ['DoesNotExist', requiring('rack', 'DoesNotExist'), undefined],
    ['DoesNotExist, present', requiring('zone', 'DoesNotExist'), NOT],
    ['Gt, above', requiring('cores', 'Gt', ['4']), undefined],
    ['Gt, equal', requiring('cores', 'Gt', ['8']), NOT],
    ['Lt, below', requiring('cores', 'Lt', ['16']), undefined],
    ['Lt, equal', requiring('cores', 'Lt', ['8']), NOT],
    ['Gt on a label that is not a number', requiring('zone', 'Gt', ['1']), NOT],
    ['Gt against a bound that is not a number', requiring('cores', 'Gt', ['x']), NOT],
    ['Gt against a bound that is not a whole number', requiring('cores', 'Gt', ['4.5']), NOT],
    ['Lt against a bound that is not a whole number', requiring('cores', 'Lt', ['16.5']), NOT],
    ['Gt on a label that is not a whole number', requiring('share', 'Gt', ['1']), NOT],
    ['Lt on a label that is not a whole number', requiring('share', 'Lt', ['3']), NOT],
    ['Gt, label missing', requiring('rack', 'Gt', ['1']), NOT],
    ['Lt, label missing', requiring('rack', 'Lt', ['100']), NOT],
    ['an unknown operator', requiring('zone', 'Near', ['a']), NOT],
    ['matchFields metadata.name', requiring('metadata.name', 'In', ['n1'], true), undefined],
    ['matchFields metadata.name, another node', requiring('metadata.name', 'In', ['n2'], true), NOT],
    ['matchFields on another field', requiring('spec.other', 'Exists', undefined, true), NOT],
    ['an empty term matches nothing', { requiredTerms: [{}] }, NOT],
    ['no terms: no constraint', { requiredTerms: [] }, undefined],
  ];
  for (const [what, p, want] of table)
    it(`required affinity: ${what}`, () => assert.equal(placementProblem(node(), p), want));

  it('terms are ORed; expressions and fields within a term are ANDed', () => {
    const p: Placement = {
      requiredTerms: [
        { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] },
        {
          matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }],
          matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }],
        },
      ],
    };
    assert.equal(placementProblem(node(), p), undefined);
    assert.equal(placementProblem(node({ name: 'n2' }), p), NOT);
  });

  it('taints: NoSchedule and NoExecute need a toleration, PreferNoSchedule does not; the phrase names the taint', () => {
    const tainted = (taints: NodeView['taints']) => node({ taints });
    assert.equal(placementProblem(tainted([{ key: 'k', effect: 'PreferNoSchedule' }]), {}), undefined);
    assert.equal(
      placementProblem(tainted([{ key: 'k', value: 'v', effect: 'NoSchedule' }]), {}),
      'tainted k=v:NoSchedule',
    );
    assert.equal(placementProblem(tainted([{ key: 'k', effect: 'NoExecute' }]), {}), 'tainted k:NoExecute');
    assert.equal(
      placementProblem(tainted([{ key: 'k', effect: 'NoExecute' }]), {
        tolerations: [{ key: 'k', operator: 'Exists' }],
      }),
      undefined,
    );
    assert.equal(placementProblem(node({ taints: undefined }), {}), undefined);
  });
});
