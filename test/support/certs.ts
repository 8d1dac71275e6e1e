import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const DAY = 86_400_000;

/** openssl ca's date format, YYYYMMDDHHMMSSZ, for now + days. */
function stamp(days: number): string {
  return `${new Date(Date.now() + days * DAY).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

export interface Issued {
  name: string;
  cert: string;
  key: string;
  /** The certificate, PEM. */
  pem: string;
}

export interface Validity {
  /** Days from now; negative is in the past. Default -1. */
  from?: number;
  /** Days from now. Default 365. */
  to?: number;
}

/**
 * Certificates made at test time by openssl, dated relative to now, so no
 * fixture ever rots: `openssl ca` is the one tool in OpenSSL 3.0 that sets
 * both dates (-startdate, -enddate), also in the past.
 */
export class TestPki {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-pki-'));
  private serial = 0x1000;

  private config(): string {
    const db = path.join(this.dir, 'db');
    mkdirSync(path.join(db, 'new'), { recursive: true });
    writeFileSync(path.join(db, 'index.txt'), '');
    writeFileSync(path.join(db, 'index.txt.attr'), 'unique_subject = no\n');
    writeFileSync(path.join(db, 'serial'), `${(this.serial++).toString(16)}\n`);
    const cfg = path.join(db, 'ca.cnf');
    writeFileSync(
      cfg,
      `[ca]
default_ca = dflt
[dflt]
dir = ${db}
database = ${db}/index.txt
new_certs_dir = ${db}/new
serial = ${db}/serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
organizationName = optional
[ca_ext]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
[leaf_ext]
basicConstraints = CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
`,
    );
    return cfg;
  }

  private issue(name: string, subject: string, v: Validity, signer: Issued | 'self', sans: string[]): Issued {
    const base = path.join(this.dir, name.replace(/[^\w.-]/g, '_'));
    mkdirSync(path.dirname(base), { recursive: true });
    const key = `${base}.key`;
    const cert = `${base}.crt`;
    openssl(
      [
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        `${base}.csr`,
        '-subj',
        subject,
      ],
      this.dir,
    );
    const cfg = this.config();
    const ext = signer === 'self' ? 'ca_ext' : 'leaf_ext';
    const extfile = `${base}.ext`;
    const cnf = readFileSync(cfg, 'utf8');
    writeFileSync(
      extfile,
      `${cnf.slice(cnf.indexOf(`[${ext}]`))}${sans.length ? `subjectAltName = ${sans.join(', ')}\n` : ''}`,
    );
    openssl(
      [
        'ca',
        '-batch',
        '-notext',
        '-config',
        cfg,
        '-in',
        `${base}.csr`,
        '-out',
        cert,
        '-startdate',
        stamp(v.from ?? -1),
        '-enddate',
        stamp(v.to ?? 365),
        '-extfile',
        extfile,
        '-extensions',
        ext,
        ...(signer === 'self'
          ? ['-selfsign', '-keyfile', key]
          : ['-cert', signer.cert, '-keyfile', signer.key]),
      ],
      this.dir,
    );
    return { name, cert, key, pem: readFileSync(cert, 'utf8') };
  }

  /** A self-signed CA. */
  ca(name: string, v: Validity = { to: 3650 }): Issued {
    return this.issue(name, `/CN=${name}`, v, 'self', []);
  }

  /** A leaf signed by `ca`, for server and client use. */
  leaf(name: string, ca: Issued, v: Validity = {}, sans: string[] = []): Issued {
    return this.issue(name, `/CN=${name}`, v, ca, sans);
  }
}
