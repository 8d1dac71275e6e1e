import { kubeadmDate, type CertReport } from '../core/certs.js';
import type { CertsReport } from '../ops/check-certs.js';
import { renderTable } from './table.js';

const STATUS_TEXT = (r: CertReport) => (r.reason ? `${r.status}: ${r.reason}` : r.status);

/**
 * kubeadm's shape: certificates first, then (when a pki dir was read) its CAs
 * in a second table, as `kubeadm certs check-expiration` prints them.
 */
export function formatCerts(report: CertsReport, opts: { headers?: boolean } = {}): string {
  const rows = report.certificates.filter((r) => !r.kubeadmCA);
  const cas = report.certificates.filter((r) => r.kubeadmCA);
  const parts = [
    rows.length
      ? renderTable(
          ['CERTIFICATE', 'SOURCE', 'EXPIRES', 'RESIDUAL TIME', 'CERTIFICATE AUTHORITY', 'STATUS'],
          rows.map((r) => [
            r.name,
            r.source,
            kubeadmDate(r.notAfter),
            r.residual ?? '-',
            r.authority ?? (r.isCA ? '(self-signed)' : '-'),
            STATUS_TEXT(r),
          ]),
          opts,
        )
      : 'No certificates found.',
  ];
  if (cas.length) {
    parts.push(
      renderTable(
        ['CERTIFICATE AUTHORITY', 'SOURCE', 'EXPIRES', 'RESIDUAL TIME', 'STATUS'],
        cas.map((r) => [r.name, r.source, kubeadmDate(r.notAfter), r.residual ?? '-', STATUS_TEXT(r)]),
        opts,
      ),
    );
  }
  const hints = report.certificates.filter((r) => r.hint);
  if (hints.length) {
    parts.push(['To renew:', ...hints.map((r) => `  ${r.name}: ${r.hint ?? ''}`)].join('\n'));
  }
  return parts.join('\n\n');
}

/** The one-line account of which sources were read, for stderr. */
export function formatSources(report: CertsReport): string {
  const checked = report.sources.filter((s) => s.checked).map((s) => `${s.source} (${s.certificates})`);
  return `checked: ${checked.join(', ') || 'nothing'}`;
}
