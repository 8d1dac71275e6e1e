import type { Endpoint } from '../core/endpoints.js';
import { formatEndpoints } from './endpoints.js';
import { renderNames, type Printers } from './format.js';

/** One room as allocate and deallocate print it: an endpoints row (table, wide), or pod/NAME; -o json is the row's object. */
export function roomPrinters(opts: { headers: boolean }): Printers<Endpoint> {
  return {
    table: (e) => `${formatEndpoints([e], false, opts)}\n`,
    wide: (e) => `${formatEndpoints([e], true, opts)}\n`,
    name: (e) => renderNames([e.pod], 'pod'),
  };
}
