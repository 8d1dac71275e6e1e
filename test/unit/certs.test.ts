import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, copyFileSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import {
  commonName,
  DEFAULT_PKI_DIR,
  judge,
  judgeAll,
  kubeadmDate,
  KUBEADM_CAS,
  KUBEADM_CERTS,
  parseCertificates,
  residualTime,
  sortByExpiry,
  worstStatus,
  type CertReport,
} from '../../src/core/certs.js';
import { longDurationMs } from '../../src/core/duration.js';
import { ExitCode } from '../../src/errors.js';
import { checkCerts, readPkiDir } from '../../src/ops/check-certs.js';
import { TestPki } from '../support/certs.js';
import { cli } from '../support/cli.js';
import { CLI, run } from '../support/tools.js';

const DAY = 86_400_000;
/** No kubeconfig at all: KUBECONFIG names a file that is not there. */
const NO_KUBECONFIG = '/nonexistent/kubeconfig';
const now = Date.now();
const j = { now, warnMs: 30 * DAY };

const pki = new TestPki();
const ca = pki.ca('test-ca');
// Half days keep RESIDUAL TIME clear of the boundary, whatever the seconds between issuing and checking.
const valid = pki.leaf('valid', ca, { from: -1, to: 200.5 }, ['DNS:rooms.example', 'IP:10.0.0.1']);
const expiring = pki.leaf('expiring', ca, { from: -300, to: 10 });
const expired = pki.leaf('expired', ca, { from: -400, to: -3 });
const future = pki.leaf('future', ca, { from: 5, to: 400 });

/** The one row an input gave. */
const first = (rows: CertReport[]): CertReport => {
  const r = rows[0];
  assert.ok(r, 'no row');
  return r;
};
const one = (pem: string, name = 'x') => judgeAll({ name, source: 'secret' }, pem, j);

describe('residualTime (kubeadm RESIDUAL TIME)', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [59_999, '59s'],
    [60_000, '1m'],
    [3_599_000, '59m'],
    [3_600_000, '1h'],
    [DAY - 1, '23h'],
    [DAY, '1d'],
    [364 * DAY + 5, '364d'],
    [365 * DAY, '1y'],
    [9.99 * 365 * DAY, '9y'],
    [-3 * DAY, '-3d'],
    [-30_000, '-30s'],
  ];
  for (const [ms, want] of cases) {
    it(`${ms} ms is ${want}`, () => {
      assert.equal(residualTime(ms), want);
    });
  }
});

describe('longDurationMs (--warn-within)', () => {
  it('takes days, weeks and combinations; refuses a bare number or junk', () => {
    assert.equal(longDurationMs('30d'), 30 * DAY);
    assert.equal(longDurationMs('2w'), 14 * DAY);
    assert.equal(longDurationMs('1d12h'), 1.5 * DAY);
    assert.equal(longDurationMs('720h'), 30 * DAY);
    assert.equal(longDurationMs('0s'), 0);
    assert.equal(longDurationMs('30'), undefined);
    assert.equal(longDurationMs('soon'), undefined);
    assert.equal(longDurationMs('-1d'), undefined);
  });
});

describe('judge: status from the dates', () => {
  it('valid, expiring within the window, expired, and not yet valid (invalid, with the reason)', () => {
    const v = first(one(valid.pem, 'valid'));
    assert.equal(v.status, 'ok');
    assert.equal(v.residual, '200d');
    assert.equal(v.authority, 'test-ca');
    assert.deepEqual(v.sans, ['DNS:rooms.example', 'IP Address:10.0.0.1']);
    assert.equal(v.subject, 'CN=valid');
    assert.equal(v.isCA, false);
    assert.match(v.serial ?? '', /^[0-9A-F]+$/);
    assert.equal(one(expiring.pem)[0]?.status, 'expiring');
    const e = first(one(expired.pem));
    assert.equal(e.status, 'expired');
    assert.match(e.residual ?? '', /^-[23]d$/);
    const f = first(one(future.pem));
    assert.equal(f.status, 'invalid');
    assert.match(f.reason ?? '', /^not valid before \d{4}-\d\d-\d\dT/);
  });

  it('the window is --warn-within: 0 never warns, a year warns about the 200-day one', () => {
    assert.equal(
      judgeAll({ name: 'x', source: 'secret' }, expiring.pem, { now, warnMs: 0 })[0]?.status,
      'ok',
    );
    assert.equal(
      judgeAll({ name: 'x', source: 'secret' }, valid.pem, { now, warnMs: 365 * DAY })[0]?.status,
      'expiring',
    );
  });

  it('a CA: isCA true, self-signed (no authority)', () => {
    const c = first(one(ca.pem));
    assert.equal(c.isCA, true);
    assert.equal(c.authority, null);
    assert.equal(c.status, 'ok');
  });
});

describe('parseCertificates: nothing crashes, everything broken is an invalid row with the reason', () => {
  const cases: [string, string | Buffer, RegExp][] = [
    ['empty', '', /^empty$/],
    ['not PEM at all', 'hello', /^no PEM certificate in it$/],
    [
      'DER',
      Buffer.from(valid.pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'),
      /^DER, not PEM: Kubernetes expects PEM here$/,
    ],
    [
      'a corrupted block',
      '-----BEGIN CERTIFICATE-----\nMIIBnotbase64atall\n-----END CERTIFICATE-----\n',
      /^a CERTIFICATE block does not parse/,
    ],
    ['a truncated block', valid.pem.slice(0, 200), /^a PEM block is not terminated$/],
    [
      'only a key',
      '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
      /^no CERTIFICATE block in it$/,
    ],
  ];
  for (const [what, input, reason] of cases) {
    it(what, () => {
      const rows = judgeAll({ name: 'x', source: 'secret' }, input, j);
      assert.equal(rows.length, 1);
      const r = first(rows);
      assert.equal(r.status, 'invalid');
      assert.match(r.reason ?? '', reason);
    });
  }

  it('a chain with junk in it: each certificate a row, the broken block an invalid row in its place', () => {
    const bundle = `subject=CN=valid\n${valid.pem}garbage between\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n${ca.pem}`;
    const rows = judgeAll({ name: 'game/tls tls.crt', source: 'secret' }, bundle, j);
    assert.deepEqual(
      rows.map((r) => [r.name, r.status]),
      [
        ['game/tls tls.crt', 'ok'],
        ['game/tls tls.crt[1]', 'invalid'],
        ['game/tls tls.crt[2]', 'ok'],
      ],
    );
    assert.equal(parseCertificates(bundle).length, 3);
  });
});

describe('sorting, the worst status and kubeadm dates', () => {
  it('invalid first, then by expiry; worst status decides the exit code', () => {
    const rows: CertReport[] = [
      ...one(valid.pem, 'valid'),
      ...one(expired.pem, 'expired'),
      ...one('junk', 'junk'),
      ...one(expiring.pem, 'expiring'),
    ];
    assert.deepEqual(
      sortByExpiry(rows).map((r) => r.name),
      ['junk', 'expired', 'expiring', 'valid'],
    );
    assert.equal(worstStatus(rows), 'invalid');
    assert.equal(worstStatus(one(expiring.pem)), 'expiring');
    assert.equal(worstStatus([...one(valid.pem), ...one(expired.pem)]), 'expired');
    assert.equal(worstStatus([]), 'ok');
  });

  it("kubeadm's EXPIRES format", () => {
    assert.equal(kubeadmDate('2027-01-05T07:08:00.000Z'), 'Jan 05, 2027 07:08 UTC');
    assert.equal(kubeadmDate(null), '-');
  });

  it('renewal hints: kubeadm renew and restart for the pki; cert-manager for its Secrets; none when ok', () => {
    const k = first(
      judgeAll({ name: 'apiserver', source: 'pki', kubeadmRenew: 'apiserver' }, expiring.pem, j),
    );
    assert.match(k.hint ?? '', /^kubeadm certs renew apiserver, then restart the control-plane static pods/);
    const a = first(
      judgeAll({ name: 'admin.conf', source: 'pki', kubeadmRenew: 'admin.conf' }, expired.pem, j),
    );
    assert.match(a.hint ?? '', /kubeadm certs renew admin\.conf.*copy admin\.conf to ~\/\.kube\/config/);
    const m = first(judgeAll({ name: 's', source: 'secret', certManager: 'rooms-tls' }, expiring.pem, j));
    assert.match(m.hint ?? '', /^cert-manager renews it \(Certificate rooms-tls\)/);
    const o = first(judgeAll({ name: 'apiserver', source: 'pki', kubeadmRenew: 'apiserver' }, valid.pem, j));
    assert.equal(o.hint, null);
    const c = judge({ name: 'ca', source: 'pki', kubeadmCA: true }, { error: 'empty' }, j);
    assert.match(c.hint ?? '', /kubeadm does not renew CAs/);
  });
});

/** A kubeadm control-plane's /etc/kubernetes, made at test time: pki/ and the kubeconfigs beside it. */
function kubeadmTree(opts: { expiredApiserver?: boolean; withoutSuperAdmin?: boolean } = {}): string {
  const t = new TestPki();
  const root = path.join(t.dir, 'kubernetes');
  const dir = path.join(root, 'pki');
  mkdirSync(path.join(dir, 'etcd'), { recursive: true });
  // 3600 days: clearly 9y, whatever the seconds between issuing and checking.
  const caValidity = { from: -1, to: 3600 };
  const cas = {
    ca: t.ca('kubernetes', caValidity),
    'etcd-ca': t.ca('etcd-ca', caValidity),
    'front-proxy-ca': t.ca('front-proxy-ca', caValidity),
  };
  for (const c of KUBEADM_CAS) copyFileSync(cas[c.name as keyof typeof cas].cert, path.join(dir, c.file));
  for (const c of KUBEADM_CERTS) {
    if (opts.withoutSuperAdmin && c.name === 'super-admin.conf') continue;
    const signer = cas[c.authority as keyof typeof cas];
    const validity =
      c.name === 'apiserver' && opts.expiredApiserver ? { from: -400, to: -1.5 } : { from: -1, to: 364.5 };
    const leaf = t.leaf(c.name, signer, validity);
    if (c.kubeconfig) {
      writeFileSync(
        path.join(dir, c.file),
        `apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    client-certificate-data: ${Buffer.from(leaf.pem).toString('base64')}\n    client-key-data: eA==\n`,
      );
    } else {
      copyFileSync(leaf.cert, path.join(dir, c.file));
    }
  }
  return dir;
}

describe('the kubeadm pki layout, generated at test time', () => {
  it("reads exactly kubeadm's set of names, with their CAs, and the CAs apart", () => {
    const dir = kubeadmTree();
    const { found, missing } = readPkiDir(dir);
    assert.deepEqual(missing, []);
    const rows = found.flatMap((f) => judgeAll(f.origin, f.data, j));
    assert.deepEqual(
      rows.filter((r) => !r.kubeadmCA).map((r) => [r.name, r.authority, r.status, r.residual]),
      [
        ['admin.conf', 'ca', 'ok', '364d'],
        ['apiserver', 'ca', 'ok', '364d'],
        ['apiserver-etcd-client', 'etcd-ca', 'ok', '364d'],
        ['apiserver-kubelet-client', 'ca', 'ok', '364d'],
        ['controller-manager.conf', 'ca', 'ok', '364d'],
        ['etcd-healthcheck-client', 'etcd-ca', 'ok', '364d'],
        ['etcd-peer', 'etcd-ca', 'ok', '364d'],
        ['etcd-server', 'etcd-ca', 'ok', '364d'],
        ['front-proxy-client', 'front-proxy-ca', 'ok', '364d'],
        ['scheduler.conf', 'ca', 'ok', '364d'],
        ['super-admin.conf', 'ca', 'ok', '364d'],
      ],
    );
    assert.deepEqual(
      rows.filter((r) => r.kubeadmCA).map((r) => [r.name, r.residual]),
      [
        ['ca', '9y'],
        ['etcd-ca', '9y'],
        ['front-proxy-ca', '9y'],
      ],
    );
  });

  it('a cluster without super-admin.conf (before v1.29) just lacks that row', () => {
    const { missing } = readPkiDir(kubeadmTree({ withoutSuperAdmin: true }));
    assert.deepEqual(missing, ['super-admin.conf']);
  });

  it('check-certs --offline --pki-dir: kubeadm table, renewal hint, exit 12 for the expired apiserver', () => {
    const dir = kubeadmTree({ expiredApiserver: true });
    const r = cli(['check-certs', '--offline', '--pki-dir', dir], { KUBECONFIG: NO_KUBECONFIG });
    assert.equal(r.status, ExitCode.CERTS_EXPIRED, r.stderr);
    assert.match(r.stdout, /^CERTIFICATE +SOURCE +EXPIRES +RESIDUAL TIME +CERTIFICATE AUTHORITY +STATUS$/m);
    assert.match(r.stdout, /^apiserver +pki +\w{3} \d\d, \d{4} \d\d:\d\d UTC +-1d +ca +expired$/m);
    assert.match(r.stdout, /^CERTIFICATE AUTHORITY +SOURCE +EXPIRES +RESIDUAL TIME +STATUS$/m);
    assert.match(r.stdout, /^etcd-ca +pki .* 9y +ok$/m);
    assert.match(r.stdout, /^ {2}apiserver: kubeadm certs renew apiserver, then restart/m);
    assert.match(r.stderr, /^checked: kubeconfig \(0\), pki \(14\)$/m);
    // The first row is the soonest to expire.
    assert.match(r.stdout.split('\n')[1] ?? '', /^apiserver /);
  });

  it('an unreadable --pki-dir is a clear error naming the path and the permission (exit 2)', () => {
    const dir = kubeadmTree();
    chmodSync(dir, 0o700);
    // root reads anything, so as root the CLI runs as nobody (setpriv), as a real user would meet it.
    const asUser =
      process.getuid?.() === 0
        ? run(
            'setpriv',
            [
              '--reuid=65534',
              '--regid=65534',
              '--clear-groups',
              process.execPath,
              CLI,
              'check-certs',
              '--offline',
              '--kubeconfig',
              '/dev/null',
              '--pki-dir',
              dir,
            ],
            { env: { HOME: '/tmp' } },
          )
        : cli(['check-certs', '--offline', '--kubeconfig', '/dev/null', '--pki-dir', dir]);
    assert.equal(asUser.status, ExitCode.USAGE, asUser.stderr);
    assert.equal(
      asUser.stderr,
      `error: --pki-dir ${dir} is not readable (EACCES): permission denied for this user\nRun it as a user who can read the directory (for example with sudo).\n`,
    );
  });

  it('a --pki-dir that does not exist is a usage error before anything is read', async () => {
    await assert.rejects(
      checkCerts({
        kube: {},
        allNamespaces: false,
        allContexts: false,
        offline: true,
        pkiDir: '/no/such/pki',
        judge: j,
      }),
      { exitCode: ExitCode.USAGE, message: '--pki-dir /no/such/pki does not exist' },
    );
  });
});

describe('kubeconfig sources', () => {
  it('the current context by default, every context with --all-contexts; a user or cluster shared by two contexts once', () => {
    const t = new TestPki();
    const kca = t.ca('kube-ca');
    const alice = t.leaf('alice', kca, { from: -1, to: 20 });
    const bob = t.leaf('bob', kca, { from: -10, to: -1 });
    const file = path.join(t.dir, 'config');
    const data = (pem: string) => Buffer.from(pem).toString('base64');
    writeFileSync(
      file,
      `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1", certificate-authority-data: ${data(kca.pem)}}
users:
- name: alice
  user: {client-certificate-data: ${data(alice.pem)}, client-key-data: eA==}
- name: bob
  user: {client-certificate: ${bob.cert}, client-key: ${bob.key}}
contexts:
- {name: a, context: {cluster: c, user: alice}}
- {name: b, context: {cluster: c, user: bob}}
- {name: a2, context: {cluster: c, user: alice}}
current-context: a
`,
    );
    const current = cli(['check-certs', '--offline', '--kubeconfig', file, '-o', 'json'], {
      KUBECONFIG: NO_KUBECONFIG,
    });
    assert.equal(current.status, ExitCode.CERTS_EXPIRING, current.stderr);
    assert.deepEqual(
      JSON.parse(current.stdout).certificates.map((c: CertReport) => [c.name, c.status, c.location]),
      [
        ['user alice client-certificate', 'expiring', 'context a'],
        ['cluster c certificate-authority', 'ok', 'context a'],
      ],
    );
    const all = cli(['check-certs', '--offline', '--kubeconfig', file, '--all-contexts', '-o', 'json'], {
      KUBECONFIG: NO_KUBECONFIG,
    });
    assert.equal(all.status, ExitCode.CERTS_EXPIRED, all.stderr);
    assert.deepEqual(
      JSON.parse(all.stdout).certificates.map((c: CertReport) => [c.name, c.status]),
      [
        ['user bob client-certificate', 'expired'],
        ['user alice client-certificate', 'expiring'],
        ['cluster c certificate-authority', 'ok'],
      ],
    );
    // -o name: the name of each certificate shown, one a line: with --expired-only, the ones to renew.
    const names = cli(
      ['check-certs', '--offline', '--kubeconfig', file, '--all-contexts', '--expired-only', '-o', 'name'],
      { KUBECONFIG: NO_KUBECONFIG },
    );
    assert.equal(names.status, ExitCode.CERTS_EXPIRED, names.stderr);
    assert.equal(names.stdout, 'user bob client-certificate\n');
  });
});

describe('judging a certificate at the exact instants (mutation testing)', () => {
  const at = (pem: string, now: number, warnMs = 0) =>
    first(judgeAll({ name: 'x', source: 'secret' }, pem, { now, warnMs }));
  const notAfter = Date.parse(new X509Certificate(valid.pem).validTo);
  const notBefore = Date.parse(new X509Certificate(valid.pem).validFrom);

  it('expired from the second of notAfter on, not a second before', () => {
    assert.equal(at(valid.pem, notAfter).status, 'expired');
    assert.equal(at(valid.pem, notAfter - 1000).status, 'ok');
  });

  it('not valid yet only before notBefore: at notBefore it is valid', () => {
    assert.equal(at(valid.pem, notBefore).status, 'ok');
    assert.equal(at(valid.pem, notBefore - 1000).status, 'invalid');
  });

  it('expiring when the time left is the warning window or less', () => {
    assert.equal(at(valid.pem, notAfter - 5000, 5000).status, 'expiring');
    assert.equal(at(valid.pem, notAfter - 5000, 4000).status, 'ok');
  });

  it('subject, issuer and SANs as one line each; a kubeconfig hint copies admin.conf only for admin.conf', () => {
    const r = first(judgeAll({ name: 'x', source: 'secret' }, valid.pem, j));
    assert.deepEqual(r.sans, ['DNS:rooms.example', 'IP Address:10.0.0.1']);
    assert.doesNotMatch(r.subject ?? '', /\n/);
    const other = first(
      judgeAll({ name: 'c', source: 'pki', kubeadmRenew: 'controller-manager.conf' }, expired.pem, j),
    );
    assert.match(other.hint ?? '', /^kubeadm certs renew controller-manager\.conf, then restart/);
    assert.doesNotMatch(other.hint ?? '', /copy admin\.conf/);
    assert.equal(DEFAULT_PKI_DIR, '/etc/kubernetes/pki');
  });
});

describe('the edges of parsing and judging (mutation testing)', () => {
  const der = Buffer.from(valid.pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
  /** A parsed certificate as judge reads it, with fields X509Certificate never gives. */
  const fake = (over: Partial<X509Certificate>): { cert: X509Certificate } => {
    const c = new X509Certificate(valid.pem);
    const { validFrom, validTo, subject, issuer, subjectAltName, serialNumber, ca } = c;
    const fields = { validFrom, validTo, subject, issuer, subjectAltName, serialNumber, ca };
    return { cert: { ...fields, ...over } as unknown as X509Certificate };
  };

  it('the CN of a name wherever it is; the whole name on one line without one', () => {
    assert.equal(commonName('O=games\nCN=rooms-ca'), 'rooms-ca');
    assert.equal(commonName('O=games\nOU=rooms'), 'O=games, OU=rooms');
  });

  it('whitespace alone is empty; DER given as text is still recognised as DER; a PEM Buffer parses', () => {
    assert.equal(first(one(' \n\t')).reason, 'empty');
    assert.deepEqual(parseCertificates(der.toString('latin1')), [
      { error: 'DER, not PEM: Kubernetes expects PEM here' },
    ]);
    const fromBuffer = parseCertificates(Buffer.from(valid.pem));
    assert.equal(fromBuffer.length, 1);
    assert.ok(fromBuffer[0] && 'cert' in fromBuffer[0]);
  });

  it('an invalid row keeps where it came from and its authority, with no SANs', () => {
    const r = judge(
      { name: 'x', source: 'pki', location: '/etc/kubernetes/pki/x.crt', authority: 'ca' },
      { error: 'empty' },
      j,
    );
    assert.deepEqual(
      [r.location, r.authority, r.sans, r.hint],
      ['/etc/kubernetes/pki/x.crt', 'ca', [], null],
    );
    assert.equal(judge({ name: 'x', source: 'secret' }, { error: 'empty' }, j).location, null);
  });

  it('dates that do not parse make an invalid row saying so, with no dates', () => {
    for (const dates of [
      { validFrom: 'soon', validTo: new X509Certificate(valid.pem).validTo },
      { validFrom: new X509Certificate(valid.pem).validFrom, validTo: 'later' },
    ]) {
      const r = judge({ name: 'x', source: 'secret' }, fake(dates), j);
      assert.equal(r.status, 'invalid');
      assert.match(r.reason ?? '', /^unreadable validity dates \(/);
    }
  });

  it('a name of several lines is one line; no SAN extension is no SANs', () => {
    const r = judge(
      { name: 'x', source: 'secret' },
      fake({ subject: 'CN=a\nO=b', issuer: 'CN=c\nO=d', subjectAltName: undefined }),
      j,
    );
    assert.deepEqual([r.subject, r.issuer, r.sans], ['CN=a, O=b', 'CN=c, O=d', []]);
  });

  it('a kubeconfig other than admin.conf: renew and restart, nothing more; no hint for a certificate no one renews', () => {
    const other = first(
      judgeAll({ name: 'c', source: 'pki', kubeadmRenew: 'controller-manager.conf' }, expired.pem, j),
    );
    assert.equal(
      other.hint,
      'kubeadm certs renew controller-manager.conf, then restart the control-plane static pods (move their manifests out of /etc/kubernetes/manifests and back, or restart kubelet)',
    );
    assert.equal(first(judgeAll({ name: 's', source: 'secret' }, expired.pem, j)).hint, null);
  });

  it('rows with the same expiry by status, then name; rows without a date by name', () => {
    const rows = [...one(valid.pem, 'b'), ...one(valid.pem, 'a'), ...one('junk', 'z'), ...one('', 'y')];
    assert.deepEqual(
      sortByExpiry(rows).map((r) => r.name),
      ['y', 'z', 'a', 'b'],
    );
    assert.deepEqual(
      sortByExpiry([...one('junk', 'z'), ...one(valid.pem, 'a')]).map((r) => r.name),
      ['z', 'a'],
    );
  });

  it('rows of the same status by expiry, soonest first, not by name', () => {
    const ok = { now, warnMs: 0 };
    const rows = [
      ...judgeAll({ name: 'a', source: 'secret' }, valid.pem, ok),
      ...judgeAll({ name: 'b', source: 'secret' }, expiring.pem, ok),
    ];
    assert.deepEqual(
      rows.map((r) => r.status),
      ['ok', 'ok'],
    );
    assert.deepEqual(
      sortByExpiry(rows).map((r) => r.name),
      ['b', 'a'],
    );
  });
});
