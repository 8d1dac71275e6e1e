import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { KubeConfig } from '@kubernetes/client-node';

import { keepAliveAgent, kubeApis } from '../../src/kube/api.js';
import type { ResolvedKube } from '../../src/kube/config.js';
import { TestPki } from '../support/certs.js';

/** A kube on `server`, trusting `ca` (certificate-authority-data), with a token user. */
function kubeOn(server: string, ca: string): ResolvedKube {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, caData: Buffer.from(ca).toString('base64') }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u', namespace: 'game' }],
    currentContext: 'x',
  });
  return { kc, context: 'x', namespace: 'game', requestTimeoutMs: 10_000 };
}

describe('one TLS connection for a command run, not one per request', () => {
  const pki = new TestPki();
  const ca = pki.ca('keep-alive-ca');
  const leaf = pki.leaf('api', ca, {}, ['IP:127.0.0.1']);
  let server: https.Server;
  let url = '';
  let handshakes = 0;
  // A function, so the count is read afresh after each assertion.
  const seen = () => handshakes;

  before(async () => {
    server = https.createServer(
      { cert: readFileSync(leaf.cert), key: readFileSync(leaf.key) },
      (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [] }));
      },
    );
    server.on('secureConnection', () => handshakes++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('requests one after another, and eight at once, share the connections a real TLS server sees', async () => {
    const { core, call } = await kubeApis(kubeOn(url, readFileSync(ca.cert, 'utf8')));
    const list = () => call('list pods', core.listNamespacedPod({ namespace: 'game' }));
    for (let i = 0; i < 5; i++) await list();
    assert.equal(handshakes, 1, 'five requests in a row: one handshake');
    await Promise.all(Array.from({ length: 8 }, list));
    await Promise.all(Array.from({ length: 8 }, list));
    const total = seen();
    assert.ok(total <= 8, `sixteen requests, eight at a time: ${total} handshakes`);
  });

  it('one agent per TLS identity: other credentials or CA get their own; proxy and plain agents are kept', () => {
    const a = new https.Agent({ ca: 'ca-1', cert: 'c', key: 'k' });
    const shared = keepAliveAgent(a);
    assert.notEqual(shared, a);
    assert.equal(keepAliveAgent(new https.Agent({ ca: 'ca-1', cert: 'c', key: 'k' })), shared);
    assert.notEqual(keepAliveAgent(new https.Agent({ ca: 'ca-1', cert: 'renewed', key: 'k' })), shared);
    assert.notEqual(keepAliveAgent(new https.Agent({ ca: 'ca-2', cert: 'c', key: 'k' })), shared);
    assert.notEqual(
      keepAliveAgent(new https.Agent({ ca: 'ca-1', cert: 'c', key: 'k', rejectUnauthorized: false })),
      shared,
    );
    class ProxyAgent extends https.Agent {}
    const proxy = new ProxyAgent({});
    assert.equal(keepAliveAgent(proxy), proxy);
    assert.equal(shared.options.keepAlive, true);
  });
});
