import type { Endpoint } from '../core/endpoints.js';
import { formatEndpoints } from './endpoints.js';
import { renderNames, renderStructured } from './format.js';

/** One room as allocate and deallocate print it: an endpoints row, its -o json object, or pod/NAME. */
export function printRoom(
  endpoint: Endpoint,
  output: 'table' | 'wide' | 'json' | 'yaml' | 'name',
  opts: { headers: boolean },
): string {
  if (output === 'json' || output === 'yaml') return renderStructured(endpoint, output);
  if (output === 'name') return renderNames([endpoint.pod], 'pod');
  return `${formatEndpoints([endpoint], output === 'wide', opts)}\n`;
}
