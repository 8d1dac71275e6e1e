import Table from 'cli-table3';

/**
 * A kubectl-style table: upper-case headers, columns separated by three
 * spaces, no borders. `headers: false` leaves the header row out, as
 * kubectl's --no-headers does: the columns are then as wide as the rows need.
 */
export function renderTable(
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
