import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { run, sh } from '../lib/run.js';
import { readMachO, type MachOSignature } from './macho.js';

/** Apple Root CA (2006), to which every Developer ID certificate chains: its SHA-256 fingerprint, pinned. */
export const APPLE_ROOT_CA_SHA256 =
  'B0:B1:73:0E:CB:C7:FF:45:05:14:2C:49:F1:29:5E:6E:DA:6B:CA:ED:7E:2C:68:C5:BE:91:B5:A1:10:01:F0:24';

/** The Node.js project's Apple Developer ID team: the only signer a macOS Node binary may have. */
export const NODE_TEAM_ID = 'HX7739G8FX';

/** Who signed a verified binary, for the release notes. */
export interface VerifiedSigner {
  /** "Developer ID Application: Node.js Foundation (HX7739G8FX)". */
  signer: string;
  teamId: string;
  /** The CodeDirectory's identifier: com.nodejs.node, node, ... */
  identifier: string;
}

const HASHES: Record<number, string> = { 1: 'sha1', 2: 'sha256' };

/**
 * Every page hash of the CodeDirectory matches the file: the signature covers
 * these exact bytes (what the CMS signs is the CodeDirectory, not the file).
 */
export function checkPageHashes(file: Buffer, cd: Buffer): string | undefined {
  const hashOffset = cd.readUInt32BE(16);
  const nCodeSlots = cd.readUInt32BE(28);
  const codeLimit = cd.readUInt32BE(32);
  const hashSize = cd.readUInt8(36);
  const algorithm = HASHES[cd.readUInt8(37)];
  const pageSize = 2 ** cd.readUInt8(39);
  if (!algorithm) return `the CodeDirectory uses hash type ${cd.readUInt8(37)}`;
  if (codeLimit > file.length) return 'the CodeDirectory covers more than the file';
  for (let i = 0; i < nCodeSlots; i++) {
    const page = file.subarray(i * pageSize, Math.min((i + 1) * pageSize, codeLimit));
    const want = cd.subarray(hashOffset + i * hashSize, hashOffset + (i + 1) * hashSize);
    if (!createHash(algorithm).update(page).digest().equals(want)) return `page ${i} does not match its hash`;
  }
  return undefined;
}

/** The Team ID a CodeDirectory records (version 0x20200 and later). */
function codeDirectoryTeam(cd: Buffer): string | undefined {
  if (cd.readUInt32BE(8) < 0x20200) return undefined;
  const at = cd.readUInt32BE(48);
  return at ? cd.subarray(at, cd.indexOf(0, at)).toString('utf8') : undefined;
}

/**
 * Verifies a macOS Node binary before it is embedded: its page hashes match
 * its CodeDirectory; the CMS signature over the CodeDirectory verifies (with
 * openssl) through a certificate chain that ends at Apple Root CA, pinned by
 * fingerprint; and the signer is the Node.js project's Developer ID team.
 * Certificate lifetimes are not checked: a code signature outlives its
 * certificate, as macOS treats it. Throws, naming what failed.
 */
export function verifyNodeSignature(binary: string): VerifiedSigner {
  const bytes = readFileSync(binary);
  const fail = (why: string): never => {
    throw new Error(`${binary}: not a binary signed by the Node.js project: ${why}`);
  };
  let sig: MachOSignature;
  try {
    sig = readMachO(bytes);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (!sig.signed || !sig.codeDirectory) return fail('it has no code signature');
  if (sig.adhoc || !sig.cms?.length) return fail('it is signed ad hoc, by no certificate');
  const pages = checkPageHashes(bytes, sig.codeDirectory);
  if (pages) return fail(pages);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-codesign-'));
  try {
    const cms = path.join(dir, 'signature.der');
    const content = path.join(dir, 'code-directory');
    writeFileSync(cms, sig.cms);
    writeFileSync(content, sig.codeDirectory);
    const chain = sh('openssl', ['pkcs7', '-inform', 'DER', '-in', cms, '-print_certs']);
    const certs = (chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
      (pem) => new X509Certificate(pem),
    );
    const root = certs.find((c) => c.fingerprint256 === APPLE_ROOT_CA_SHA256);
    if (!root) return fail('no certificate in its chain is Apple Root CA');
    writeFileSync(path.join(dir, 'root.pem'), root.toString());
    const signerFile = path.join(dir, 'signer.pem');
    // openssl checks the signature over the CodeDirectory and the chain to the pinned root.
    const verified = run('openssl', [
      'cms',
      '-verify',
      '-inform',
      'DER',
      '-in',
      cms,
      '-binary',
      '-content',
      content,
      '-CAfile',
      path.join(dir, 'root.pem'),
      '-purpose',
      'any',
      '-no_check_time',
      // Apple marks its own Developer ID extensions critical, and openssl does not know them.
      '-ignore_critical',
      '-signer',
      signerFile,
      '-out',
      path.join(dir, 'verified'),
    ]);
    if (verified.status !== 0) {
      const why =
        verified.stderr
          .trim()
          .split('\n')
          .filter((l) => l.includes(':error:'))[0] ?? verified.stderr.trim();
      return fail(
        `its signature does not verify to Apple Root CA (openssl: ${why.replace(/^.*:error:[^:]*:/, '')})`,
      );
    }
    const signer = new X509Certificate(readFileSync(signerFile));
    const fields = signer.subject.split('\n');
    const teamId = fields.find((f) => f.startsWith('OU='))?.slice(3);
    if (teamId !== NODE_TEAM_ID) return fail(`it is signed by team ${teamId ?? '?'}, not ${NODE_TEAM_ID}`);
    const cdTeam = codeDirectoryTeam(sig.codeDirectory);
    if (cdTeam !== undefined && cdTeam !== teamId)
      return fail(`its CodeDirectory names team ${cdTeam}, its certificate ${teamId}`);
    const cn = fields.find((f) => f.startsWith('CN='))?.slice(3) ?? signer.subject;
    return { signer: cn, teamId, identifier: sig.identifier ?? '' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
