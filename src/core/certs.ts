import { X509Certificate } from 'node:crypto';

/** kubeadm's certificate directory, which check-certs reads when it exists. */
export const DEFAULT_PKI_DIR = '/etc/kubernetes/pki';

/** Where a certificate was found. */
export type CertSource = 'serving' | 'kubeconfig' | 'configmap' | 'secret' | 'webhook' | 'apiservice' | 'pki';

export type CertStatus = 'ok' | 'expiring' | 'expired' | 'invalid';

/** What the caller knows about a certificate before parsing it. */
export interface CertOrigin {
  /** The certificate's name within its source: "apiserver", "game/rooms-tls tls.crt", ... */
  name: string;
  source: CertSource;
  /** Where exactly: a file, a URL, a namespace/name. */
  location?: string;
  /** kubeadm's CERTIFICATE AUTHORITY column ("ca", "etcd-ca"), for the kubeadm layout. */
  authority?: string;
  /** A kubeadm CA (its own table, as kubeadm prints it). */
  kubeadmCA?: boolean;
  /** `kubeadm certs renew <this>` renews it. */
  kubeadmRenew?: string;
  /** cert-manager's Certificate that owns the Secret (annotation cert-manager.io/certificate-name). */
  certManager?: string;
}

/** One row of `check-certs`, and one element of its -o json "certificates". */
export interface CertReport {
  name: string;
  source: CertSource;
  location: string | null;
  status: CertStatus;
  /** Why it is invalid, or null. */
  reason: string | null;
  notBefore: string | null;
  notAfter: string | null;
  /** kubeadm's RESIDUAL TIME: 364d, 9y; negative when expired (-3d). */
  residual: string | null;
  subject: string | null;
  issuer: string | null;
  sans: string[];
  serial: string | null;
  isCA: boolean | null;
  /** The CA name (kubeadm layout) or the issuer's CN. */
  authority: string | null;
  kubeadmCA: boolean;
  /** How to renew it, when it is expiring, expired or invalid and we know how. */
  hint: string | null;
}

/**
 * kubeadm's RESIDUAL TIME (k8s.io/apimachinery duration.ShortHumanDuration):
 * seconds, minutes, hours, days below a year, then years; a minus sign when
 * it has passed.
 */
export function residualTime(ms: number): string {
  if (ms < 0) return `-${residualTime(-ms)}`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  const days = Math.floor(s / 86_400);
  if (days < 365) return `${days}d`;
  return `${Math.floor(days / 365)}y`;
}

/** The CN of an X.509 name as Node prints it ("CN=x\nO=y"); the whole name without one. */
export function commonName(name: string): string {
  const cn = name.split('\n').find((l) => l.startsWith('CN='));
  return cn ? cn.slice(3) : name.replace(/\n/g, ', ');
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

export type Parsed = { cert: X509Certificate } | { error: string };

/**
 * Every certificate in a PEM bundle, in order. A CERTIFICATE block that does
 * not parse is an error in its place; other blocks (keys) are skipped; text
 * around the blocks is ignored as Go's pem.Decode ignores it. Input with no
 * block at all is one error, which says whether it is DER.
 */
export function parseCertificates(input: Buffer | string): Parsed[] {
  const text = typeof input === 'string' ? input : input.toString('latin1');
  const out: Parsed[] = [];
  let blocks = 0;
  for (const m of text.matchAll(PEM_BLOCK)) {
    blocks++;
    if (m[1] !== 'CERTIFICATE') continue;
    try {
      out.push({ cert: new X509Certificate(m[0]) });
    } catch (e) {
      out.push({ error: `a CERTIFICATE block does not parse (${(e as Error).message})` });
    }
  }
  if (blocks === 0) {
    if (!text.trim()) return [{ error: 'empty' }];
    if (text.includes('-----BEGIN')) return [{ error: 'a PEM block is not terminated' }];
    try {
      new X509Certificate(typeof input === 'string' ? Buffer.from(input, 'latin1') : input);
      return [{ error: 'DER, not PEM: Kubernetes expects PEM here' }];
    } catch {
      return [{ error: 'no PEM certificate in it' }];
    }
  } else if (!out.length) {
    return [{ error: 'no CERTIFICATE block in it' }];
  }
  return out;
}

/** Milliseconds since the epoch of an X509Certificate date ("Nov 22 05:00:00 2026 GMT"). */
function certDate(s: string): number {
  return Date.parse(s);
}

export interface Judge {
  now: number;
  /** --warn-within, in milliseconds. */
  warnMs: number;
}

function hintFor(origin: CertOrigin, status: CertStatus): string | null {
  if (status === 'ok') return null;
  if (origin.certManager) {
    return `cert-manager renews it (Certificate ${origin.certManager}); if it does not, see: kubectl describe certificate ${origin.certManager}`;
  }
  if (origin.kubeadmRenew) {
    const restart =
      'then restart the control-plane static pods (move their manifests out of /etc/kubernetes/manifests and back, or restart kubelet)';
    const copy = origin.kubeadmRenew === 'admin.conf' ? '; copy admin.conf to ~/.kube/config again' : '';
    return `kubeadm certs renew ${origin.kubeadmRenew}, ${restart}${copy}`;
  }
  if (origin.kubeadmCA) {
    return 'kubeadm does not renew CAs: rotate it by hand (https://kubernetes.io/docs/tasks/tls/manual-rotation-of-ca-certificates/)';
  }
  return null;
}

/** One report row: parsed, judged against now and the warning window, with a renewal hint. */
export function judge(origin: CertOrigin, parsed: Parsed, j: Judge): CertReport {
  const base = {
    name: origin.name,
    source: origin.source,
    location: origin.location ?? null,
    kubeadmCA: origin.kubeadmCA ?? false,
  };
  if ('error' in parsed) {
    return {
      ...base,
      status: 'invalid',
      reason: parsed.error,
      notBefore: null,
      notAfter: null,
      residual: null,
      subject: null,
      issuer: null,
      sans: [],
      serial: null,
      isCA: null,
      authority: origin.authority ?? null,
      hint: hintFor(origin, 'invalid'),
    };
  }
  const c = parsed.cert;
  const from = certDate(c.validFrom);
  const to = certDate(c.validTo);
  let status: CertStatus;
  let reason: string | null = null;
  if (Number.isNaN(from) || Number.isNaN(to)) {
    status = 'invalid';
    reason = `unreadable validity dates (${c.validFrom} to ${c.validTo})`;
  } else if (to <= j.now) {
    status = 'expired';
  } else if (from > j.now) {
    status = 'invalid';
    reason = `not valid before ${new Date(from).toISOString()}`;
  } else if (to - j.now <= j.warnMs) {
    status = 'expiring';
  } else {
    status = 'ok';
  }
  const selfSigned = c.subject === c.issuer;
  return {
    ...base,
    status,
    reason,
    notBefore: Number.isNaN(from) ? null : new Date(from).toISOString(),
    notAfter: Number.isNaN(to) ? null : new Date(to).toISOString(),
    residual: Number.isNaN(to) ? null : residualTime(to - j.now),
    subject: c.subject.replace(/\n/g, ', '),
    issuer: c.issuer.replace(/\n/g, ', '),
    // Node prints "DNS:a, IP Address:10.0.0.1" (undefined without the extension).
    sans: (c.subjectAltName ?? '').split(', ').filter(Boolean),
    serial: c.serialNumber,
    isCA: c.ca,
    authority: origin.authority ?? (selfSigned ? null : commonName(c.issuer)),
    hint: hintFor(origin, status),
  };
}

/** Every certificate of one PEM (or broken) input as report rows; a bundle's members get [1], [2]... */
export function judgeAll(origin: CertOrigin, input: Buffer | string, j: Judge): CertReport[] {
  const parsed = parseCertificates(input);
  return parsed.map((p, i) => judge(i === 0 ? origin : { ...origin, name: `${origin.name}[${i}]` }, p, j));
}

const RANK: Record<CertStatus, number> = { invalid: 0, expired: 1, expiring: 2, ok: 3 };

/** Soonest expiry first; invalid rows (no usable date) on top. */
export function sortByExpiry(rows: CertReport[]): CertReport[] {
  return [...rows].sort((a, b) => {
    const ta = a.notAfter ? Date.parse(a.notAfter) : -Infinity;
    const tb = b.notAfter ? Date.parse(b.notAfter) : -Infinity;
    return ta - tb || RANK[a.status] - RANK[b.status] || a.name.localeCompare(b.name);
  });
}

/** The worst status among the rows, for the exit code. */
export function worstStatus(rows: CertReport[]): CertStatus {
  let worst: CertStatus = 'ok';
  for (const r of rows) if (RANK[r.status] < RANK[worst]) worst = r.status;
  return worst;
}

/** kubeadm's EXPIRES column: "Nov 22, 2027 05:00 UTC". */
export function kubeadmDate(iso: string | null): string {
  if (!iso) return '-';
  const d = new Date(iso);
  const month = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${month} ${pad(d.getUTCDate())}, ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/**
 * The kubeadm layout, as `kubeadm certs check-expiration` lists it: the leaf
 * certificates (file under the pki dir, or a kubeconfig beside it) with their
 * CA, and the CAs.
 */
export const KUBEADM_CERTS: readonly {
  name: string;
  file: string;
  authority: string;
  kubeconfig?: boolean;
}[] = [
  { name: 'admin.conf', file: '../admin.conf', authority: 'ca', kubeconfig: true },
  { name: 'apiserver', file: 'apiserver.crt', authority: 'ca' },
  { name: 'apiserver-etcd-client', file: 'apiserver-etcd-client.crt', authority: 'etcd-ca' },
  { name: 'apiserver-kubelet-client', file: 'apiserver-kubelet-client.crt', authority: 'ca' },
  { name: 'controller-manager.conf', file: '../controller-manager.conf', authority: 'ca', kubeconfig: true },
  { name: 'etcd-healthcheck-client', file: 'etcd/healthcheck-client.crt', authority: 'etcd-ca' },
  { name: 'etcd-peer', file: 'etcd/peer.crt', authority: 'etcd-ca' },
  { name: 'etcd-server', file: 'etcd/server.crt', authority: 'etcd-ca' },
  { name: 'front-proxy-client', file: 'front-proxy-client.crt', authority: 'front-proxy-ca' },
  { name: 'scheduler.conf', file: '../scheduler.conf', authority: 'ca', kubeconfig: true },
  { name: 'super-admin.conf', file: '../super-admin.conf', authority: 'ca', kubeconfig: true },
];

export const KUBEADM_CAS: readonly { name: string; file: string }[] = [
  { name: 'ca', file: 'ca.crt' },
  { name: 'etcd-ca', file: 'etcd/ca.crt' },
  { name: 'front-proxy-ca', file: 'front-proxy-ca.crt' },
];
