import { Flags } from '@oclif/core';

import { BaseCommand } from '../base-command.js';
import { durationFlag, kubeFlags, kubeFlagValues, noHeadersFlag, outputFlag } from '../flags.js';
import { DEFAULT_PKI_DIR, worstStatus } from '../core/certs.js';
import { ExitCode, ExposePodsError } from '../errors.js';
import type { CertsReport } from '../ops/check-certs.js';

export default class CheckCerts extends BaseCommand {
  static override summary =
    'Certificate expiry, as kubeadm certs check-expiration reports it, with an exit code for cron and CI.';

  static override description = `Reports every certificate reachable from here, soonest expiry first:
  serving     the chain the API server presents on a real TLS handshake (also with insecure-skip-tls-verify)
  kubeconfig  the current context's client certificate and cluster CA (--all-contexts: every context's)
  configmap   kube-root-ca.crt in the namespace
  secret      kubernetes.io/tls Secrets in the namespace (-A: all), tls.crt and ca.crt
  webhook     caBundle of Mutating and ValidatingWebhookConfigurations
  apiservice  caBundle of APIServices
  pki         the kubeadm layout under --pki-dir (default ${DEFAULT_PKI_DIR} when it exists and is readable): the certificates kubeadm certs check-expiration lists, the ones embedded in admin.conf, super-admin.conf, controller-manager.conf and scheduler.conf beside it, and the CAs in a second table

STATUS is ok, expiring (within --warn-within), expired, or invalid (not yet valid, malformed PEM, DER, a Secret without tls.crt; the reason follows). RESIDUAL TIME is kubeadm's: 364d, 9y, and negative once expired (-3d). Expiring kubeadm certificates get their kubeadm certs renew command; cert-manager's Secrets say that cert-manager renews them.

A source that cannot be read (RBAC, not found, unreachable) is skipped with a warning; the line on stderr says which were checked. -o json gives notBefore, notAfter, subject, issuer, SANs, serial, isCA and the source of each certificate. -o name prints the name of each certificate shown (kubeadm's), one per line: with --expired-only, the ones to renew.

Exit codes: 0 all ok; 11 something expires within --warn-within; 12 something is expired or invalid; 5 when the API server could not be reached and nothing read locally was wrong (--offline checks only local files).`;

  static override examples = [
    'kubectl expose-pods check-certs',
    {
      description:
        'Every namespace, warning 60 days ahead, for a nightly job (exit 11 expiring, 12 expired):',
      command: 'kubectl expose-pods check-certs -A --warn-within 60d',
    },
    {
      description: 'On a kubeadm control-plane node, like kubeadm certs check-expiration:',
      command: 'sudo kubectl expose-pods check-certs --pki-dir /etc/kubernetes/pki',
    },
    'kubectl expose-pods check-certs --expired-only -o json',
  ];

  static override flags = {
    ...kubeFlags,
    output: outputFlag(['table', 'json', 'yaml', 'name']),
    'no-headers': noHeadersFlag,
    'all-namespaces': Flags.boolean({
      char: 'A',
      description: 'TLS Secrets in every namespace, not only --namespace.',
      default: false,
    }),
    'all-contexts': Flags.boolean({
      description: "Every kubeconfig context's client certificate and CA, not only the current one's.",
      default: false,
    }),
    'pki-dir': Flags.string({
      description: `A kubeadm pki directory to check (default: ${DEFAULT_PKI_DIR} when it exists and is readable).`,
    }),
    'warn-within': durationFlag({
      description: 'Report expiring certificates within this long: 30d, 2w, 720h.',
      default: '30d',
      kind: 'long',
    }),
    'expired-only': Flags.boolean({
      description: 'Only expired and invalid certificates (the exit code still counts every one).',
      default: false,
    }),
    offline: Flags.boolean({
      description: 'Do not contact the cluster: only the kubeconfig and the pki dir.',
      default: false,
    }),
  };

  async run(): Promise<CertsReport> {
    const { flags } = await this.parse(CheckCerts);
    const { checkCerts } = await import('../ops/check-certs.js');
    const { formatCerts, formatSources } = await import('../output/certs.js');
    const { line, renderNames } = await import('../output/format.js');
    const warnMs = flags['warn-within'].ms;
    const report = await checkCerts({
      kube: kubeFlagValues(flags),
      allNamespaces: flags['all-namespaces'],
      allContexts: flags['all-contexts'],
      pkiDir: flags['pki-dir'],
      offline: flags.offline,
      judge: { now: Date.now(), warnMs },
    });
    for (const s of report.sources) {
      if (!s.checked) this.printer.warn(`skipped ${s.source}: ${s.detail ?? ''}`);
    }
    this.printer.info(formatSources(report));

    const shown = flags['expired-only']
      ? {
          ...report,
          certificates: report.certificates.filter((c) => c.status === 'expired' || c.status === 'invalid'),
        }
      : report;
    await this.print(shown, flags.output, {
      name: (r) => renderNames(r.certificates.map((c) => c.name)),
      table: (r) => line(formatCerts(r, { headers: !flags['no-headers'] })),
    });

    this.judge(report);
    return shown;
  }

  /** The exit code of what was read: 11 expired or invalid, 12 expiring, and 5 when the cluster was not reached. */
  private judge(report: CertsReport): void {
    const worst = worstStatus(report.certificates);
    if (worst === 'expired' || worst === 'invalid') this.exit(ExitCode.CERTS_EXPIRED);
    if (worst === 'expiring') this.exit(ExitCode.CERTS_EXPIRING);
    // Nothing wrong in what was read, but the cluster was not: that is not "all fine".
    if (report.unreachable) {
      throw new ExposePodsError(
        `the API server could not be reached (${report.unreachable}); only the kubeconfig${report.sources.some((s) => s.source === 'pki' && s.checked) ? ' and the pki dir were' : ' was'} checked`,
        ExitCode.CLUSTER_UNREACHABLE,
        'Check that the API server is up, or pass --offline to check only local files.',
      );
    }
  }
}
