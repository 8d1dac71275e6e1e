import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';

import { peerChain } from '../../src/net/tls.js';
import { TestPki } from '../support/certs.js';

/** The API server's serving chain, dialled as the kubeconfig's cluster says: proxy-url and tls-server-name. */
describe('peerChain: through proxy-url, naming tls-server-name', () => {
  const pki = new TestPki();
  const ca = pki.ca('dial-ca');
  const leaf = pki.leaf('api', ca, {}, ['DNS:api.internal']);
  const seen: { sni: (string | undefined)[]; connect: string[] } = { sni: [], connect: [] };
  let server: tls.Server;
  let proxy: http.Server;
  let tlsPort = 0;
  let proxyPort = 0;

  before(async () => {
    server = tls.createServer({
      cert: readFileSync(leaf.cert),
      key: readFileSync(leaf.key),
      SNICallback: (name, cb) => {
        seen.sni.push(name);
        cb(null, tls.createSecureContext({ cert: readFileSync(leaf.cert), key: readFileSync(leaf.key) }));
      },
    });
    server.on('secureConnection', (s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    tlsPort = (server.address() as AddressInfo).port;
    proxy = http.createServer((_q, res) => res.writeHead(405).end());
    proxy.on('connect', (req: http.IncomingMessage, client: net.Socket) => {
      seen.connect.push(req.url ?? '');
      if (req.headers['proxy-authorization'] === undefined && req.url?.startsWith('denied')) {
        client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        return;
      }
      const [host, port] = (req.url ?? '').split(':');
      const upstream = net.connect(
        Number(port),
        host === 'api.example.test' ? '127.0.0.1' : (host ?? ''),
        () => {
          client.write('HTTP/1.1 200 Connection established\r\n\r\n');
          upstream.pipe(client);
          client.pipe(upstream);
        },
      );
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    proxyPort = (proxy.address() as AddressInfo).port;
  });
  after(() => {
    server.close();
    proxy.close();
  });

  it('through the proxy: a CONNECT to the server, and its certificate; SNI is tls-server-name', async () => {
    // A name only the proxy can resolve: the dial goes through it, or fails.
    const chain = await peerChain(`https://api.example.test:${tlsPort}`, 5000, {
      proxyUrl: `http://127.0.0.1:${proxyPort}`,
      serverName: 'api.internal',
    });
    assert.ok(chain.length >= 1);
    assert.deepEqual(seen.connect, [`api.example.test:${tlsPort}`]);
    assert.deepEqual(seen.sni, ['api.internal']);
  });

  it('without tls-server-name, an IP address sends no SNI and a name sends itself', async () => {
    seen.sni.length = 0;
    await peerChain(`https://127.0.0.1:${tlsPort}`, 5000);
    await peerChain(`https://localhost:${tlsPort}`, 5000);
    assert.deepEqual(seen.sni, ['localhost']);
  });

  it('a proxy that refuses, and a proxy scheme not dialled here, fail saying so', async () => {
    await assert.rejects(
      peerChain(`https://denied:${tlsPort}`, 5000, { proxyUrl: `http://127.0.0.1:${proxyPort}` }),
      /the proxy 127\.0\.0\.1:\d+ answered 403 to CONNECT denied:\d+/,
    );
    await assert.rejects(
      peerChain(`https://127.0.0.1:${tlsPort}`, 5000, { proxyUrl: 'socks5://127.0.0.1:1080' }),
      /proxy-url socks5:\/\/127\.0\.0\.1:1080: only http:\/\/ proxies are dialled here/,
    );
  });
});
