import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import nock from 'nock';

import { judgeAll } from '../../src/core/certs.js';
import { readClusterCertSources, type SourceOutcome } from '../../src/kube/cert-objects.js';
import { TestPki } from '../support/certs.js';
import { FAKE_SERVER, fakeKube } from '../support/kube.js';

const pki = new TestPki();
const ca = pki.ca('webhook-ca', { from: -400, to: -2 });
const leaf = pki.leaf('rooms.example', pki.ca('issuer'), { from: -1, to: 20 }, ['DNS:rooms.example']);
const b64 = (s: string) => Buffer.from(s).toString('base64');
const TLS = { fieldSelector: 'type=kubernetes.io/tls' };

const secret = (
  ns: string,
  name: string,
  data: Record<string, string>,
  annotations?: Record<string, string>,
) => ({
  metadata: { namespace: ns, name, annotations },
  type: 'kubernetes.io/tls',
  data,
});

function found(o: SourceOutcome) {
  assert.ok('found' in o, `skipped: ${'skipped' in o ? o.skipped : ''}`);
  return o.found;
}

describe('readClusterCertSources (nock)', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  function rest(scope: nock.Scope, opts: { webhooks?: boolean } = {}) {
    scope
      .get('/api/v1/namespaces/game/configmaps/kube-root-ca.crt')
      .reply(200, { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': ca.pem } })
      .get('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations')
      .reply(200, {
        items: opts.webhooks
          ? [
              {
                metadata: { name: 'injector' },
                webhooks: [
                  { name: 'a.injector.io', clientConfig: { caBundle: b64(ca.pem) } },
                  // No caBundle: the API server's system roots; nothing to check.
                  { name: 'b.injector.io', clientConfig: { url: 'https://x' } },
                ],
              },
            ]
          : [],
      })
      .get('/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations')
      .reply(200, {
        items: opts.webhooks
          ? [
              {
                metadata: { name: 'policy' },
                webhooks: [{ name: 'v.policy.io', clientConfig: { caBundle: b64(leaf.pem) } }],
              },
            ]
          : [],
      })
      .get('/apis/apiregistration.k8s.io/v1/apiservices')
      .reply(200, {
        items: [
          { metadata: { name: 'v1.' }, spec: { version: 'v1', groupPriorityMinimum: 1, versionPriority: 1 } },
          {
            metadata: { name: 'v1beta1.metrics.k8s.io' },
            spec: { caBundle: b64(ca.pem), groupPriorityMinimum: 100, versionPriority: 100 },
          },
        ],
      });
  }

  it('-A: TLS Secrets of every namespace by field selector, tls.crt and ca.crt, cert-manager noted, a missing tls.crt reported', async () => {
    const scope = nock(FAKE_SERVER)
      .get('/api/v1/secrets')
      .query(TLS)
      .reply(200, {
        items: [
          secret(
            'game',
            'rooms-tls',
            { 'tls.crt': b64(leaf.pem), 'ca.crt': b64(ca.pem) },
            { 'cert-manager.io/certificate-name': 'rooms' },
          ),
          secret('web', 'broken', { 'tls.key': b64('k') }),
        ],
      });
    rest(scope);
    const s = await readClusterCertSources(fakeKube(), { allNamespaces: true });
    assert.ok(scope.isDone(), scope.pendingMocks().join(', '));
    const secrets = found(s.secret);
    assert.deepEqual(
      secrets.map((f) => [f.origin.name, f.origin.certManager]),
      [
        ['game/rooms-tls tls.crt', 'rooms'],
        ['game/rooms-tls ca.crt', 'rooms'],
        ['web/broken tls.crt', undefined],
      ],
    );
    const rows = secrets.flatMap((f) =>
      judgeAll(f.origin, f.data, { now: Date.now(), warnMs: 30 * 86_400_000 }),
    );
    assert.deepEqual(
      rows.map((r) => [r.name, r.status, r.reason]),
      [
        ['game/rooms-tls tls.crt', 'expiring', null],
        ['game/rooms-tls ca.crt', 'expired', null],
        ['web/broken tls.crt', 'invalid', 'empty'],
      ],
    );
    assert.match(rows[0]?.hint ?? '', /cert-manager renews it \(Certificate rooms\)/);
    assert.deepEqual(
      found(s.configmap).map((f) => f.origin.name),
      ['game/kube-root-ca.crt ca.crt'],
    );
    assert.deepEqual(
      found(s.apiservice).map((f) => f.origin.name),
      ['v1beta1.metrics.k8s.io caBundle'],
    );
  });

  it('webhook configurations: every webhook with a caBundle, mutating and validating', async () => {
    const scope = nock(FAKE_SERVER)
      .get('/api/v1/namespaces/game/secrets')
      .query(TLS)
      .reply(200, { items: [] });
    rest(scope, { webhooks: true });
    const s = await readClusterCertSources(fakeKube(), { allNamespaces: false });
    const hooks = found(s.webhook);
    assert.deepEqual(
      hooks.map((f) => f.origin.name),
      ['mutating/injector/a.injector.io caBundle', 'validating/policy/v.policy.io caBundle'],
    );
    assert.equal(hooks[0]?.data.toString(), ca.pem);
  });

  it('403 on Secrets and 404 on the ConfigMap skip those sources with the reason; the others are still read', async () => {
    nock(FAKE_SERVER)
      .get('/api/v1/namespaces/game/secrets')
      .query(TLS)
      .reply(403, { kind: 'Status', code: 403, reason: 'Forbidden', message: 'secrets is forbidden' })
      .get('/api/v1/namespaces/game/configmaps/kube-root-ca.crt')
      .reply(404, {
        kind: 'Status',
        code: 404,
        reason: 'NotFound',
        message: 'configmaps "kube-root-ca.crt" not found',
      })
      .get('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations')
      .reply(403, { kind: 'Status', code: 403, reason: 'Forbidden' })
      .get('/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations')
      .reply(200, { items: [] })
      .get('/apis/apiregistration.k8s.io/v1/apiservices')
      .reply(200, { items: [] });
    const s = await readClusterCertSources(fakeKube(), { allNamespaces: false });
    assert.deepEqual(s.secret, { skipped: 'forbidden: you may not list secrets in namespace game' });
    assert.deepEqual(s.webhook, {
      skipped: 'forbidden: you may not list mutating and validating webhook configurations',
    });
    assert.ok('skipped' in s.configmap);
    assert.match(
      s.configmap.skipped,
      /^not found while trying to get configmap kube-root-ca\.crt in namespace game/,
    );
    assert.deepEqual(s.apiservice, { found: [] });
  });
});
