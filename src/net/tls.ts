import http from 'node:http';
import { isIP, type Socket } from 'node:net';
import tls, { type DetailedPeerCertificate } from 'node:tls';

/** How the API server is reached, as the kubeconfig's cluster says. */
export interface DialOptions {
  /** tls-server-name: the name sent in SNI (and that the certificate is for), instead of the URL's host. */
  serverName?: string;
  /** proxy-url: an http:// proxy, through which a CONNECT tunnel is opened. */
  proxyUrl?: string;
}

/** A CONNECT tunnel to host:port through an http:// proxy, as kubectl opens one. */
function tunnel(proxyUrl: string, host: string, port: number, timeoutMs: number): Promise<Socket> {
  const proxy = new URL(proxyUrl);
  if (proxy.protocol !== 'http:')
    return Promise.reject(new Error(`proxy-url ${proxyUrl}: only http:// proxies are dialled here`));
  const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: Number(proxy.port || 80),
      method: 'CONNECT',
      path: target,
      headers: {
        host: target,
        ...(proxy.username && {
          'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`,
        }),
      },
      timeout: timeoutMs,
    });
    req.once('connect', (res, socket) => {
      if (res.statusCode === 200) resolve(socket);
      else {
        socket.destroy();
        reject(new Error(`the proxy ${proxy.host} answered ${res.statusCode ?? '?'} to CONNECT ${target}`));
      }
    });
    req.once('timeout', () =>
      req.destroy(new Error(`no answer from the proxy ${proxy.host} within ${timeoutMs} ms`)),
    );
    req.once('error', reject);
    req.end();
  });
}

/**
 * The certificate chain a TLS server presents, leaf first, as DER: one real
 * handshake, through the kubeconfig's proxy-url and with its tls-server-name
 * when it has them. Verification is off on purpose: this reads what the
 * server sends, including an expired or self-signed chain, and never sends data.
 */
export async function peerChain(url: string, timeoutMs: number, dial: DialOptions = {}): Promise<Buffer[]> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 443);
  const through = dial.proxyUrl ? await tunnel(dial.proxyUrl, host, port, timeoutMs) : undefined;
  const servername = dial.serverName ?? (isIP(host) ? undefined : host);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      ...(through ? { socket: through } : { host, port }),
      servername,
      rejectUnauthorized: false,
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`));
    });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const chain: Buffer[] = [];
      const seen = new Set<string>();
      // The chain ends where a certificate is its own issuer (Node links the root to itself).
      // An anonymous server sends none: getPeerCertificate() is then {}.
      let c: Partial<DetailedPeerCertificate> = socket.getPeerCertificate(true);
      while (c.raw && c.fingerprint256 && !seen.has(c.fingerprint256)) {
        seen.add(c.fingerprint256);
        chain.push(c.raw);
        c = c.issuerCertificate ?? {};
      }
      socket.end();
      resolve(chain);
    });
  });
}
