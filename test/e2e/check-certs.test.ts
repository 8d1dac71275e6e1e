import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { parse, stringify } from 'yaml';

import { TestPki } from '../support/certs.js';
import { CLUSTER, printClusterLogsOnFailure, userShell } from '../support/e2e.js';
import { HELMS } from '../support/tools.js';

after(printClusterLogsOnFailure);

describe('check-certs against the real control plane', () => {
  const sh = userShell(HELMS[1].path);
  const pki = new TestPki();
  const issuer = pki.ca('e2e-issuer');
  const expiredLeaf = pki.leaf('old.example', issuer, { from: -400, to: -2 }, ['DNS:old.example']);
  const soonLeaf = pki.leaf('soon.example', issuer, { from: -300, to: 12 }, ['DNS:soon.example']);
  const okLeaf = pki.leaf('fine.example', issuer, { from: -1, to: 300 }, ['DNS:fine.example']);

  const tlsSecret = (ns: string, name: string, leaf: { cert: string; key: string }) => {
    sh.kubectl('delete', 'secret', name, '-n', ns, '--ignore-not-found');
    const r = sh.kubectl('create', 'secret', 'tls', name, '-n', ns, '--cert', leaf.cert, '--key', leaf.key);
    assert.equal(r.status, 0, r.stderr);
  };

  before(() => {
    for (const ns of ['e2e-certs-ok', 'e2e-certs-soon', 'e2e-certs-old']) {
      const r = sh.kubectl('create', 'namespace', ns);
      // A re-run against the same cluster finds them.
      assert.ok(r.status === 0 || /AlreadyExists/.test(r.stderr), r.stderr);
    }
    tlsSecret('e2e-certs-ok', 'fine', okLeaf);
    tlsSecret('e2e-certs-soon', 'fine', okLeaf);
    tlsSecret('e2e-certs-soon', 'soon', soonLeaf);
    tlsSecret('e2e-certs-old', 'old', expiredLeaf);
  });

  it("reads the API server's real serving certificate through a TLS handshake, and the kubeconfig's", () => {
    const r = sh.kubectl('expose-pods', 'check-certs', '-n', 'e2e-certs-ok', '-o', 'json');
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.schemaVersion, 1);

    const onDisk = new X509Certificate(readFileSync(path.join(CLUSTER.CLUSTER_RUN, 'pki/apiserver.crt')));
    const serving = report.certificates.filter((c: any) => c.source === 'serving');
    assert.equal(serving.length, 1, 'the harness serves the leaf alone');
    assert.equal(serving[0].serial, onDisk.serialNumber);
    assert.equal(serving[0].notAfter, new Date(onDisk.validTo).toISOString());
    assert.equal(serving[0].subject, 'CN=kube-apiserver');
    assert.ok(serving[0].sans.includes('IP Address:127.0.0.1'), serving[0].sans.join(', '));
    assert.equal(serving[0].authority, 'expose-pods-e2e-ca');

    const admin = new X509Certificate(readFileSync(path.join(CLUSTER.CLUSTER_RUN, 'pki/admin.crt')));
    const client = report.certificates.find(
      (c: any) => c.name === 'user expose-pods-admin client-certificate',
    );
    assert.equal(client?.serial, admin.serialNumber);
    assert.ok(
      report.certificates.some((c: any) => c.name === 'e2e-certs-ok/kube-root-ca.crt ca.crt' && c.isCA),
    );
    assert.ok(
      report.certificates.some((c: any) => c.name === 'e2e-certs-ok/fine tls.crt' && c.status === 'ok'),
    );
    assert.deepEqual(
      report.sources.map((s: any) => [s.source, s.checked]),
      [
        ['kubeconfig', true],
        ['serving', true],
        ['configmap', true],
        ['secret', true],
        ['webhook', true],
        ['apiservice', true],
      ],
    );
    assert.match(
      r.stderr,
      /^checked: kubeconfig \(2\), serving \(1\), configmap \(1\), secret \(1\), webhook \(0\), apiservice \(0\)$/m,
    );
  });

  it('a TLS Secret expiring within --warn-within exits 11; a 7d window does not count it', () => {
    const r = sh.kubectl('expose-pods', 'check-certs', '-n', 'e2e-certs-soon');
    assert.equal(r.status, 11, r.stderr);
    assert.match(
      r.stdout,
      /^e2e-certs-soon\/soon tls\.crt +secret +\w{3} \d\d, \d{4} \d\d:\d\d UTC +1[12]d +e2e-issuer +expiring$/m,
    );
    // Soonest first: the expiring Secret is the first row.
    assert.match(r.stdout.split('\n')[1] ?? '', /^e2e-certs-soon\/soon tls\.crt /);
    const narrow = sh.kubectl('expose-pods', 'check-certs', '-n', 'e2e-certs-soon', '--warn-within', '7d');
    assert.equal(narrow.status, 0, narrow.stderr);
  });

  it('an expired TLS Secret exits 12; --expired-only shows just it; -A finds it from anywhere', () => {
    const r = sh.kubectl('expose-pods', 'check-certs', '-n', 'e2e-certs-old', '--expired-only', '-o', 'json');
    assert.equal(r.status, 12, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(
      report.certificates.map((c: any) => [c.name, c.status, c.residual]),
      [['e2e-certs-old/old tls.crt', 'expired', '-2d']],
    );
    const all = sh.kubectl('expose-pods', 'check-certs', '-A', '-o', 'json');
    assert.equal(all.status, 12, all.stderr);
    const names = JSON.parse(all.stdout).certificates.map((c: any) => c.name);
    for (const n of ['e2e-certs-old/old tls.crt', 'e2e-certs-soon/soon tls.crt', 'e2e-certs-ok/fine tls.crt'])
      assert.ok(names.includes(n), n);
  });

  it('insecure-skip-tls-verify in the kubeconfig: the serving chain is still read', () => {
    const kc = parse(readFileSync(CLUSTER.KUBECONFIG, 'utf8'));
    delete kc.clusters[0].cluster['certificate-authority-data'];
    kc.clusters[0].cluster['insecure-skip-tls-verify'] = true;
    const file = path.join(pki.dir, 'insecure.kubeconfig');
    writeFileSync(file, stringify(kc));
    const r = sh.kubectl(
      'expose-pods',
      'check-certs',
      '--kubeconfig',
      file,
      '-n',
      'e2e-certs-ok',
      '-o',
      'json',
    );
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.certificates.filter((c: any) => c.source === 'serving').length, 1);
    assert.ok(!report.certificates.some((c: any) => c.name.includes('certificate-authority')));
  });

  it('an unreachable API server: the kubeconfig is still checked and shown, then exit 5; --offline exits 0', () => {
    const kc = parse(readFileSync(CLUSTER.KUBECONFIG, 'utf8'));
    kc.clusters[0].cluster.server = 'https://127.0.0.1:1';
    const file = path.join(pki.dir, 'down.kubeconfig');
    writeFileSync(file, stringify(kc));
    const r = sh.kubectl('expose-pods', 'check-certs', '--kubeconfig', file, '--request-timeout', '5s');
    assert.equal(r.status, 5, r.stderr);
    assert.match(
      r.stderr,
      /^warning: skipped serving: no TLS handshake with https:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/m,
    );
    assert.match(r.stderr, /^warning: skipped secret: the API server is unreachable$/m);
    assert.match(r.stderr, /^checked: kubeconfig \(2\)$/m);
    assert.match(
      r.stderr,
      /^error: the API server could not be reached \(.*\); only the kubeconfig was checked$/m,
    );
    assert.match(r.stdout, /^user expose-pods-admin client-certificate +kubeconfig .* ok$/m);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
    const offline = sh.kubectl('expose-pods', 'check-certs', '--kubeconfig', file, '--offline');
    assert.equal(offline.status, 0, offline.stderr);
    assert.equal(offline.stderr, 'checked: kubeconfig (2)\n');
  });
});
