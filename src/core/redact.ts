import { parseAllDocuments } from 'yaml';

/** What a redacted Secret value reads as. */
export const REDACTED = '<redacted>';

/**
 * Rendered manifests with every Secret's data and stringData values replaced
 * by REDACTED, so a dry run in a CI log never shows a password. The keys,
 * comments and every other object stay as helm rendered them.
 */
export function redactSecrets(manifests: string): string {
  const docs = parseAllDocuments(manifests);
  if (!docs.some((d) => d.get('kind') === 'Secret')) return manifests;
  return docs
    .map((d) => {
      if (d.get('kind') === 'Secret') {
        for (const field of ['data', 'stringData']) {
          const m = d.get(field) as { items?: { key: unknown }[] } | undefined;
          for (const item of m?.items ?? [])
            d.setIn([field, String((item.key as { value?: unknown }).value ?? item.key)], REDACTED);
        }
      }
      return d.toString();
    })
    .join('');
}

/** A value name that holds a secret: a password, a token, a key that signs or decrypts. */
const SECRET_WORD = /pass(word|wd|phrase)|^pass$|token|secret|credential|api[-_]?key|private[-_]?key/i;
/** Names of Secrets and of keys inside them, which are not secret themselves. */
const REFERENCE = /^existing|secretName$|secretRef$|^imagePullSecrets$/i;

/**
 * Whether a value, by its dotted path, is a secret that plans and diffs must
 * not show: one the chart's schema marks `writeOnly`, or whose name (any part
 * of the path) says password, token, secret, credential or API/private key.
 * `redis.auth.existingSecret` names a Secret and is shown.
 */
export function isSecretPath(path: string, marked: ReadonlySet<string> = new Set()): boolean {
  if (marked.has(path)) return true;
  return path.split('.').some((part) => SECRET_WORD.test(part) && !REFERENCE.test(part));
}

/** The dotted paths a JSON schema marks `writeOnly: true` (nested `properties` only). */
export function writeOnlyPaths(schema: unknown, prefix = ''): Set<string> {
  const out = new Set<string>();
  const props = (schema as { properties?: Record<string, unknown> } | null)?.properties;
  if (typeof props !== 'object') return out;
  for (const [key, sub] of Object.entries(props)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if ((sub as { writeOnly?: unknown } | null)?.writeOnly === true) out.add(path);
    for (const p of writeOnlyPaths(sub, path)) out.add(p);
  }
  return out;
}

/** A secret value as shown: REDACTED, but an unset or empty one as it is (it reveals nothing). */
function shown(v: unknown): unknown {
  return v === undefined || v === null || v === '' ? v : REDACTED;
}

/** Value changes with every secret value (isSecretPath) replaced by REDACTED; the change itself stays listed. */
export function redactValueChanges<T extends { path: string; from?: unknown; to?: unknown }>(
  changes: T[],
  marked: ReadonlySet<string> = new Set(),
): T[] {
  return changes.map((c) =>
    isSecretPath(c.path, marked)
      ? {
          ...c,
          ...('from' in c ? { from: shown(c.from) } : {}),
          ...('to' in c ? { to: shown(c.to) } : {}),
        }
      : c,
  );
}
