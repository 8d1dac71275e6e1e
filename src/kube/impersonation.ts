/**
 * A kubeconfig user's impersonation (`as`, `as-uid`, `as-groups`,
 * `as-user-extra`), carried through to every request this process sends and
 * to the kubeconfig its helm gets, so that the permission pre-check and
 * helm's writes act as the same identity. client-node keeps only `as`, so the
 * fields are read from the kubeconfig files themselves.
 */
import { readFileSync } from 'node:fs';

import { parse } from 'yaml';

import { UsageError } from '../errors.js';

export interface Impersonation {
  user?: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/** The impersonation of one raw kubeconfig `user:` entry; undefined when it has none. */
export function impersonationOf(raw: unknown): Impersonation | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const u = raw as Record<string, unknown>;
  const extraRaw = u['as-user-extra'];
  const extra: Record<string, string[]> = {};
  if (extraRaw && typeof extraRaw === 'object')
    for (const [k, v] of Object.entries(extraRaw as Record<string, unknown>)) extra[k] = strings(v);
  const i: Impersonation = {
    ...(typeof u.as === 'string' && u.as && { user: u.as }),
    ...(typeof u['as-uid'] === 'string' && u['as-uid'] && { uid: u['as-uid'] }),
    groups: strings(u['as-groups']),
    extra,
  };
  return i.user || i.uid || i.groups.length || Object.keys(extra).length ? i : undefined;
}

/** Each user's impersonation in the kubeconfig files, merged as kubectl merges them: the first file to name a user wins. */
export function readImpersonations(files: readonly string[]): Map<string, Impersonation | undefined> {
  const out = new Map<string, Impersonation | undefined>();
  for (const f of files) {
    const doc = parse(readFileSync(f, 'utf8'), { uniqueKeys: false }) as {
      users?: { name?: unknown; user?: unknown }[];
    } | null;
    for (const entry of doc?.users ?? [])
      if (typeof entry.name === 'string' && !out.has(entry.name))
        out.set(entry.name, impersonationOf(entry.user));
  }
  return out;
}

/** A byte a header name may hold as it is (net/http's token table); the rest is %-encoded, as client-go does. */
const TOKEN = /^[!#$&'*+\-.^_`|~0-9A-Za-z]$/;

/** An extra's key in its header name, escaped as client-go's headerKeyEscape does. */
export function headerKeyEscape(key: string): string {
  return [...Buffer.from(key, 'utf8')]
    .map((b) => {
      const c = String.fromCharCode(b);
      return b < 0x80 && TOKEN.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/**
 * The headers client-go sends for an impersonation. One value each: the API
 * client sends a header once, and a header repeated as "a,b" would name one
 * group "a,b", so several groups (or values of one extra) are refused (refuseUnsendable).
 */
export function impersonationHeaders(i: Impersonation): Record<string, string> {
  const h: Record<string, string> = {};
  if (i.user) h['Impersonate-User'] = i.user;
  if (i.uid) h['Impersonate-Uid'] = i.uid;
  if (i.groups[0] !== undefined) h['Impersonate-Group'] = i.groups[0];
  for (const [k, [v]] of Object.entries(i.extra))
    if (v !== undefined) h[`Impersonate-Extra-${headerKeyEscape(k)}`] = v;
  return h;
}

/** Exit 2 for an impersonation our requests cannot carry whole: the checks would run as another identity than helm. */
export function refuseUnsendable(i: Impersonation, user: string): void {
  const several = [
    ...(i.groups.length > 1 ? [`as-groups (${i.groups.join(', ')})`] : []),
    ...Object.entries(i.extra)
      .filter(([, v]) => v.length > 1)
      .map(([k, v]) => `as-user-extra ${k} (${v.join(', ')})`),
  ];
  if (several.length)
    throw new UsageError(
      `the kubeconfig user ${user} impersonates with several values of ${several.join(' and ')}: this plugin can send only one of each, so its permission checks would act as another identity than the helm it runs; nothing was done`,
      'Use a context whose user impersonates one group (and one value per extra), or run the command without impersonation.',
    );
}

/** The kubeconfig fields of an impersonation, for the user entry of helm's kubeconfig. */
export function impersonationFields(i: Impersonation): Record<string, unknown> {
  return {
    ...(i.user && { as: i.user }),
    ...(i.uid && { 'as-uid': i.uid }),
    ...(i.groups.length && { 'as-groups': i.groups }),
    ...(Object.keys(i.extra).length && { 'as-user-extra': i.extra }),
  };
}

const carried = new WeakMap<object, Impersonation>();

/**
 * Makes every request of `kc` carry `i` (typed clients, plain-JSON lists and
 * watches all take their headers from its applyOptions), and remembers it for helm's kubeconfig.
 */
export function carryImpersonation(kc: object, i: Impersonation, user: string): void {
  refuseUnsendable(i, user);
  const headers = impersonationHeaders(i);
  const k = kc as { applyOptions: (o: { headers?: Record<string, string> }) => Promise<void> };
  const own = k.applyOptions.bind(kc);
  k.applyOptions = async (o) => {
    await own(o);
    o.headers = { ...o.headers, ...headers };
  };
  carried.set(kc, i);
}

/** The impersonation carryImpersonation gave `kc`, if any. */
export function carriedImpersonation(kc: object): Impersonation | undefined {
  return carried.get(kc);
}
