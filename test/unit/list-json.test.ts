import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';

import nock from 'nock';

import { ExitCode } from '../../src/errors.js';
import { kubeApis, listJson, MAX_LIST_BYTES } from '../../src/kube/api.js';
import { KubeApiError } from '../../src/kube/errors.js';
import { FAKE_SERVER, fakeKube } from '../support/kube.js';

describe('listJson: a cluster-wide list as plain JSON (nock: the exact request, gzip, failures)', () => {
  before(() => {
    nock.disableNetConnect();
  });
  after(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('GET with the query, JSON, the bearer token and gzip; the items as the API sent them (timestamps stay strings)', async () => {
    const pod = {
      metadata: { name: 'p', creationTimestamp: '2026-12-05T00:00:00Z' },
      spec: { nodeName: 'n1' },
    };
    nock(FAKE_SERVER, {
      reqheaders: {
        accept: 'application/json',
        authorization: 'Bearer secret-token',
        'accept-encoding': 'gzip',
      },
    })
      .get('/api/v1/pods')
      .query({ fieldSelector: 'status.phase!=Succeeded' })
      .reply(200, gzipSync(JSON.stringify({ metadata: { resourceVersion: '9' }, items: [pod] })), {
        'Content-Encoding': 'gzip',
      });
    const list = await listJson(fakeKube(), '/api/v1/pods', { fieldSelector: 'status.phase!=Succeeded' });
    assert.deepEqual(list, { metadata: { resourceVersion: '9' }, items: [pod] });
  });

  it('a refusal is a KubeApiError saying what was asked, with its exit code', async () => {
    nock(FAKE_SERVER)
      .get('/api/v1/services')
      .reply(403, { kind: 'Status', code: 403, reason: 'Forbidden', message: 'services is forbidden' });
    const kube = fakeKube();
    const { call } = await kubeApis(kube);
    await assert.rejects(call('list services in all namespaces', listJson(kube, '/api/v1/services')), (e) => {
      assert.ok(e instanceof KubeApiError);
      assert.equal(e.httpCode, 403);
      assert.equal(e.exitCode, ExitCode.FORBIDDEN);
      assert.match(e.message, /list services in all namespaces/);
      return true;
    });
  });

  it('a gzip bomb is not inflated past the bound: exit 5, naming the request, and nothing kept', async () => {
    const limit = 1024 * 1024;
    // 8 MiB of JSON whitespace in some 8 KB on the wire: as a 300 MiB answer in 305 KB.
    const bomb = gzipSync(Buffer.alloc(8 * limit, ' '));
    assert.ok(bomb.length < limit / 64);
    nock(FAKE_SERVER).get('/api/v1/pods').reply(200, bomb, { 'Content-Encoding': 'gzip' });
    const kube = fakeKube();
    const { call } = await kubeApis(kube);
    await assert.rejects(
      call('list pods in all namespaces', listJson(kube, '/api/v1/pods', {}, limit)),
      (e) => {
        assert.ok(e instanceof KubeApiError);
        assert.equal(e.exitCode, ExitCode.CLUSTER_UNREACHABLE);
        assert.equal(
          e.message,
          "the API server's answer to GET /api/v1/pods is larger than 1 MiB once inflated; it was not read further",
        );
        return true;
      },
    );
  });

  it('an answer larger than the bound as sent is not read further either; one within it is read whole', async () => {
    const limit = 64 * 1024;
    const items = Array.from({ length: 5000 }, (_, i) => ({ metadata: { name: `svc-${i}` } }));
    nock(FAKE_SERVER).get('/api/v1/services').reply(200, JSON.stringify({ items }));
    await assert.rejects(listJson(fakeKube(), '/api/v1/services', {}, limit), {
      exitCode: ExitCode.CLUSTER_UNREACHABLE,
      message:
        "the API server's answer to GET /api/v1/services is larger than 0.0625 MiB; it was not read further",
    });
    nock(FAKE_SERVER)
      .get('/api/v1/services')
      .reply(200, JSON.stringify({ items: items.slice(0, 10) }));
    assert.equal((await listJson(fakeKube(), '/api/v1/services', {}, limit)).items.length, 10);
    assert.equal(MAX_LIST_BYTES, 128 * 1024 * 1024, 'as README documents it');
  });
});
