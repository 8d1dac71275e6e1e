import { isIP } from 'node:net';
import tls, { type DetailedPeerCertificate } from 'node:tls';

/**
 * The certificate chain a TLS server presents, leaf first, as DER: one real
 * handshake. Verification is off on purpose: this reads what the server
 * sends, including an expired or self-signed chain, and never sends data.
 */
export function peerChain(url: string, timeoutMs: number): Promise<Buffer[]> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 443);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      servername: isIP(host) ? undefined : host,
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
