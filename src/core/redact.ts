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
