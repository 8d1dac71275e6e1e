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
const SECRET_WORD =
  /pass(word|wd|phrase)|(^|[-_])pass([-_]|$)|token|secret|credential|api[-_]?key|private[-_]?key/i;
/** Names of Secrets and of keys inside them, which are not secret themselves. */
const REFERENCE = /^existing|secretName$|secret(Key)?Ref$|^imagePullSecrets$/i;

/**
 * Whether a value, by its dotted path, is a secret that plans and diffs must
 * not show: one the chart's schema marks `writeOnly`, or whose name (any part
 * of the path) says password, token, secret, credential or API/private key.
 * `redis.auth.existingSecret` names a Secret and is shown.
 */
export function isSecretPath(path: string, marked: ReadonlySet<string> = new Set()): boolean {
  if (marked.has(path)) return true;
  return path.split('.').some(isSecretName);
}

/** Whether one name (a key, an env var, a flag without its dashes) says it holds a secret. */
function isSecretName(name: string): boolean {
  return SECRET_WORD.test(name) && !REFERENCE.test(name);
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

/**
 * A flag or an assignment in a command line, and its value: `--password=x`,
 * `--token x`, `PGPASSWORD=x`. The value is quoted or runs to the next space.
 */
const FLAG_VALUE = /(^|\s)(-{1,2}[A-Za-z][\w.-]*|[A-Za-z_][\w.-]*(?==))(=|\s+)("[^"]*"|'[^']*'|[^\s"']\S*)/g;
/** An argument that is a flag, not a flag's value. */
const FLAG = /^-{1,2}[A-Za-z]/;

/** A name with its leading dashes taken off: `--api-key` is `api-key`. */
const bare = (flag: string) => flag.replace(/^-+/, '');

/** A string with the values of its secret-looking flags and assignments redacted (`--password=<redacted>`). */
function redactFlags(text: string): string {
  return text.replace(FLAG_VALUE, (all, lead: string, name: string, sep: string, value: string) =>
    isSecretName(bare(name)) && !(sep !== '=' && FLAG.test(value)) ? `${lead}${name}${sep}${REDACTED}` : all,
  );
}

/**
 * A value with the secrets inside it redacted: under a key that names a
 * secret; the value of a {name, value} entry (a container's env) whose name
 * does; and in strings, the value of a secret-looking flag or assignment,
 * also when an args list has it as the next element (`["--token", "x"]`).
 */
function redactNested(v: unknown): unknown {
  if (typeof v === 'string') return redactFlags(v);
  if (Array.isArray(v))
    return v.map((x, i) => {
      const before: unknown = v[i - 1];
      const flagBefore =
        typeof before === 'string' &&
        FLAG.test(before) &&
        !before.includes('=') &&
        isSecretName(bare(before));
      return flagBefore && typeof x === 'string' && !FLAG.test(x) ? shown(x) : redactNested(x);
    });
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  const secretEntry = typeof o.name === 'string' && isSecretName(o.name);
  return Object.fromEntries(
    Object.entries(o).map(([k, x]) => [
      k,
      isSecretName(k) || (secretEntry && k === 'value') ? shown(x) : redactNested(x),
    ]),
  );
}

/**
 * Value changes with every secret value redacted; the change itself stays
 * listed. A secret path (isSecretPath) shows REDACTED whole; any other value
 * has the secrets inside it redacted (redactNested): arrays such as room.env
 * and room.args are values of their own, printed whole.
 */
export function redactValueChanges<T extends { path: string; from?: unknown; to?: unknown }>(
  changes: T[],
  marked: ReadonlySet<string> = new Set(),
): T[] {
  return changes.map((c) => {
    const redact = isSecretPath(c.path, marked) ? shown : redactNested;
    return {
      ...c,
      ...('from' in c ? { from: redact(c.from) } : {}),
      ...('to' in c ? { to: redact(c.to) } : {}),
    };
  });
}
