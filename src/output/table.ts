import Table from 'cli-table3';

import { terminalText } from './terminal.js';

/**
 * Above this many rows a table is laid out by plainTable: cli-table3's
 * layout checks every cell against every row and column span, which takes
 * over a second at 2500 rows (status at fleet size); plainTable takes
 * milliseconds, and test/unit/table.test.ts shows both give the same text.
 */
export const PLAIN_FROM_ROWS = 200;

/**
 * A kubectl-style table: upper-case headers, columns separated by three
 * spaces, no borders. `headers: false` leaves the header row out, as
 * kubectl's --no-headers does: the columns are then as wide as the rows need.
 * Cells quote the cluster (allocation metadata, a pod's reason): each is one
 * line of terminalText.
 */
export function renderTable(
  head: string[],
  rows: (string | number)[][],
  opts: { headers?: boolean } = {},
): string {
  const cells = rows.map((r) => r.map((c) => terminalText(String(c), { oneLine: true })));
  if (rows.length > PLAIN_FROM_ROWS) return plainTable(head, cells, opts);
  return cliTable(head, cells, opts);
}

/** cli-table3's layout of the table. */
export function cliTable(
  head: string[],
  rows: (string | number)[][],
  opts: { headers?: boolean } = {},
): string {
  const t = new Table({
    head: opts.headers === false ? [] : head,
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '   ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  t.push(...rows.map((r) => r.map(String)));
  return t
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** How wide a cell shows: its characters, less colour codes. */
const shown = (cell: string): number => cell.replace(ANSI, '').length;

/**
 * The same table laid out directly: each column as wide as its widest cell,
 * cells padded on the right, three spaces between columns, every line
 * trimmed at its end. For single-line cells of one-column-wide characters,
 * as every table here has.
 */
export function plainTable(
  head: string[],
  rows: (string | number)[][],
  opts: { headers?: boolean } = {},
): string {
  const all = [...(opts.headers === false || !head.length ? [] : [head]), ...rows.map((r) => r.map(String))];
  const widths: number[] = [];
  // A column is at least one wide, as cli-table3 lays it out, even when all its cells are empty.
  for (const r of all) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 1, shown(c))));
  return all
    .map((r) =>
      r
        .map((c, i) => c + ' '.repeat((widths[i] ?? 0) - shown(c)))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}
