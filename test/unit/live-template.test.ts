import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import type { ManifestObject } from '../../src/core/release-change.js';
import type { PlanObjects } from '../../src/kube/reader.js';
import { liveTemplateDiffers } from '../../src/ops/change-preview.js';
import { FAKE_SERVER, fakeKube } from '../support/kube.js';

const W = 'rooms-expose-pods';
type Annotations = Record<string, string>;
const template = (annotations: Annotations) => ({
  metadata: Object.keys(annotations).length ? { annotations } : {},
  spec: { containers: [{ name: 'room', image: 'rooms:1' }] },
});
const sts = (annotations: Annotations): ManifestObject => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: W, namespace: 'game' },
  spec: { replicas: 2, template: template(annotations) },
});
const live = (annotations: Annotations) =>
  ({
    pods: [],
    statefulSet: { name: W, template: template(annotations), strategy: 'RollingUpdate' },
  }) as PlanObjects;

/**
 * The API server's dry run of a server-side apply by our field manager, as it
 * answers one: the live template with the applied annotations added, and none
 * taken away (what helm set and the applied object leaves out stays).
 */
function dryRuns(liveAnnotations: Annotations) {
  const seen: Annotations[] = [];
  const scope = nock(FAKE_SERVER)
    .get('/apis/apps/v1')
    .reply(200, { resources: [{ name: 'statefulsets', kind: 'StatefulSet', namespaced: true }] })
    .patch(`/apis/apps/v1/namespaces/game/statefulsets/${W}`)
    .query({ dryRun: 'All', fieldManager: 'kubectl-expose-pods', force: 'true' })
    .times(2)
    .reply(200, (_uri: string, raw: any) => {
      const body = typeof raw === 'string' ? JSON.parse(raw) : raw;
      const applied: Annotations = body.spec.template.metadata?.annotations ?? {};
      seen.push(applied);
      return sts({ ...liveAnnotations, ...applied });
    });
  return { scope, seen };
}

describe('liveTemplateDiffers: the pod template a change applies, against the live one', () => {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  it('a field the change removes restarts rooms: the baseline, which is what is live, says so', async () => {
    const { seen } = dryRuns({ build: '42' });
    const changed = await liveTemplateDiffers(fakeKube(), [sts({})], live({ build: '42' }), [
      sts({ build: '42' }),
    ]);
    assert.equal(changed, true);
    // The first dry run alone kept the annotation (another field manager's), so it could not tell.
    assert.deepEqual(seen, [{}, { build: '42' }]);
  });

  it('a baseline that never reached the cluster (a failed revision) decides nothing', async () => {
    const { seen } = dryRuns({});
    assert.equal(await liveTemplateDiffers(fakeKube(), [sts({})], live({}), [sts({ build: '42' })]), false);
    assert.equal(seen.length, 2);
  });

  it('an addition shows in the first dry run; the same template, or no baseline, asks once', async () => {
    let r = dryRuns({});
    assert.equal(await liveTemplateDiffers(fakeKube(), [sts({ build: '43' })], live({}), [sts({})]), true);
    assert.equal(r.seen.length, 1);
    nock.cleanAll();
    r = dryRuns({ build: '42' });
    assert.equal(
      await liveTemplateDiffers(fakeKube(), [sts({ build: '42' })], live({ build: '42' }), [
        sts({ build: '42' }),
      ]),
      false,
    );
    assert.equal(r.seen.length, 1);
    nock.cleanAll();
    r = dryRuns({ build: '42' });
    assert.equal(await liveTemplateDiffers(fakeKube(), [sts({})], live({ build: '42' })), false);
    assert.equal(r.seen.length, 1);
  });

  it('nothing to compare: no StatefulSet live, or another name (a rename)', async () => {
    assert.equal(await liveTemplateDiffers(fakeKube(), [sts({})], { pods: [] }), undefined);
    const renamed = { ...sts({}), metadata: { name: 'other', namespace: 'game' } };
    assert.equal(await liveTemplateDiffers(fakeKube(), [renamed], live({})), undefined);
  });
});
