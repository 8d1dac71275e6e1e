import { stringify } from 'yaml';

export type StructuredFormat = 'json' | 'yaml';

/** Serialises a result for programs: stable key order as given, a trailing newline. */
export function renderStructured(data: unknown, format: StructuredFormat): string {
  return format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : stringify(data, { lineWidth: 0 });
}
