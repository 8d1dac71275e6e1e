import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import { coalesceValues } from '../../src/core/chart-values.js';
import { METADATA_ONLY_ACCEPT } from '../../src/kube/api.js';
import { MAX_RELEASE_BYTES } from '../../src/kube/helm-releases.js';
import { listReleases } from '../../src/ops/list.js';
import { FAKE_SERVER, fakeKubeconfigFile } from '../support/kube.js';
import { roomPod } from '../support/fixtures.js';

/** A Helm release Secret as Helm stores it: base64 (by the API) of base64 of gzip of the release JSON. */
function releaseSecret(namespace: string, name: string, version: number, chart = 'expose-pods', pad = 0) {
  const payload = {
    name,
    chart: {
      metadata: { name: chart, version: '0.1.0', appVersion: '2.53' },
      values: { room: { replicas: 1 } },
    },
    config: { room: { replicas: 2 }, redis: { enabled: false } },
    // Zeros compress to almost nothing: a small Secret that inflates to `pad` bytes.
    manifest: '0'.repeat(pad),
  };
  const inner = gzipSync(Buffer.from(JSON.stringify(payload))).toString('base64');
  return {
    metadata: {
      name: `sh.helm.release.v1.${name}.v${version}`,
      namespace,
      labels: { owner: 'helm', name, version: String(version), status: 'deployed' },
    },
    type: 'helm.sh/release.v1',
    data: { release: Buffer.from(inner).toString('base64') },
  };
}

/** The pod a list of the chart's objects returns, labelled as the chart labels it. */
const labelled = (release: string, n: number) => {
  const v = roomPod(`${release}-expose-pods`, n);
  return {
    metadata: {
      name: v.name,
      labels: { 'app.kubernetes.io/instance': release, 'app.kubernetes.io/component': 'room' },
    },
    spec: { nodeName: 'n1' },
    status: { phase: 'Running', podIP: v.podIP, conditions: [{ type: 'Ready', status: 'True' }] },
  };
};

describe('listReleases (nock): the requests list sends', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  /** The paths asked for metadata only, in the last run. */
  const metadataOnly = new Set<string>();
  /** The warnings of the last run. */
  const warnings: string[] = [];

  /** Serves the fake cluster with `rooms` room pods per release; returns the paths asked, in order. */
  async function run(rooms: number): Promise<string[]> {
    nock.cleanAll();
    const asked: string[] = [];
    metadataOnly.clear();
    warnings.length = 0;
    const secrets = [
      releaseSecret('a', 'one', 1),
      releaseSecret('a', 'one', 2),
      releaseSecret('a', 'other-chart', 1, 'redis'),
      releaseSecret('b', 'two', 1),
      // Anyone who may create a Secret can make one like this: it must not stall list -A.
      releaseSecret('c', 'bomb', 1, 'expose-pods', MAX_RELEASE_BYTES + 1),
    ];
    const byPath = new Map(
      secrets.map((s) => [`/api/v1/namespaces/${s.metadata.namespace}/secrets/${s.metadata.name}`, s]),
    );
    nock(FAKE_SERVER)
      .persist()
      .get(/.*/)
      .reply(function (uri) {
        const url = new URL(uri, FAKE_SERVER);
        asked.push(url.pathname);
        if (this.req.headers.accept === METADATA_ONLY_ACCEPT.list) metadataOnly.add(url.pathname);
        if (url.pathname === '/api/v1/secrets' && url.searchParams.get('labelSelector') === 'owner=helm')
          return [
            200,
            { kind: 'PartialObjectMetadataList', items: secrets.map((s) => ({ metadata: s.metadata })) },
          ];
        const secret = byPath.get(url.pathname);
        if (secret) return [200, secret];
        if (/^\/api\/v1\/namespaces\/[ab]\/pods$/.test(url.pathname)) {
          const ns = url.pathname.split('/')[4];
          const release = ns === 'a' ? 'one' : 'two';
          return [200, { items: Array.from({ length: rooms }, (_, i) => labelled(release, i)) }];
        }
        return [200, { items: [] }];
      });
    const report = await listReleases({
      kube: { kubeconfig: fakeKubeconfigFile() },
      allNamespaces: true,
      warn: (m) => warnings.push(m),
    });
    assert.deepEqual(
      report.releases.map((r) => [r.namespace, r.name, r.revision]),
      [
        ['a', 'one', 2],
        ['b', 'two', 1],
      ],
      "the newest revision of each release of this chart; another chart's release is left out",
    );
    return asked;
  }

  it('the same requests for 3 rooms as for 300: one list of Helm Secrets, the cluster lists once, seven per namespace', async () => {
    const few = await run(3);
    const many = await run(300);
    assert.deepEqual([...many].sort(), [...few].sort());
    assert.equal(few.filter((p) => p === '/api/v1/secrets').length, 1);
    // Then only the newest revision of each release, whole.
    assert.deepEqual(few.filter((p) => p.includes('/secrets/sh.helm.release')).sort(), [
      '/api/v1/namespaces/a/secrets/sh.helm.release.v1.one.v2',
      '/api/v1/namespaces/a/secrets/sh.helm.release.v1.other-chart.v1',
      '/api/v1/namespaces/b/secrets/sh.helm.release.v1.two.v1',
      '/api/v1/namespaces/c/secrets/sh.helm.release.v1.bomb.v1',
    ]);
    const lists = few.filter((p) => !p.includes('/secrets/sh.helm.release'));
    for (const ns of ['a', 'b'])
      assert.equal(lists.filter((p) => p.includes(`/namespaces/${ns}/`)).length, 7);
    assert.ok(!few.some((p) => /\/pods\/[^/]+$/.test(p)), 'never one GET per pod');
  });

  it("lists Helm's release Secrets as metadata, then reads each release's newest whole; the chart's own Secrets by name only", async () => {
    await run(3);
    assert.ok(metadataOnly.has('/api/v1/secrets'));
    assert.deepEqual([...metadataOnly].filter((p) => p.endsWith('/secrets')).sort(), [
      '/api/v1/namespaces/a/secrets',
      '/api/v1/namespaces/b/secrets',
      '/api/v1/secrets',
    ]);
  });

  it('a release that inflates beyond the bound is skipped with a warning that says why', async () => {
    await run(3);
    assert.deepEqual(warnings, [
      'skipped release bomb in namespace c: its newest revision cannot be read (it inflates to more than 32 MiB)',
    ]);
  });
});

describe('coalesceValues: helm get values --all from what Helm stores', () => {
  it("merges the user's maps key by key over the chart's, replaces the rest, and a null removes a default", () => {
    assert.deepEqual(
      coalesceValues(
        {
          room: { replicas: 1, image: { tag: 'a' } },
          expose: { count: null, nodePortBase: 30880 },
          list: [1, 2],
        },
        { room: { replicas: 3 }, expose: { nodePortBase: null }, list: [9] },
      ),
      { room: { replicas: 3, image: { tag: 'a' } }, expose: { count: null }, list: [9] },
    );
  });
});
