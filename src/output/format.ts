import { stringify } from 'yaml';

import { terminalText } from './terminal.js';

export type StructuredFormat = 'json' | 'yaml';

/**
 * A result's printers: one per -o format it offers besides json and yaml
 * (text, table, wide, name, addresses, ...), each returning what goes to stdout.
 */
export type Printers<T> = Record<string, (result: T) => string>;

/**
 * The one -o dispatch, as kubectl's printers are chosen: json and yaml
 * serialise the result itself (so every command's -o json is its whole
 * result, with schemaVersion, values exactly as read); any other format is
 * the result's own printer, for a terminal: terminalText.
 */
export function render<T>(result: T, format: string, printers: Printers<T>): string {
  if (format === 'json' || format === 'yaml') return renderStructured(result, format);
  const print = printers[format];
  if (!print) throw new Error(`-o ${format} has no printer`);
  return terminalText(print(result));
}

/** A table or text block as this.log would print it: one trailing newline. */
export const line = (text: string): string => `${text}\n`;

/** Serialises a result for programs: stable key order as given, a trailing newline. */
export function renderStructured(data: unknown, format: StructuredFormat): string {
  return format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : stringify(data, { lineWidth: 0 });
}

/**
 * -o name: one name a line, as kubectl prints them: `kind/name` for a Kubernetes
 * object (`pod/web-0`), the bare name for what has no kind (a Helm release, a
 * certificate). Nothing at all for nothing, so `| xargs` does nothing.
 */
export function renderNames(names: readonly string[], kind?: string): string {
  return names.map((n) => `${kind ? `${kind}/` : ''}${n}\n`).join('');
}

/** What -o name needs of an object. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
}

/** kubectl's -o name of an object: its kind in lower case, then its API group if any: statefulset.apps/web, service/web-0. */
export function objectName(o: KubeObject): string {
  const slash = o.apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : `.${o.apiVersion.slice(0, slash)}`;
  return `${o.kind.toLowerCase()}${group}/${o.metadata.name}`;
}
