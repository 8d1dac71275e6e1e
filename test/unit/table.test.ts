import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { cliTable, plainTable, PLAIN_FROM_ROWS, renderTable } from '../../src/output/table.js';

/** Text as tables here hold it: names, numbers, dashes, a middle dot, spaces. */
const plain = fc
  .array(fc.constantFrom('a', 'Z', '0', '7', '-', '.', '/', ':', ' ', '·'), { maxLength: 10 })
  .map((parts) => parts.join(''));

/** A cell: text, some of it coloured as chalk colours it on a terminal (every code closed again). */
const cell = fc
  .array(
    fc.oneof(
      plain,
      plain.map((t) => `\u001b[32m${t}\u001b[39m`),
      plain.map((t) => `\u001b[1m${t}\u001b[22m`),
    ),
    { maxLength: 3 },
  )
  .map((parts) => parts.join(''));

describe('renderTable: cli-table3 up to a few hundred rows, the plain layout beyond, the same text', () => {
  it('plainTable gives exactly what cli-table3 gives, for any table of such cells, with and without headers', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((cols) =>
          fc.tuple(
            fc.array(cell, { minLength: cols, maxLength: cols }),
            fc.array(
              fc.array(fc.oneof(cell, fc.integer({ min: 0, max: 99999 })), {
                minLength: cols,
                maxLength: cols,
              }),
              {
                maxLength: 15,
              },
            ),
            fc.boolean(),
          ),
        ),
        ([head, rows, headers]) => {
          assert.equal(plainTable(head, rows, { headers }), cliTable(head, rows, { headers }));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('a status-sized table (2500 rows) takes the plain layout, with the same text as cli-table3', () => {
    const rows = Array.from({ length: 2500 }, (_, i) => [
      i,
      `rooms-expose-pods-${i}`,
      'Running',
      'yes',
      `kwok-node-${i % 3}`,
    ]);
    const head = ['ORDINAL', 'POD', 'PHASE', 'READY', 'NODE'];
    assert.ok(rows.length > PLAIN_FROM_ROWS);
    const text = renderTable(head, rows);
    assert.equal(text, cliTable(head, rows));
    assert.equal(text.split('\n')[0], 'ORDINAL   POD                      PHASE     READY   NODE');
    assert.equal(text.split('\n')[2500], '2499      rooms-expose-pods-2499   Running   yes     kwok-node-0');
  });
});
